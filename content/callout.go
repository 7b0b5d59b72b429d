package content

import (
	"bytes"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Callouts use GitHub's alert syntax: a blockquote whose first line is
// [!NOTE], [!TIP] or [!WARNING].
var calloutTitles = map[string]string{
	"note":    "Note",
	"tip":     "Tip",
	"warning": "Warning",
}

// kindCallout is the AST node kind of a callout.
var kindCallout = ast.NewNodeKind("Callout")

// calloutNode replaces a blockquote that starts with an alert marker.
type calloutNode struct {
	ast.BaseBlock
	variant string // note, tip, warning
}

func (n *calloutNode) Kind() ast.NodeKind { return kindCallout }

func (n *calloutNode) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{"Variant": n.variant}, nil)
}

// calloutTransformer turns alert blockquotes into callout nodes. A marker
// it does not know ([!CAUTION]) leaves the blockquote as it is.
type calloutTransformer struct{}

func (calloutTransformer) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	source := reader.Source()
	var quotes []*ast.Blockquote
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if q, ok := n.(*ast.Blockquote); ok && entering {
			quotes = append(quotes, q)
		}
		return ast.WalkContinue, nil
	})
	for _, q := range quotes {
		para, ok := q.FirstChild().(*ast.Paragraph)
		if !ok || para.Lines().Len() == 0 {
			continue
		}
		first := para.Lines().At(0)
		marker := bytes.TrimSpace(first.Value(source))
		if len(marker) < 4 || marker[0] != '[' || marker[1] != '!' || marker[len(marker)-1] != ']' {
			continue
		}
		variant := string(bytes.ToLower(marker[2 : len(marker)-1]))
		if _, ok := calloutTitles[variant]; !ok {
			continue
		}
		removeFirstLine(para, first)
		if para.ChildCount() == 0 {
			q.RemoveChild(q, para)
		}
		c := &calloutNode{variant: variant}
		c.SetPos(q.Pos())
		for child := q.FirstChild(); child != nil; {
			next := child.NextSibling()
			c.AppendChild(c, child)
			child = next
		}
		q.Parent().ReplaceChild(q.Parent(), q, c)
	}
}

// removeFirstLine drops the paragraph's inline nodes that belong to its
// first source line (the alert marker) and the line itself.
func removeFirstLine(para *ast.Paragraph, first text.Segment) {
	for child := para.FirstChild(); child != nil; {
		next := child.NextSibling()
		t, ok := child.(*ast.Text)
		if ok && t.Segment.Start >= first.Stop {
			break
		}
		if !ok && child.Pos() >= first.Stop {
			break
		}
		para.RemoveChild(para, child)
		if ok && (t.SoftLineBreak() || t.HardLineBreak()) {
			break
		}
		child = next
	}
	lines := para.Lines()
	rest := text.NewSegments()
	for i := 1; i < lines.Len(); i++ {
		rest.Append(lines.At(i))
	}
	para.SetLines(rest)
}

// calloutRenderer renders callouts as asides with a title.
type calloutRenderer struct{}

func (calloutRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindCallout, func(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		c := n.(*calloutNode)
		if entering {
			_, _ = w.WriteString(`<aside class="callout callout-` + c.variant + `" role="note">` + "\n")
			_, _ = w.WriteString(`<p class="callout-title">` + calloutTitles[c.variant] + "</p>\n")
		} else {
			_, _ = w.WriteString("</aside>\n")
		}
		return ast.WalkContinue, nil
	})
}
