package content

import (
	"strings"
	"testing"
)

func TestRenderMarkdown(t *testing.T) {
	tests := []struct {
		md     string
		inline bool
		want   string
	}{
		{"Run `docker ps -a`", true, "Run <code>docker ps -a</code>"},
		{"Use `docker run -it <image_id> sh`.", true, `Use <code>docker run -it <span class="placeholder">&lt;image_id&gt;</span> sh</code>.`},
		{"One.\n\nTwo.", true, "<p>One.</p>\n<p>Two.</p>"},
		{"**Why:** it binds to `127.0.0.1`.", false, "<p><strong>Why:</strong> it binds to <code>127.0.0.1</code>.</p>"},
		{"Hi <script>alert(1)</script>", true, "Hi alert(1)"},
	}
	for _, tt := range tests {
		got := strings.TrimSpace(string(RenderMarkdown(tt.md, tt.inline)))
		if got != tt.want {
			t.Errorf("RenderMarkdown(%q, %v) = %q, want %q", tt.md, tt.inline, got, tt.want)
		}
	}
}
