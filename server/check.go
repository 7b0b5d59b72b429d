package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/grader"
	"github.com/coursekit/workshop/store"
)

// checkablePage finds the page whose checks a step id names: a guide step
// (the same in every variant), a topic or the bonus page.
func (s *Server) checkablePage(id string) (*content.Page, bool) {
	course := s.course()
	if p, ok := course.Page(content.KindStep, course.Variants[0].ID, id); ok {
		return p, true
	}
	if p, ok := course.Page(content.KindTopic, "", id); ok {
		return p, true
	}
	return course.Page(content.KindBonus, "", id)
}

// inflight makes a double click on "Check my work" run and store one
// check, not two: the second request waits for the first.
type inflight struct {
	mu   sync.Mutex
	runs map[string]chan struct{}
}

func (f *inflight) start(key string) (done func(), wait <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.runs == nil {
		f.runs = map[string]chan struct{}{}
	}
	if ch, ok := f.runs[key]; ok {
		return nil, ch
	}
	ch := make(chan struct{})
	f.runs[key] = ch
	return func() {
		f.mu.Lock()
		delete(f.runs, key)
		f.mu.Unlock()
		close(ch)
	}, nil
}

// checkStep runs a step's checks against the signed-in student's own
// host and account, stores every result and shows them beside the step.
func (s *Server) checkStep(c echo.Context) error {
	u := s.currentUser(c)
	page, ok := s.checkablePage(c.Param("id"))
	if !ok {
		return Errorf(http.StatusNotFound, "There is no step %q in the course.", c.Param("id"))
	}
	back := content.PageURL(page.Kind, s.preferredVariant(c), page.ID) + "#check"
	if len(page.Checks) == 0 {
		return Errorf(http.StatusBadRequest, "The step %q has nothing to check on your host; its quiz is the way to show you understood it.", page.ID)
	}
	key := "check/" + itoa(u.ID) + "/" + page.ID
	done, wait := s.checking.start(key)
	if wait != nil {
		select {
		case <-wait:
		case <-c.Request().Context().Done():
		}
		return s.afterCheck(c, back, u.ID, page.ID)
	}
	defer done()
	ctx := c.Request().Context()
	last, err := s.db.LastCheckAt(ctx, u.ID, page.ID)
	if err != nil {
		return err
	}
	if ok, msg := grader.CheckedAgo(last, s.now(), s.checkEvery); !ok {
		if wantsJSON(c) {
			return Errorf(http.StatusTooManyRequests, "%s", msg)
		}
		return c.Redirect(http.StatusSeeOther, back)
	}
	target, err := s.graderTarget(ctx, u.ID, s.studentCohort(c))
	if err != nil {
		return err
	}
	cohort := s.studentCohort(c)
	// The run goes on even if the browser goes away, so its result is stored.
	runCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 90*time.Second)
	defer cancel()
	if err := s.runAndRecord(runCtx, u.ID, cohort, page, target, "student"); err != nil {
		return err
	}
	return s.afterCheck(c, back, u.ID, page.ID)
}

// runAndRecord runs a page's checks for one student and stores the batch.
func (s *Server) runAndRecord(ctx context.Context, userID int64, cohort *store.Cohort, page *content.Page, target grader.Target, source string) error {
	results := s.grader.RunStep(ctx, "run/"+itoa(userID)+"/"+page.ID, target, page.Checks)
	runs := make([]store.CheckRun, 0, len(results))
	for _, r := range results {
		run := store.CheckRun{UserID: userID, StepID: page.ID, CheckID: r.CheckID, Status: string(r.Status), Kind: r.Kind, Title: r.Title,
			Summary: r.Summary, Evidence: r.Evidence, Hint: r.Hint, Source: source, StartedAt: r.Started, Duration: r.Duration}
		if run.StartedAt.IsZero() {
			run.StartedAt = s.now()
		}
		if cohort != nil {
			id := cohort.ID
			run.CohortID = &id
		}
		runs = append(runs, run)
	}
	_, err := s.db.RecordRuns(ctx, runs)
	return err
}

func (s *Server) afterCheck(c echo.Context, back string, userID int64, stepID string) error {
	if !wantsJSON(c) {
		return c.Redirect(http.StatusSeeOther, back)
	}
	history, err := s.db.StepHistory(c.Request().Context(), userID, stepID, 50)
	if err != nil {
		return err
	}
	type item struct {
		CheckID  string   `json:"check_id"`
		Title    string   `json:"title"`
		Status   string   `json:"status"`
		Kind     string   `json:"kind,omitempty"`
		Summary  string   `json:"summary"`
		Evidence []string `json:"evidence"`
		Hint     string   `json:"hint,omitempty"`
	}
	out := []item{}
	for _, r := range history {
		if r.BatchID != history[0].BatchID {
			break
		}
		out = append(out, item{r.CheckID, r.Title, r.Status, r.Kind, r.Summary, r.Evidence, r.Hint})
	}
	return c.JSON(http.StatusOK, map[string]any{"step": stepID, "results": out})
}

// graderTarget turns the stored target into what the grader needs.
func (s *Server) graderTarget(ctx context.Context, userID int64, cohort *store.Cohort) (grader.Target, error) {
	t, err := s.db.Target(ctx, userID)
	if err != nil {
		return grader.Target{}, err
	}
	gt := grader.Target{AppURL: t.AppURL, AllowPrivate: cohort != nil && cohort.AllowPrivateRanges}
	switch t.DockerMode {
	case "tls":
		gt.Docker = grader.DockerTarget{Endpoint: t.DockerEndpoint, CACert: []byte(t.DockerCAPEM), ClientCert: []byte(t.DockerCertPEM), ClientKey: []byte(t.DockerKeyPEM)}
	case "plain":
		gt.Docker = grader.DockerTarget{Endpoint: t.DockerEndpoint}
	case "agent":
		if s.agentDial != nil {
			gt.Docker = grader.DockerTarget{Endpoint: "agent", Dial: s.agentDial(userID)}
		}
	}
	if t.AWSMode != "none" {
		gt.AWS = grader.AWSTarget{Region: t.AWSRegion, InstanceID: t.AWSInstanceID, Plan: t.AWSPlan, Endpoint: s.awsEndpoint}
		if t.AWSMode == "role" {
			gt.AWS.RoleARN, gt.AWS.ExternalID = t.AWSRoleARN, t.AWSExternalID
		} else {
			gt.AWS.AccessKeyID, gt.AWS.SecretAccessKey = t.AWSAccessKeyID, t.AWSSecret
		}
	}
	return gt, nil
}

func itoa(n int64) string { return strconvFormat(n) }
