package content

import (
	"embed"
	"io/fs"
)

// defaultFS holds the default course (course/) and the lab app (lab/).
//
//go:embed all:course all:lab
var defaultFS embed.FS

// DefaultFS returns the embedded default content: course/ with the course
// description and pages, lab/ with the lab repository's files.
func DefaultFS() fs.FS { return defaultFS }

// LabFS returns the lab repository's files inside content (its lab/ folder).
func LabFS(fsys fs.FS) (fs.FS, error) { return fs.Sub(fsys, "lab") }
