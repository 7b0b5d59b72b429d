package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"strings"
	"time"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/grader"
	"github.com/coursekit/workshop/quiz"
	"github.com/coursekit/workshop/server"
	"github.com/coursekit/workshop/store"
)

const (
	demoCohortName = "Demo cohort"
	demoInstructor = "demo-instructor@example.org"
)

// runDemo fills a demo cohort with students and their results, and prints
// the instructor's sign-in.
func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	bindConfig(fs, &cfg)
	students := fs.Int("students", 40, "how many students the demo cohort gets")
	if code, ok := loadConfig(fs, &cfg, args, stderr); !ok {
		return code
	}
	if *students < 1 || *students > 5000 {
		fmt.Fprintln(stderr, "workshop: --students must be between 1 and 5000")
		return 2
	}
	ctx := context.Background()
	db, err := openDatabase(ctx, &cfg, cfg.logger(), true, true)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	course, err := loadCourse(&cfg, courseOptions(&cfg))
	if err != nil {
		return fail(stderr, err)
	}
	res, err := seedDemo(ctx, db.DB, course, *students, time.Now())
	if err != nil {
		return fail(stderr, err)
	}
	base := cfg.BaseURL
	if base == "" {
		base = "http://localhost" + portSuffix(cfg.Addr)
	}
	printDemo(stdout, res, base)
	return 0
}

// demoResult is what seeding made: the instructor's sign-in (the password
// is shown once) and the cohort.
type demoResult struct {
	Email, Password string
	CohortID        int64
	Students        int
	Seeded          bool // false when the demo cohort existed already
}

func printDemo(w io.Writer, r demoResult, base string) {
	if r.Seeded {
		fmt.Fprintf(w, "Demo cohort ready: %d students with their results.\n", r.Students)
	} else {
		fmt.Fprintln(w, "The demo cohort exists already; its instructor has a new password.")
	}
	fmt.Fprintf(w, "Sign in at %s/signin as %s with the password %s (shown only now)\n", base, r.Email, r.Password)
	fmt.Fprintf(w, "then open the dashboard: %s/cohorts/%d/dashboard\n", base, r.CohortID)
}

// seedDemo makes the demo instructor (or gives them a new password) and,
// unless it exists, the demo cohort with n students whose results look
// like a real day of the course: some finish, most are somewhere in the
// middle, some are stuck on one near miss, a few never start.
func seedDemo(ctx context.Context, db *store.DB, course *content.Course, n int, now time.Time) (demoResult, error) {
	res := demoResult{Email: demoInstructor, Password: randomPassword()}
	hash := server.HashPassword(res.Password)
	inst, err := db.UserByEmail(ctx, demoInstructor)
	switch {
	case errors.Is(err, store.ErrNotFound):
		inst, err = db.CreateUser(ctx, store.NewUser{Email: demoInstructor, Name: "Demo Instructor", Role: store.RoleInstructor, PasswordHash: hash})
	case err == nil:
		err = db.SetPassword(ctx, inst.ID, hash, nil)
	}
	if err != nil {
		return res, fmt.Errorf("demo instructor: %w", err)
	}
	cohorts, err := db.InstructorCohorts(ctx, inst.ID)
	if err != nil {
		return res, err
	}
	for _, c := range cohorts {
		if c.Name == demoCohortName {
			res.CohortID = c.ID
			return res, nil
		}
	}
	start := now.Add(-6 * time.Hour)
	co, err := db.CreateCohort(ctx, store.CohortSettings{Name: demoCohortName, StartsOn: &start, JoinOpen: true, DefaultVariant: "guided",
		PassMark: quiz.DefaultPassMark}, "DEMO"+strings.ToUpper(randomString(6)), inst.ID)
	if err != nil {
		return res, fmt.Errorf("demo cohort: %w", err)
	}
	res.CohortID, res.Seeded = co.ID, true
	// Students cannot sign in: nobody knows this password.
	studentHash := server.HashPassword(randomPassword() + randomPassword())
	rng := mrand.New(mrand.NewPCG(uint64(now.UnixNano()), uint64(co.ID)))
	sim := demoSim{course: course, rng: rng, cohortID: co.ID, now: now}
	for i := 0; i < n; i++ {
		name := demoFirst[rng.IntN(len(demoFirst))] + " " + demoLast[rng.IntN(len(demoLast))]
		u, err := db.CreateUser(ctx, store.NewUser{Email: fmt.Sprintf("student%03d.c%d@demo.example.org", i+1, co.ID), Name: name,
			Role: store.RoleStudent, PasswordHash: studentHash})
		if err != nil {
			return res, fmt.Errorf("demo student: %w", err)
		}
		if err := db.AddMember(ctx, co.ID, u.ID, store.RoleStudent); err != nil {
			return res, err
		}
		sim.student(u.ID, start.Add(time.Duration(rng.IntN(40))*time.Minute))
	}
	if err := db.ImportRuns(ctx, sim.runs); err != nil {
		return res, err
	}
	if err := db.ImportAttempts(ctx, sim.attempts); err != nil {
		return res, err
	}
	res.Students = n
	return res, nil
}

// demoSim makes up one student's session at a time.
type demoSim struct {
	course   *content.Course
	rng      *mrand.Rand
	cohortID int64
	now      time.Time
	batch    int64
	runs     []store.CheckRun
	attempts []store.QuizAttempt
}

// student works through the course from t: each page's checks until they
// pass (with the near misses students really hit), then its quiz.
func (d *demoSim) student(userID int64, t time.Time) {
	pages := demoPages(d.course)
	reach := len(pages) // fast students finish
	stuckAt := -1
	switch r := d.rng.Float64(); {
	case r < 0.10:
		return // never started
	case r < 0.35:
		reach = 2 + d.rng.IntN(len(pages)-2)
		stuckAt = reach - 1
	case r < 0.80:
		reach = 1 + d.rng.IntN(len(pages)-1)
	}
	for i, p := range pages[:reach] {
		if t.After(d.now) {
			return
		}
		for _, check := range p.Checks {
			kinds := demoKinds[check]
			misses := 0
			if len(kinds) > 0 && d.rng.Float64() < 0.6 {
				misses = 1 + d.rng.IntN(2)
			}
			if i == stuckAt && check == p.Checks[len(p.Checks)-1] {
				misses = 3 + d.rng.IntN(3) // the same near miss, again and again: a raised hand
			}
			kind := ""
			if len(kinds) > 0 {
				kind = kinds[d.rng.IntN(len(kinds))]
			}
			for m := 0; m < misses; m++ {
				if i != stuckAt && len(kinds) > 1 && d.rng.Float64() < 0.4 {
					kind = kinds[d.rng.IntN(len(kinds))]
				}
				t = t.Add(time.Duration(2+d.rng.IntN(8)) * time.Minute)
				d.run(userID, p.ID, check, "fail", kind, t)
			}
			if i == stuckAt {
				continue
			}
			t = t.Add(time.Duration(2+d.rng.IntN(6)) * time.Minute)
			d.run(userID, p.ID, check, "pass", "", t)
		}
		if i == stuckAt {
			return
		}
		if p.QuizID != "" {
			score := 0.4 + 0.1*float64(d.rng.IntN(7))
			for tries := 0; tries < 3; tries++ {
				t = t.Add(time.Duration(1+d.rng.IntN(4)) * time.Minute)
				correct := int(score*10 + 0.5)
				id := d.cohortID
				d.attempts = append(d.attempts, store.QuizAttempt{UserID: userID, CohortID: &id, QuizID: p.QuizID, Score: float64(correct) / 10,
					Correct: correct, Total: 10, CreatedAt: t})
				if score >= quiz.DefaultPassMark {
					break
				}
				score += 0.2
			}
		}
		t = t.Add(time.Duration(5+d.rng.IntN(20)) * time.Minute)
	}
}

func (d *demoSim) run(userID int64, page, check, status, kind string, at time.Time) {
	d.batch++
	title, summary := check, "Everything is as the step asks."
	if c, ok := grader.Lookup(check); ok {
		title = c.Title()
	}
	if status != "pass" {
		summary = "Not yet: " + kind + " (see the hint)."
	}
	id := d.cohortID
	d.runs = append(d.runs, store.CheckRun{UserID: userID, CohortID: &id, BatchID: d.batch, StepID: page, CheckID: check, Status: status,
		Kind: kind, Title: title, Summary: summary, Evidence: []string{"demo data"}, StartedAt: at,
		Duration: time.Duration(300+d.rng.IntN(1500)) * time.Millisecond})
}

// demoPages lists the course's pages in order (steps, topics, bonus).
func demoPages(course *content.Course) []*content.Page {
	var out []*content.Page
	for _, st := range course.Steps {
		if p := st.Pages[course.Variants[0].ID]; p != nil {
			out = append(out, p)
		}
	}
	out = append(out, course.Topics...)
	return append(out, course.Bonus...)
}

// demoKinds are the grader's near-miss diagnoses students hit on each
// check.
var demoKinds = map[string][]string{
	"docker-reachable":              {grader.KindDockerRefused, grader.KindTLSUnknownCA, grader.KindDockerTimeout},
	"app-image-built":               {grader.KindNoImage, grader.KindWrongFolder},
	"old-container-removed":         {grader.KindOldContainerRunning, grader.KindExitedLeftovers},
	"port-8000-single-owner":        {grader.KindPortConflict, grader.KindPortAllocated},
	"app-image-tagged":              {grader.KindUntagged},
	"app-container-interactive":     {grader.KindMissingTTY, grader.KindMissingStdin, grader.KindNoContainer},
	"port-8000-published":           {grader.KindNotPublished, grader.KindBoundToLoopback, grader.KindRandomHostPort, grader.KindWrongContainerPort},
	"app-answers-http":              {grader.KindDisallowed, grader.KindHTTPRefused, grader.KindHTTPTimeout},
	"instance-type-free-tier":       {grader.KindNotFreeTier, grader.KindPlanNotDeclared},
	"user-network-with-app":         {grader.KindDefaultBridge, grader.KindNoUserNetwork, grader.KindAppNotOnNetwork},
	"multi-stage-image-smaller":     {grader.KindNoMultiStage, grader.KindNotSmaller},
	"multi-stage-container-runs":    {grader.KindMissingPackages, grader.KindContainerExited},
	"image-entrypoint-and-cmd":      {grader.KindCmdOnly, grader.KindEntrypointOnly},
	"security-group-allows-8000":    {grader.KindNoInboundRule, grader.KindWrongPort, grader.KindOutboundRule, grader.KindUDPInsteadOfTCP},
	"security-group-no-risky-rules": {grader.KindSSHOpenToWorld, grader.KindDockerAPIOpen},
}

var (
	demoFirst = []string{"Amara", "Ben", "Chen", "Dana", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemi", "Liam", "Maya",
		"Noah", "Olga", "Priya", "Quentin", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wen", "Ximena", "Yusuf", "Zoe"}
	demoLast = []string{"Abara", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova", "Jensen", "Kowalski",
		"Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka", "Novak", "Weber", "Yilmaz", "Zhang"}
)

const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// randomPassword is 20 characters (about 115 bits) from crypto/rand.
func randomPassword() string { return randomString(20) }

func randomString(n int) string {
	b := make([]byte, n)
	for i := range b {
		v, _ := rand.Int(rand.Reader, big.NewInt(int64(len(passwordAlphabet))))
		b[i] = passwordAlphabet[v.Int64()]
	}
	return string(b)
}

// serveDemo seeds the demo cohort for serve --demo (40 students, once;
// later starts only give the instructor a new password).
func serveDemo(ctx context.Context, cfg *Config, db *store.DB, stdout io.Writer, base string) error {
	course, err := loadCourse(cfg, courseOptions(cfg))
	if err != nil {
		return err
	}
	res, err := seedDemo(ctx, db, course, 40, time.Now())
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	printDemo(stdout, res, base)
	return nil
}
