package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgxlisten"
	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/store"
)

// LiveOptions tune the live dashboard and the background regrades.
type LiveOptions struct {
	// Heartbeat is the time between comments that keep an idle event
	// stream open through proxies (default 15 s).
	Heartbeat time.Duration
	// StreamFor is how long one event stream lasts before the server ends
	// it and the browser reconnects, possibly to another replica
	// (default 10 min).
	StreamFor time.Duration
	// RegradeWorkers bounds the regrade jobs this replica runs at once
	// (default 4).
	RegradeWorkers int
	// RescueAfter is how long a regrade job may stay running before
	// another replica takes it over, its own having died (default 5 min).
	RescueAfter time.Duration
	// StopGrace is how long running regrade jobs may finish when the
	// server stops before they are cancelled (default 10 s).
	StopGrace time.Duration

	// regradeGate, in tests, runs before each regrade job's checks.
	regradeGate func(ctx context.Context, userID int64) error
}

// hub fans the events this replica hears on store.EventsChannel out to
// its event streams. Every replica has its own listener, so an event
// reaches every browser wherever it is connected.
type hub struct {
	mu        sync.Mutex
	subs      map[*subscriber]struct{}
	listening chan struct{} // closed once the first LISTEN is in place
	once      sync.Once
}

// liveEvent is any event on the channel: a result (store.Event) or a
// regrade's progress (the extra fields).
type liveEvent = store.RegradeEvent

type subscriber struct {
	ch   chan liveEvent
	lost atomic.Bool // an event was dropped: the page must resynchronise
}

func newHub() *hub {
	return &hub{subs: map[*subscriber]struct{}{}, listening: make(chan struct{})}
}

func (h *hub) subscribe() *subscriber {
	sub := &subscriber{ch: make(chan liveEvent, 64)}
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	return sub
}

func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	delete(h.subs, sub)
	h.mu.Unlock()
}

// publish never blocks: a stream too slow to take an event is told to
// resynchronise instead.
func (h *hub) publish(ev liveEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		select {
		case sub.ch <- ev:
		default:
			sub.lost.Store(true)
		}
	}
}

// HandleNotification is pgxlisten's handler for store.EventsChannel.
func (h *hub) HandleNotification(_ context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	var ev liveEvent
	if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil {
		return fmt.Errorf("event payload: %w", err)
	}
	h.publish(ev)
	return nil
}

// HandleBacklog runs after every (re)connection: events sent while the
// listener was away are lost, so every page resynchronises.
func (h *hub) HandleBacklog(context.Context, string, *pgx.Conn) error {
	first := false
	h.once.Do(func() { close(h.listening); first = true })
	if !first {
		h.publish(liveEvent{Event: store.Event{Kind: "resync"}})
	}
	return nil
}

// listen keeps a LISTEN on store.EventsChannel on a dedicated connection
// until ctx ends, reconnecting after a second whenever it is lost (a
// PostgreSQL restart, a network cut).
func (s *Server) listen(ctx context.Context) {
	l := &pgxlisten.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) {
			return pgx.ConnectConfig(ctx, s.db.Pool.Config().ConnConfig.Copy())
		},
		LogError: func(ctx context.Context, err error) {
			if ctx.Err() == nil {
				s.log.Warn("live events: listener lost its connection; reconnecting", "err", err)
			}
		},
		ReconnectDelay: time.Second,
	}
	l.Handle(store.EventsChannel, s.live)
	_ = l.Listen(ctx)
}

// Start runs this replica's background work until ctx ends: the listener
// that carries results to live dashboards and the regrade workers. Wait
// returns once both have stopped.
func (s *Server) Start(ctx context.Context) error {
	if err := s.regrades.Start(ctx); err != nil {
		return fmt.Errorf("server: regrade workers: %w", err)
	}
	s.background.Add(2)
	go func() {
		defer s.background.Done()
		s.listen(ctx)
	}()
	go func() {
		defer s.background.Done()
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), s.liveOpts.StopGrace)
		defer cancel()
		if err := s.regrades.Stop(sctx); err != nil {
			// Jobs still running are cancelled; another replica (or this
			// one, restarted) runs them again.
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = s.regrades.StopAndCancel(cctx)
		}
	}()
	return nil
}

// Wait blocks until the background work started by Start has stopped.
func (s *Server) Wait() { s.background.Wait() }

// cohortEvents streams a cohort's events to its dashboard (server-sent
// events): "progress" when a student's results change, "regrade" when a
// regrade advances, "resync" when events may have been missed.
func (s *Server) cohortEvents(c echo.Context) error {
	co, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	members, err := s.db.CohortMembers(ctx, co.ID)
	if err != nil {
		return err
	}
	students := map[int64]bool{}
	for _, m := range members {
		if m.CohortRole == store.RoleStudent {
			students[m.ID] = true
		}
	}
	sub := s.live.subscribe()
	defer s.live.unsubscribe(sub)
	w := c.Response()
	// A stream has no body left to read: no read deadline may end it.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	send := func(format string, args ...any) error {
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return err
		}
		w.Flush()
		return nil
	}
	if err := send("retry: 2000\n: %s\n\n", "stream open"); err != nil {
		return nil
	}
	heartbeat := time.NewTicker(s.liveOpts.Heartbeat)
	defer heartbeat.Stop()
	end := time.NewTimer(s.liveOpts.StreamFor)
	defer end.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case <-s.shuttingDown:
			return nil
		case <-end.C:
			return nil
		case <-heartbeat.C:
			if sub.lost.Swap(false) {
				err = send("event: resync\ndata: {}\n\n")
			} else {
				err = send(": heartbeat\n\n")
			}
		case ev := <-sub.ch:
			err = s.sendEvent(send, co.ID, students, ev, sub)
		}
		if err != nil {
			return nil // the browser went away
		}
	}
}

func (s *Server) sendEvent(send func(string, ...any) error, cohortID int64, students map[int64]bool, ev liveEvent, sub *subscriber) error {
	if sub.lost.Swap(false) {
		return send("event: resync\ndata: {}\n\n")
	}
	switch ev.Kind {
	case "resync":
		return send("event: resync\ndata: {}\n\n")
	case "regrade":
		if ev.CohortID != cohortID {
			return nil
		}
		data, _ := json.Marshal(ev)
		return send("event: regrade\ndata: %s\n\n", data)
	case "member":
		if ev.CohortID != cohortID {
			return nil
		}
		if ev.UserID > 0 {
			students[ev.UserID] = true // a new student's results come next
		}
		data, _ := json.Marshal(ev.Event)
		return send("event: member\ndata: %s\n\n", data)
	case "check", "quiz":
		if ev.CohortID != cohortID && !students[ev.UserID] {
			return nil
		}
		data, _ := json.Marshal(ev.Event)
		return send("event: progress\ndata: %s\n\n", data)
	}
	return nil
}

// waitListening waits until the listener is in place (tests).
func (s *Server) waitListening(ctx context.Context) error {
	select {
	case <-s.live.listening:
		return nil
	case <-ctx.Done():
		return errors.New("live events: the listener did not start")
	}
}
