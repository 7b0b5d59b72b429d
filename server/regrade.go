package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/coursekit/workshop/store"
)

// RegradeArgs is one student's part of a cohort regrade: a River job,
// unique per regrade and student, taken by any replica's workers.
type RegradeArgs struct {
	RegradeID int64  `json:"regrade_id"`
	CohortID  int64  `json:"cohort_id"`
	UserID    int64  `json:"user_id"`
	StepID    string `json:"step_id"`
}

// Kind names the job in River's queue.
func (RegradeArgs) Kind() string { return "cohort_regrade" }

// InsertOpts makes the job unique per regrade and student, and retried
// twice if the database fails under it.
func (RegradeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// regradeWorker runs a student's checks of one step with source 'regrade'.
type regradeWorker struct {
	river.WorkerDefaults[RegradeArgs]
	s *Server
}

// Work runs one student's checks and counts them in the regrade.
func (w *regradeWorker) Work(ctx context.Context, job *river.Job[RegradeArgs]) error {
	s, a := w.s, job.Args
	// A cancelled regrade (or a student already counted, when a job runs
	// again after a restart) has nothing left to do here.
	if pending, err := s.db.RegradeItemPending(ctx, a.RegradeID, a.UserID); err != nil || !pending {
		return err
	}
	if gate := s.liveOpts.regradeGate; gate != nil {
		if err := gate(ctx, a.UserID); err != nil {
			return err
		}
	}
	err := s.regradeOne(ctx, a)
	if err != nil && job.Attempt < job.MaxAttempts {
		return err // River tries again
	}
	if _, ferr := s.db.FinishRegradeItem(context.WithoutCancel(ctx), a.RegradeID, a.UserID, err != nil); ferr != nil {
		return ferr
	}
	return err
}

func (s *Server) regradeOne(ctx context.Context, a RegradeArgs) error {
	page, ok := s.checkablePage(a.StepID)
	if !ok || len(page.Checks) == 0 {
		return fmt.Errorf("regrade: the course has no step %q with checks", a.StepID)
	}
	co, err := s.db.CohortByID(ctx, a.CohortID)
	if err != nil {
		return err
	}
	target, err := s.graderTarget(ctx, a.UserID, co)
	if err != nil {
		return err
	}
	return s.runAndRecord(ctx, a.UserID, co, page, target, "regrade")
}

// initLive sets the live options' defaults, makes the hub and the River
// client (started by Start; inserting jobs works without it) and ends
// event streams when the HTTP server shuts down.
func (s *Server) initLive(o LiveOptions) error {
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.StreamFor <= 0 {
		o.StreamFor = 10 * time.Minute
	}
	if o.RegradeWorkers <= 0 {
		o.RegradeWorkers = 4
	}
	jobTimeout := 3 * time.Minute // the grader's own deadline is 90 s
	if o.RescueAfter <= 0 {
		o.RescueAfter = 5 * time.Minute
	}
	if o.RescueAfter < jobTimeout {
		jobTimeout = o.RescueAfter
	}
	if o.StopGrace <= 0 {
		o.StopGrace = 10 * time.Second
	}
	s.liveOpts = o
	s.live = newHub()
	s.shuttingDown = make(chan struct{})
	var once sync.Once
	s.echo.Server.RegisterOnShutdown(func() { once.Do(func() { close(s.shuttingDown) }) })
	workers := river.NewWorkers()
	river.AddWorker(workers, &regradeWorker{s: s})
	client, err := river.NewClient(riverpgxv5.New(s.db.Pool), &river.Config{
		Logger:               s.log,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.RegradeWorkers}},
		Workers:              workers,
		JobTimeout:           jobTimeout,
		RescueStuckJobsAfter: o.RescueAfter,
	})
	if err != nil {
		return fmt.Errorf("server: regrade queue: %w", err)
	}
	s.regrades = client
	return nil
}

// regradeCohort queues one job per student that runs a step's checks
// again, in the transaction that records the regrade.
func (s *Server) regradeCohort(c echo.Context) error {
	co, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	page, ok := s.checkablePage(c.FormValue("step"))
	if !ok || len(page.Checks) == 0 {
		return &FieldErrors{Code: http.StatusUnprocessableEntity, Fields: map[string]string{"step": "Choose a step that has checks."}}
	}
	ctx := c.Request().Context()
	var r *store.Regrade
	err = s.db.Transact(ctx, func(tx pgx.Tx) error {
		var ids []int64
		var err error
		r, ids, err = store.CreateRegrade(ctx, tx, co.ID, page.ID, s.currentUser(c).ID)
		if err != nil || len(ids) == 0 {
			return err
		}
		params := make([]river.InsertManyParams, len(ids))
		for i, id := range ids {
			params[i] = river.InsertManyParams{Args: RegradeArgs{RegradeID: r.ID, CohortID: co.ID, UserID: id, StepID: page.ID}}
		}
		_, err = s.regrades.InsertManyTx(ctx, tx, params)
		return err
	})
	if err != nil {
		return err
	}
	if wantsJSON(c) {
		return c.JSON(http.StatusAccepted, map[string]any{"regrade_id": r.ID, "total": r.Total})
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/cohorts/%d/dashboard#regrade-%d", co.ID, r.ID))
}

// cancelRegrade stops a regrade of the cohort: the students it has not
// reached are counted as cancelled and their jobs end without running.
func (s *Server) cancelRegrade(c echo.Context) error {
	co, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("regrade"), 10, 64)
	if err != nil || id <= 0 {
		return Errorf(http.StatusNotFound, "This cohort has no such regrade.")
	}
	r, err := s.db.CancelRegrade(c.Request().Context(), co.ID, id, s.currentUser(c).ID)
	if errors.Is(err, store.ErrNotFound) {
		return Errorf(http.StatusNotFound, "This cohort has no such regrade.")
	}
	if err != nil {
		return err
	}
	if r.Cancelled > 0 {
		s.log.Info("regrade cancelled", "regrade", r.ID, "cohort", co.ID, "cancelled", r.Cancelled, "by", s.currentUser(c).ID)
	}
	if wantsJSON(c) {
		return c.JSON(http.StatusOK, map[string]any{"regrade_id": r.ID, "total": r.Total, "done": r.Done, "failed": r.Failed,
			"cancelled": r.Cancelled, "finished": r.Finished()})
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/cohorts/%d/dashboard#regrade-%d", co.ID, r.ID))
}
