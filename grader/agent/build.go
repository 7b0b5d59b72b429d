package agent

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// modulePath is the module whose source BuildBinaries looks for.
const modulePath = "github.com/coursekit/workshop"

// buildPackage is what BuildBinaries compiles; tests point it at a tiny
// program.
var buildPackage = "./cmd/workshop"

var goarchName = regexp.MustCompile(`^[a-z0-9]+$`)

// BuildBinaries cross-compiles the workshop binary for linux on each GOARCH
// (amd64 and arm64 when goarches is empty) into outDir as
// workshop-linux-ARCH, static (CGO_ENABLED=0), stamped with this binary's
// Version, and writes outDir/SHA256SUMS: what the install script downloads
// from SERVER/downloads/.
//
// It needs the Go toolchain on the PATH and the module's source: the
// directory in WORKSHOP_SOURCE_DIR, else the first directory from the
// working directory upwards whose go.mod declares the module. Where neither
// is present (a server installed from a release), the release build ships
// the binaries instead and this returns an error saying so. Files are
// written under temporary names and renamed, so a server that serves
// outDir never serves half a binary.
func BuildBinaries(ctx context.Context, outDir string, goarches []string) error {
	if len(goarches) == 0 {
		goarches = []string{"amd64", "arm64"}
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("agent: build binaries: no Go toolchain: %w", err)
	}
	src, err := sourceDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("agent: build binaries: %w", err)
	}
	sums := map[string]string{}
	for _, arch := range goarches {
		if !goarchName.MatchString(arch) {
			return fmt.Errorf("agent: build binaries: bad GOARCH %q", arch)
		}
		name := "workshop-linux-" + arch
		tmp := filepath.Join(outDir, "."+name+".tmp")
		cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath",
			"-ldflags", "-s -w -X "+modulePath+"/grader/agent.Version="+Version,
			"-o", tmp, buildPackage)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
		if out, err := cmd.CombinedOutput(); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("agent: build %s: %w\n%s", name, err, out)
		}
		sum, err := fileSHA256(tmp)
		if err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(outDir, name)); err != nil {
			return fmt.Errorf("agent: build binaries: %w", err)
		}
		sums[name] = sum
	}
	return writeSums(outDir, sums)
}

// sourceDir finds the module's source.
func sourceDir() (string, error) {
	if dir := os.Getenv("WORKSHOP_SOURCE_DIR"); dir != "" {
		if isModuleRoot(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("agent: build binaries: WORKSHOP_SOURCE_DIR=%s holds no go.mod for %s", dir, modulePath)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isModuleRoot(dir) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("agent: build binaries: the module source is not here (set WORKSHOP_SOURCE_DIR, or ship the release binaries)")
		}
		dir = parent
	}
}

func isModuleRoot(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if mod, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(mod), `"`) == modulePath
		}
	}
	return false
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeSums merges sums into outDir/SHA256SUMS, keeping the lines of
// binaries built earlier for other architectures.
func writeSums(outDir string, sums map[string]string) error {
	path := filepath.Join(outDir, "SHA256SUMS")
	if old, err := os.ReadFile(path); err == nil {
		for name, sum := range ParseChecksums(old) {
			if _, ok := sums[name]; !ok {
				sums[name] = sum
			}
		}
	}
	names := make([]string, 0, len(sums))
	for name := range sums {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		fmt.Fprintf(&b, "%s  %s\n", sums[name], name)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("agent: write SHA256SUMS: %w", err)
	}
	return os.Rename(tmp, path)
}
