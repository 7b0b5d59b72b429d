package content

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Check validates the content folder dir (holding course/, or course.yaml
// itself) and returns every problem, with file names relative to the
// current directory as dir is. It does not know the grader's check ids.
func Check(dir string) []Problem {
	return CheckWith(dir, Options{})
}

// CheckWith is Check with options, e.g. the grader's known check ids.
func CheckWith(dir string, opts Options) []Problem {
	_, err := Load(os.DirFS(dir), opts)
	if err == nil {
		return nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		return []Problem{{File: dir, Message: err.Error()}}
	}
	out := make([]Problem, len(ps))
	for i, p := range ps {
		p.File = filepath.Join(dir, filepath.FromSlash(p.File))
		out[i] = p
	}
	return out
}

// WatchInterval is how often Watch looks for changed files.
const WatchInterval = 2 * time.Second

// Watch polls dir's files every WatchInterval and, when any was added,
// removed or modified, loads the course again and calls onReload with the
// result (a Problems error when the new content is invalid; the caller
// keeps serving the previous course then). The first load is the caller's.
// Watch returns when ctx is done.
func Watch(ctx context.Context, dir string, opts Options, onReload func(*Course, error)) {
	last, _ := treeStamp(dir)
	t := time.NewTicker(WatchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		stamp, err := treeStamp(dir)
		if err != nil || stamp == last {
			continue
		}
		last = stamp
		onReload(Load(os.DirFS(dir), opts))
	}
}

// treeStamp summarises the names, sizes and modification times of every
// file under dir.
func treeStamp(dir string) (uint64, error) {
	h := fnv.New64a()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00", p, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	return h.Sum64(), err
}
