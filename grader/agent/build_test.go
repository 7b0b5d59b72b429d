package agent

import (
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/coursekit/workshop/internal/testenv"
)

func TestBuildBinaries(t *testing.T) {
	_, err := exec.LookPath("go")
	testenv.Require(t, "go toolchain", err)
	old := buildPackage
	buildPackage = "./grader/agent/testdata/hello"
	t.Cleanup(func() { buildPackage = old })
	out := t.TempDir()
	if err := BuildBinaries(context.Background(), out, nil); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sums := ParseChecksums(data)
	for arch, machine := range map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64} {
		name := "workshop-linux-" + arch
		path := filepath.Join(out, name)
		f, err := elf.Open(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f.Machine != machine {
			t.Errorf("%s is for %v", name, f.Machine)
		}
		f.Close()
		if sum, _ := fileSHA256(path); sums[name] != sum || sum == "" {
			t.Errorf("SHA256SUMS says %q for %s, file is %q", sums[name], name, sum)
		}
	}
	if err := BuildBinaries(context.Background(), out, []string{"amd64; rm -rf /"}); err == nil {
		t.Error("a bad GOARCH was accepted")
	}
}
