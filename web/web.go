// Package web holds the HTML templates and static assets, embedded, and
// renders typed page structs. Templates are parsed once at start: a missing
// or broken template fails the start, not a request.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

//go:embed all:templates static
var files embed.FS

// Renderer renders named pages into the shared layout.
type Renderer struct {
	pages  map[string]*template.Template
	assets *Assets
}

// New parses every page template with the layout and partials.
func New(extraCSS map[string][]byte) (*Renderer, error) {
	assets, err := newAssets(extraCSS)
	if err != nil {
		return nil, err
	}
	r := &Renderer{pages: map[string]*template.Template{}, assets: assets}
	funcs := r.funcs()
	shared, err := fs.Glob(files, "templates/_*.html")
	if err != nil {
		return nil, err
	}
	pages, err := fs.Glob(files, "templates/[a-z]*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		name := strings.TrimSuffix(path.Base(p), ".html")
		t, err := template.New(name).Funcs(funcs).ParseFS(files, append([]string{p}, shared...)...)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		if t.Lookup("layout") == nil {
			return nil, fmt.Errorf("web: template %s: no layout", name)
		}
		r.pages[name] = t
	}
	return r, nil
}

// Render executes page name with data into a buffer first, so a template
// error never leaves half a page on the wire.
func (r *Renderer) Render(w io.Writer, name string, data any) error {
	t, ok := r.pages[name]
	if !ok {
		return fmt.Errorf("web: no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// Has reports whether a page template exists.
func (r *Renderer) Has(name string) bool { _, ok := r.pages[name]; return ok }

// Assets returns the fingerprinted static files.
func (r *Renderer) Assets() *Assets { return r.assets }

func (r *Renderer) funcs() template.FuncMap {
	return template.FuncMap{
		"asset": r.assets.URL,
		"date": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2 Jan 2006")
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2 Jan 2006 15:04 UTC")
		},
		"ago":     Ago,
		"percent": func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
		"add":     func(a, b int) int { return a + b },
		"join":    strings.Join,
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
	}
}

// Ago says how long ago t was, for people.
func Ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}

// Assets maps static file names to fingerprinted URLs and back.
type Assets struct {
	byName  map[string]asset // "app.css" -> asset
	byPath  map[string]asset // "app.1a2b3c4d.css" -> asset
	version string           // changes when any asset changes
}

// Version identifies this set of assets, so a cached page that names
// them is revalidated when they change.
func (a *Assets) Version() string { return a.version }

type asset struct {
	name, fingerprinted, etag string
	data                      []byte
}

func newAssets(extra map[string][]byte) (*Assets, error) {
	a := &Assets{byName: map[string]asset{}, byPath: map[string]asset{}}
	add := func(name string, data []byte) {
		sum := sha256.Sum256(data)
		h := hex.EncodeToString(sum[:])[:12]
		ext := path.Ext(name)
		fp := strings.TrimSuffix(name, ext) + "." + h + ext
		x := asset{name: name, fingerprinted: fp, etag: `"` + h + `"`, data: data}
		a.byName[name], a.byPath[fp] = x, x
	}
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		add(strings.TrimPrefix(p, "static/"), data)
		return nil
	})
	for name, data := range extra {
		add(name, data)
	}
	names := make([]string, 0, len(a.byPath))
	for p := range a.byPath {
		names = append(names, p)
	}
	sort.Strings(names)
	all := sha256.New()
	for _, p := range names {
		all.Write([]byte(p))
	}
	a.version = hex.EncodeToString(all.Sum(nil))[:8]
	return a, err
}

// URL returns the fingerprinted URL of a static file; an unknown name
// panics at template execution, which the start-up render test catches.
func (a *Assets) URL(name string) (string, error) {
	x, ok := a.byName[name]
	if !ok {
		return "", fmt.Errorf("web: no static file %q", name)
	}
	return "/static/" + x.fingerprinted, nil
}

// Lookup finds a fingerprinted path (without /static/); ok is false for
// unknown paths. The bytes never change for a path, so it can be cached
// for a year.
func (a *Assets) Lookup(p string) (data []byte, etag, name string, ok bool) {
	x, ok := a.byPath[p]
	if !ok {
		// Unfingerprinted names still work, for links from outside.
		if x, ok = a.byName[p]; !ok {
			return nil, "", "", false
		}
	}
	return x.data, x.etag, x.name, true
}
