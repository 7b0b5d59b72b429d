package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coursekit/workshop/content"
)

// student types the course's commands into a shell, in a folder, the way
// the pages write them. Every command is first looked up in the page's
// markdown, so the test cannot drift from what students read.
type student struct {
	t    *testing.T
	dir  string            // the shell's current folder
	page string            // the markdown of the page being followed
	file string            // its path in the content
	vals map[string]string // placeholder values: <host_ip>, ...
	// built are the image ids the classic builder printed (" ---> id"),
	// for the clean-up of untagged build stages.
	built map[string]bool
}

// open makes the student follow a page of the embedded course.
func (s *student) open(file string) {
	s.t.Helper()
	b, err := fs.ReadFile(content.DefaultFS(), file)
	if err != nil {
		s.t.Fatal(err)
	}
	s.page, s.file = string(b), file
	s.t.Logf("===== %s", file)
}

// fill replaces the placeholders of a page command with this run's values;
// vals adds one-off ones ("<container_id>", "4b1e").
func (s *student) fill(cmd string, vals ...string) string {
	s.t.Helper()
	if !strings.Contains(s.page, cmd) {
		s.t.Fatalf("%s does not show the command\n%s", s.file, cmd)
	}
	for i := 0; i+1 < len(vals); i += 2 {
		cmd = strings.ReplaceAll(cmd, vals[i], vals[i+1])
	}
	for k, v := range s.vals {
		cmd = strings.ReplaceAll(cmd, k, v)
	}
	if m := regexp.MustCompile(`<[a-z_]+>`).FindString(cmd); m != "" {
		s.t.Fatalf("no value for %s in %q", m, cmd)
	}
	return cmd
}

// try runs a page command with bash in the current folder and returns its
// output and error.
func (s *student) try(cmd string, vals ...string) (string, error) {
	s.t.Helper()
	line := s.fill(cmd, vals...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", "-c", line)
	c.Dir = s.dir
	out, err := c.CombinedOutput()
	s.note(line, string(out), err)
	return string(out), err
}

// run is try for a command that must succeed.
func (s *student) run(cmd string, vals ...string) string {
	s.t.Helper()
	out, err := s.try(cmd, vals...)
	if err != nil {
		s.t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	return out
}

// simulate runs a command the page does not show, standing in for what
// the student does elsewhere (a browser on the public address).
func (s *student) simulate(cmd string) string {
	s.t.Helper()
	saved := s.page
	defer func() { s.page = saved }()
	s.page += "\n" + cmd
	s.t.Log("(in the student's browser)")
	return s.run(cmd)
}

// shows fails the test unless out contains every want.
func (s *student) shows(out string, want ...string) {
	s.t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			s.t.Errorf("the output lacks %q:\n%s", w, out)
		}
	}
}

var builtID = regexp.MustCompile(`(?m)^ ---> ([0-9a-f]{12})\s*$|Successfully built ([0-9a-f]{12})`)

// note logs a command and its output, shortened, and remembers the images
// a build made.
func (s *student) note(line, out string, err error) {
	for _, m := range builtID.FindAllStringSubmatch(out, -1) {
		s.built[m[1]+m[2]] = true
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(out, "\r", ""), "\n"), "\n")
	if len(lines) > 12 {
		lines = append(append(lines[:4:4], fmt.Sprintf("… %d lines …", len(lines)-10)), lines[len(lines)-6:]...)
	}
	status := ""
	if err != nil {
		status = fmt.Sprintf("  [%v]", err)
	}
	s.t.Logf("$ %s%s\n%s", line, status, strings.Join(lines, "\n"))
}

// terminal is a command running with a terminal attached (script(1) gives
// it a pseudo-terminal, as an SSH session would): the test reads its screen
// and types keys, Ctrl-C and Ctrl-P Ctrl-Q included.
type terminal struct {
	s    *student
	line string
	cmd  *exec.Cmd
	in   io.WriteCloser
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

// Keys as a terminal sends them.
const (
	ctrlC  = "\x03"
	detach = "\x10\x11" // Ctrl-P Ctrl-Q
)

// start runs a page command in a terminal.
func (s *student) start(cmd string, vals ...string) *terminal {
	s.t.Helper()
	tm := &terminal{s: s, line: s.fill(cmd, vals...), done: make(chan error, 1)}
	tm.cmd = exec.Command("script", "-qefc", tm.line, "/dev/null")
	tm.cmd.Dir = s.dir
	tm.cmd.Stdout, tm.cmd.Stderr = tm, tm
	var err error
	if tm.in, err = tm.cmd.StdinPipe(); err != nil {
		s.t.Fatal(err)
	}
	if err := tm.cmd.Start(); err != nil {
		s.t.Fatalf("script: %v", err)
	}
	go func() { tm.done <- tm.cmd.Wait() }()
	s.t.Cleanup(func() { _ = tm.cmd.Process.Kill() })
	return tm
}

// Write collects the screen.
func (tm *terminal) Write(p []byte) (int, error) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.Write(p)
}

func (tm *terminal) screen() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return strings.ReplaceAll(tm.out.String(), "\r", "")
}

// waitFor waits until the screen shows text.
func (tm *terminal) waitFor(text string) {
	tm.s.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(tm.screen(), text) {
		if time.Now().After(deadline) {
			tm.s.t.Fatalf("%s: the screen never showed %q:\n%s", tm.line, text, tm.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// typeKeys sends keys to the terminal.
func (tm *terminal) typeKeys(keys string) {
	tm.s.t.Helper()
	if _, err := io.WriteString(tm.in, keys); err != nil {
		tm.s.t.Fatalf("%s: type: %v", tm.line, err)
	}
}

// exit waits for the command to end and returns what the screen showed.
func (tm *terminal) exit() string {
	tm.s.t.Helper()
	select {
	case err := <-tm.done:
		out := tm.screen()
		tm.s.note(tm.line+"   (in a terminal)", out, err)
		return out
	case <-time.After(60 * time.Second):
		tm.s.t.Fatalf("%s did not end:\n%s", tm.line, tm.screen())
	}
	return ""
}

// waitPort waits until something accepts connections on a local port,
// and the app behind it answers HTTP.
func waitPort(t *testing.T, port int) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			_, _ = io.WriteString(c, "HEAD / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
			b := make([]byte, 12)
			n, _ := io.ReadFull(c, b)
			c.Close()
			if n > 0 && strings.HasPrefix(string(b[:n]), "HTTP/") {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("nothing answers HTTP on %s", addr)
}

// docker runs a docker command outside the course (setup and clean-up).
func docker(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// firstColumn returns the first field of the lines of a docker table that
// contain every one of want (the CONTAINER ID or REPOSITORY column).
func firstColumn(table string, want ...string) []string {
	var out []string
lines:
	for _, l := range strings.Split(table, "\n") {
		for _, w := range want {
			if !strings.Contains(l, w) {
				continue lines
			}
		}
		if f := strings.Fields(l); len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}

// column returns field i of the first line of a docker table that
// contains every one of want.
func column(table string, i int, want ...string) string {
lines:
	for _, l := range strings.Split(table, "\n") {
		for _, w := range want {
			if !strings.Contains(l, w) {
				continue lines
			}
		}
		if f := strings.Fields(l); len(f) > i {
			return f[i]
		}
	}
	return ""
}

// codeBlock returns the first fenced block of the given language after
// the heading in the page's markdown.
func (s *student) codeBlock(heading, lang string) string {
	s.t.Helper()
	i := strings.Index(s.page, heading)
	if i < 0 {
		s.t.Fatalf("%s has no %q", s.file, heading)
	}
	rest := s.page[i:]
	j := strings.Index(rest, "```"+lang+"\n")
	if j < 0 {
		s.t.Fatalf("%s: no %s block after %q", s.file, lang, heading)
	}
	rest = rest[j+len("```"+lang+"\n"):]
	return rest[:strings.Index(rest, "```")]
}

// instructions are a Dockerfile's lines without comments and blank lines.
func instructions(dockerfile string) []string {
	var out []string
	for _, l := range strings.Split(dockerfile, "\n") {
		if k := strings.Index(l, " #"); k >= 0 {
			l = l[:k]
		}
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// writeFile writes a file into the student's current folder.
func (s *student) writeFile(name, data string) {
	must(s.t, os.WriteFile(s.dir+"/"+name, []byte(data), 0o644))
}
