package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunContentCheck(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"embedded course is valid", []string{"../../content"}, 0, "content is valid"},
		{"broken frontmatter with file and line", []string{"../../content/testdata/broken"}, 1,
			filepath.FromSlash("../../content/testdata/broken/course/steps/01-alpha/guided.md") + ":3: frontmatter: invalid YAML"},
		{"unknown check id", []string{"../../content/testdata/broken"}, 1, `frontmatter: unknown check id "foo"`},
		{"usage", nil, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runContentCheck(tt.args, &stdout, &stderr)
			if code != tt.wantCode || !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("code %d, stdout:\n%s\nstderr:\n%s\nwant code %d and %q", code, stdout.String(), stderr.String(), tt.wantCode, tt.wantOut)
			}
		})
	}
}
