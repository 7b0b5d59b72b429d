package content

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// The lab repository has one commit made by this author at this time, so
// the same files always give the same commit id.
var (
	labAuthor = object.Signature{
		Name:  "Workshop",
		Email: "workshop@example.invalid",
		When:  time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC),
	}
	labMessage = "Workshop lab: the Django app and a static site\n"
)

// LabBranch is the lab repository's only branch.
const LabBranch = "main"

// LabTopDir is the folder the lab tarball unpacks into.
const LabTopDir = "workshop-lab"

// labFile is one file of the lab.
type labFile struct {
	path string // slash-separated, relative to the lab's root
	data []byte
	exec bool
}

// readLab lists the lab's files in path order, skipping any .git folder.
// A file that starts with "#!" is executable.
func readLab(fsys fs.FS) ([]labFile, error) {
	var files []labFile
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files = append(files, labFile{path: p, data: data, exec: bytes.HasPrefix(data, []byte("#!"))})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("content: read lab files: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("content: the lab has no files")
	}
	return files, nil
}

// LabRepo writes the lab's files (fsys, e.g. from LabFS) as a bare git
// repository into dst, which must not exist or be empty: one commit on
// branch main with a fixed author and date. It also writes what `git
// update-server-info` would (info/refs, objects/info/packs), so serving dst
// as static files is enough for `git clone` over HTTP (the dumb protocol).
// It returns the commit id.
func LabRepo(fsys fs.FS, dst string) (string, error) {
	files, err := readLab(fsys)
	if err != nil {
		return "", err
	}
	repo, err := git.PlainInit(dst, true)
	if err != nil {
		return "", fmt.Errorf("content: init lab repository: %w", err)
	}
	st := repo.Storer
	root := newTreeNode()
	for _, f := range files {
		h, err := writeObject(st, plumbing.BlobObject, func(w *bytes.Buffer) error { _, err := w.Write(f.data); return err })
		if err != nil {
			return "", err
		}
		mode := filemode.Regular
		if f.exec {
			mode = filemode.Executable
		}
		root.add(strings.Split(f.path, "/"), h, mode)
	}
	treeHash, err := root.write(st)
	if err != nil {
		return "", err
	}
	commit := &object.Commit{Author: labAuthor, Committer: labAuthor, Message: labMessage, TreeHash: treeHash}
	obj := st.NewEncodedObject()
	if err := commit.Encode(obj); err != nil {
		return "", fmt.Errorf("content: encode lab commit: %w", err)
	}
	commitHash, err := st.SetEncodedObject(obj)
	if err != nil {
		return "", fmt.Errorf("content: write lab commit: %w", err)
	}
	branch := plumbing.NewBranchReferenceName(LabBranch)
	if err := st.SetReference(plumbing.NewHashReference(branch, commitHash)); err != nil {
		return "", fmt.Errorf("content: set lab branch: %w", err)
	}
	if err := st.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, branch)); err != nil {
		return "", fmt.Errorf("content: set lab HEAD: %w", err)
	}
	if err := updateServerInfo(dst, map[string]string{branch.String(): commitHash.String()}); err != nil {
		return "", err
	}
	return commitHash.String(), nil
}

// updateServerInfo writes the files the dumb HTTP protocol reads first:
// info/refs (every ref and its id) and objects/info/packs (the packs).
func updateServerInfo(dst string, refs map[string]string) error {
	names := make([]string, 0, len(refs))
	for n := range refs {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s\t%s\n", refs[n], n)
	}
	if err := os.MkdirAll(filepath.Join(dst, "info"), 0o755); err != nil {
		return fmt.Errorf("content: lab server info: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dst, "info", "refs"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("content: lab server info: %w", err)
	}
	packs, _ := filepath.Glob(filepath.Join(dst, "objects", "pack", "*.pack"))
	var p strings.Builder
	for _, pk := range packs {
		fmt.Fprintf(&p, "P %s\n", filepath.Base(pk))
	}
	p.WriteString("\n")
	if err := os.MkdirAll(filepath.Join(dst, "objects", "info"), 0o755); err != nil {
		return fmt.Errorf("content: lab server info: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dst, "objects", "info", "packs"), []byte(p.String()), 0o644); err != nil {
		return fmt.Errorf("content: lab server info: %w", err)
	}
	return nil
}

// writeObject stores one object and returns its id.
func writeObject(st storer.EncodedObjectStorer, t plumbing.ObjectType, fill func(*bytes.Buffer) error) (plumbing.Hash, error) {
	var buf bytes.Buffer
	if err := fill(&buf); err != nil {
		return plumbing.ZeroHash, err
	}
	obj := st.NewEncodedObject()
	obj.SetType(t)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	h, err := st.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("content: write lab object: %w", err)
	}
	return h, nil
}

// treeNode is a directory being assembled into git tree objects.
type treeNode struct {
	files map[string]object.TreeEntry
	dirs  map[string]*treeNode
}

func newTreeNode() *treeNode {
	return &treeNode{files: map[string]object.TreeEntry{}, dirs: map[string]*treeNode{}}
}

func (n *treeNode) add(parts []string, h plumbing.Hash, mode filemode.FileMode) {
	if len(parts) == 1 {
		n.files[parts[0]] = object.TreeEntry{Name: parts[0], Mode: mode, Hash: h}
		return
	}
	d, ok := n.dirs[parts[0]]
	if !ok {
		d = newTreeNode()
		n.dirs[parts[0]] = d
	}
	d.add(parts[1:], h, mode)
}

// write stores the tree and its subtrees and returns the tree's id.
func (n *treeNode) write(st storer.EncodedObjectStorer) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	for _, e := range n.files {
		entries = append(entries, e)
	}
	for name, d := range n.dirs {
		h, err := d.write(st)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
	}
	// Git orders entries by name, a directory's name compared as "name/".
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
	tree := &object.Tree{Entries: entries}
	obj := st.NewEncodedObject()
	if err := tree.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("content: encode lab tree: %w", err)
	}
	h, err := st.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("content: write lab tree: %w", err)
	}
	return h, nil
}

// LabTarball returns the lab's files (fsys, e.g. from LabFS) as a .tar.gz
// whose entries are under workshop-lab/. The same files give the same bytes.
func LabTarball(fsys fs.FS) ([]byte, error) {
	files, err := readLab(fsys)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	dirs := map[string]bool{}
	hdr := func(name string, mode int64, typ byte, size int) *tar.Header {
		return &tar.Header{Name: name, Mode: mode, Typeflag: typ, Size: int64(size), ModTime: labAuthor.When,
			Uname: "workshop", Gname: "workshop", Format: tar.FormatUSTAR}
	}
	for _, f := range files {
		// Parent folders first, once each.
		var parents []string
		for d := path.Dir(f.path); d != "."; d = path.Dir(d) {
			parents = append([]string{d}, parents...)
		}
		for _, d := range append([]string{"."}, parents...) {
			if dirs[d] {
				continue
			}
			dirs[d] = true
			if err := tw.WriteHeader(hdr(path.Join(LabTopDir, d)+"/", 0o755, tar.TypeDir, 0)); err != nil {
				return nil, fmt.Errorf("content: lab tarball: %w", err)
			}
		}
		mode := int64(0o644)
		if f.exec {
			mode = 0o755
		}
		if err := tw.WriteHeader(hdr(path.Join(LabTopDir, f.path), mode, tar.TypeReg, len(f.data))); err != nil {
			return nil, fmt.Errorf("content: lab tarball: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("content: lab tarball: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("content: lab tarball: %w", err)
	}
	if err := gz.Close(); err != nil {
		return nil, fmt.Errorf("content: lab tarball: %w", err)
	}
	return buf.Bytes(), nil
}
