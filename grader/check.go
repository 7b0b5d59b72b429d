// Package grader inspects a student's real Docker host and AWS account and
// reports, check by check, what is right, what is wrong and what to do next.
// It only ever reads: no call it makes creates, changes or deletes anything.
package grader

import (
	"context"
	"time"
)

// Status is the outcome of one check.
type Status string

// The four outcomes of a check. StatusError means the grader could not
// decide (unreachable host, expired credentials), not that the student failed.
const (
	StatusPass  Status = "pass"
	StatusFail  Status = "fail"
	StatusWarn  Status = "warn"
	StatusError Status = "error"
)

// Result is what one check found.
type Result struct {
	CheckID  string        `json:"check_id"`
	Title    string        `json:"title"`
	Status   Status        `json:"status"`
	Summary  string        `json:"summary"`            // one line
	Evidence []string      `json:"evidence,omitempty"` // what the check saw, one fact a line
	Hint     string        `json:"hint,omitempty"`     // what to do next
	Kind     string        `json:"kind,omitempty"`     // a stable near-miss diagnosis, e.g. "bound-to-loopback"
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"`
}

// Check is one named inspection. Run reads from the Env; it must never
// change the student's host or account.
type Check interface {
	ID() string
	Title() string
	Run(ctx context.Context, env *Env) Result
}
