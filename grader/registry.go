package grader

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// The registry is filled once, from the init functions of the files that
// define checks (docker checks here, EC2 checks in ec2*.go), and only read
// afterwards.
var (
	registryMu sync.RWMutex
	registry   = map[string]Check{}
)

// register adds a check; a duplicate id is a programming error.
func register(c Check) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[c.ID()]; dup {
		panic(fmt.Sprintf("grader: check %q registered twice", c.ID()))
	}
	registry[c.ID()] = c
}

// Lookup returns the check with the given id.
func Lookup(id string) (Check, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	c, ok := registry[id]
	return c, ok
}

// Known reports whether a check with the given id exists; content
// validation uses it to reject a typo in a page's frontmatter at load.
func Known(id string) bool {
	_, ok := Lookup(id)
	return ok
}

// All returns every registered check, sorted by id.
func All() []Check {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]Check, 0, len(registry))
	for _, c := range registry {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out
}

// checkFunc is a Check made of an id, a title and a function; Run fills in
// the id, title and timing so check bodies only say what they found.
type checkFunc struct {
	id, title string
	run       func(ctx context.Context, env *Env) Result
}

// ID is the check's stable id, as course pages name it.
func (c checkFunc) ID() string { return c.id }

// Title is the check's name as the step page shows it.
func (c checkFunc) Title() string { return c.title }

// Run runs the check and stamps its id and title on the result.
func (c checkFunc) Run(ctx context.Context, env *Env) Result {
	r := c.run(ctx, env)
	r.CheckID, r.Title = c.id, c.title
	return r
}

// result builds a Result; the evidence is whatever the check saw.
func result(s Status, kind, summary, hint string, evidence ...string) Result {
	return Result{Status: s, Kind: kind, Summary: summary, Hint: hint, Evidence: evidence}
}
