package server

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/coursekit/workshop/grader"
	"github.com/coursekit/workshop/internal/testenv"
	"github.com/coursekit/workshop/store"
)

// scriptlessBrowser starts headless Chromium with JavaScript turned off, in
// a profile of its own, the way a visitor who blocks scripts sees the site.
func scriptlessBrowser(t *testing.T) context.Context {
	t.Helper()
	return browser(t, chromedp.Flag("blink-settings", "scriptEnabled=false"))
}

// driver runs browser actions for a test, each batch under a timeout, and
// fails the test with what was being done.
type driver struct {
	t   *testing.T
	ctx context.Context
}

// do runs void actions; what names them in a failure.
func (d driver) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		d.t.Fatalf("%s: %v", what, err)
	}
}

// eval returns the value of a JavaScript expression.
func eval[T any](d driver, expr string) T {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		d.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// status opens url and returns the HTTP status of the page.
func (d driver) status(url string) int64 {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		d.t.Fatalf("open %s: %v", url, err)
	}
	return resp.Status
}

// fill replaces the values of inputs of the current page, by id, typing
// the new ones.
func fill(fields map[string]string) chromedp.Action[chromedp.Void] {
	var steps []chromedp.Action[chromedp.Void]
	for id, v := range fields {
		steps = append(steps, chromedp.Clear(chromedp.CSS("#"+id)), chromedp.SendKeys(chromedp.CSS("#"+id), v))
	}
	return chromedp.Steps(steps...)
}

// TestBrowserNewcomerFlow is issue 3's "done when" in two real browsers:
// the first admin from the setup link the server prints, a cohort and its
// invite link, and a student who signs up through it in another profile.
func TestBrowserNewcomerFlow(t *testing.T) {
	h := newHarness(t)
	var out bytes.Buffer
	if err := h.Srv.AnnounceSetup(context.Background(), &out, h.TS.URL); err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(h.TS.URL) + `/setup/[A-Za-z0-9_-]{43}`).FindString(out.String())
	if link == "" {
		t.Fatalf("no setup link in %q", out.String())
	}
	admin := driver{t, browser(t)}
	student := driver{t, browser(t)}

	admin.do("create the admin",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`#f-password`)),
		fill(map[string]string{"f-name": "Ada Admin", "f-email": "ada@example.org", "f-password": "admin password 1"}),
		chromedp.Click(chromedp.CSS(`form[action^="/setup/"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`header a[href="/account"]`)))
	if loc := eval[string](admin, `location.pathname`); loc != "/admin/users" {
		t.Errorf("after creating the admin the browser is at %s, want /admin/users", loc)
	}
	admin.do("create a cohort",
		chromedp.Navigate(h.TS.URL+"/cohorts"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/cohorts"] #f-name`)),
		fill(map[string]string{"f-name": "January", "f-pass_mark": "70"}),
		chromedp.Click(chromedp.CSS(`form[action="/cohorts"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/join-code"]`)))
	cohortURL := eval[string](admin, `location.href`)
	invite := eval[string](admin, `(Array.from(document.querySelectorAll("main code")).find(c => c.textContent.includes("/join/")) || {}).textContent || ""`)
	if !strings.HasPrefix(invite, h.TS.URL+"/join/") {
		t.Fatalf("the cohort page shows no invite link (got %q)", invite)
	}

	// The second profile shares no cookies with the admin's: it sees the
	// invite as a visitor (signed in, the page has no password field).
	student.do("open the invite",
		chromedp.Navigate(invite),
		chromedp.WaitVisible(chromedp.CSS(`#f-password`)))
	if !eval[bool](student, `!!document.querySelector('header a[href="/signin"]')`) {
		t.Fatal("the student's profile is signed in before signing up")
	}
	if h1 := eval[string](student, `document.querySelector("main h1").textContent`); h1 != "Join January" {
		t.Errorf("the invite page's heading is %q", h1)
	}
	student.do("sign up through the invite",
		fill(map[string]string{"f-name": "Sam Student", "f-email": "sam@example.org", "f-password": "student password 1"}),
		chromedp.Click(chromedp.CSS(`form[action^="/join/"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`header a[href="/account"]`)))
	title := eval[string](student, `document.querySelector("main h1").textContent`)
	if !strings.Contains(title, "Dockerize a Django app") {
		t.Errorf("after sign-up the student sees %q, not the course", title)
	}
	if got := eval[string](student, `(document.querySelector('header nav a[href="/progress"]') || {}).textContent || ""`); got != "My progress" {
		t.Errorf("the student's menu has no My progress link (%q)", got)
	}
	if eval[bool](student, `!!document.querySelector('a[href="/cohorts"]')`) {
		t.Error("the student's page links to /cohorts")
	}
	if got := student.status(h.TS.URL + "/progress"); got != 200 {
		t.Errorf("the student's /progress: %d", got)
	}
	if got := student.status(h.TS.URL + "/cohorts"); got != 403 {
		t.Errorf("the student's /cohorts: %d, want 403", got)
	}

	admin.do("reload the cohort page", chromedp.Navigate(cohortURL), chromedp.WaitVisible(chromedp.CSS(`form[action$="/join-code"]`)))
	members := eval[string](admin, `Array.from(document.querySelectorAll("main table tbody tr")).map(r => r.textContent).join("\n")`)
	if !strings.Contains(members, "sam@example.org") || !strings.Contains(members, "Sam Student") {
		t.Errorf("the cohort's member list lacks the student:\n%s", members)
	}
	sam, err := h.DB.UserByEmail(context.Background(), "sam@example.org")
	if err != nil || sam.Role != store.RoleStudent {
		t.Fatalf("the new account: %+v, %v", sam, err)
	}

	// Sam forgets the password: the cohort page makes a reset link, which
	// Sam opens on another device; the first device is signed out.
	admin.do("make a reset link",
		chromedp.Click(chromedp.CSS(`form[action$="/reset-link#reset-link"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#reset-link code`)))
	reset := eval[string](admin, `document.querySelector("#reset-link code").textContent`)
	other := driver{t, browser(t)}
	other.do("set a new password with the link",
		chromedp.Navigate(reset),
		chromedp.WaitVisible(chromedp.CSS(`#f-confirm_password`)),
		fill(map[string]string{"f-password": "a new password 2", "f-confirm_password": "a new password 2"}),
		chromedp.Click(chromedp.CSS(`form[action^="/reset/"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`header a[href="/account"]`)))
	if loc := eval[string](other, `location.pathname`); loc != "/progress" {
		t.Errorf("after the reset the browser is at %s, want /progress", loc)
	}
	student.do("open the account page on the first device", chromedp.Navigate(h.TS.URL+"/account"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	if loc := eval[string](student, `location.pathname`); loc != "/signin" {
		t.Errorf("the first device is still signed in after the reset (at %s)", loc)
	}

	// Removing a member asks first: dismissed, nothing happens; accepted,
	// the student leaves the cohort.
	answers := make(chan bool, 2)
	answers <- false
	answers <- true
	asked := make(chan string, 2)
	go func() {
		for ev, err := range chromedp.Events(admin.ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			asked <- ev.Message
			if _, err := chromedp.Call(admin.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: <-answers}); err != nil {
				return
			}
		}
	}()
	remove := chromedp.CSS(`form[action$="/remove"] button`)
	admin.do("remove Sam, then change my mind", chromedp.Navigate(cohortURL), chromedp.WaitVisible(remove), chromedp.Click(remove), chromedp.Sleep(300*time.Millisecond))
	select {
	case msg := <-asked:
		if !strings.Contains(msg, "sam@example.org") {
			t.Errorf("the confirmation does not name the student: %q", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("removing a member did not ask first")
	}
	cohortID := regexp.MustCompile(`/cohorts/(\d+)`).FindStringSubmatch(cohortURL)[1]
	inCohort := func() bool {
		var n int
		if err := h.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM cohort_members WHERE cohort_id = $1 AND user_id = $2`, cohortID, sam.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if !inCohort() {
		t.Fatal("a dismissed confirmation removed the student")
	}
	admin.do("remove Sam", chromedp.Click(remove), chromedp.WaitVisible(chromedp.CSS(`form[action$="/join-code"]`)), chromedp.Sleep(300*time.Millisecond))
	if inCohort() {
		t.Error("an accepted confirmation did not remove the student")
	}
}

// figuresJS reads the result's figures, as the page marks them up.
const figuresJS = `Object.fromEntries(Array.from(document.querySelectorAll("#ft-result data[data-figure]")).map(d => [d.dataset.figure, d.value]))`

// TestBrowserCalculatorUpdatesAsYouType changes the number of instances in
// the free-tier calculator: with JavaScript the result and the address
// follow without a page load; without it the plain form gives the same.
func TestBrowserCalculatorUpdatesAsYouType(t *testing.T) {
	h := newHarness(t)
	const start = "/freetier?plan=legacy&instances=2&hours=375&type=t2.micro"
	d := driver{t, browser(t)}
	d.do("open the calculator",
		chromedp.Navigate(h.TS.URL+start),
		chromedp.WaitVisible(chromedp.CSS(`#ft-live`)))
	before := eval[map[string]string](d, figuresJS)
	if before["eligible_hours"] != "750" || before["total_usd"] != "0" {
		t.Fatalf("2 × 375 h shows %v", before)
	}
	eval[bool](d, `window.notReloaded = true`)
	d.do("type 3 instances",
		chromedp.Clear(chromedp.CSS(`#ft-instances`)),
		chromedp.SendKeys(chromedp.CSS(`#ft-instances`), "3"))
	pctx, cancel := context.WithTimeout(d.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(pctx, chromedp.Poll[bool](`(document.querySelector('#ft-result data[data-figure="eligible_hours"]') || {}).value === "1125"`,
		chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("the result did not follow the typing: %v (figures %v)", err, eval[map[string]string](d, figuresJS))
	}
	if !eval[bool](d, `window.notReloaded === true`) {
		t.Error("the page loaded again instead of updating the result")
	}
	q, err := url.ParseQuery(strings.TrimPrefix(eval[string](d, `location.search`), "?"))
	if err != nil || q.Get("instances") != "3" || q.Get("hours") != "375" || q.Get("plan") != "legacy" {
		t.Errorf("the address is %v (%v), want instances=3 and the rest kept", q, err)
	}
	after := eval[map[string]string](d, figuresJS)
	if after["total_usd"] == before["total_usd"] || after["over_pool_hours"] != "375" {
		t.Errorf("figures after typing %v, before %v", after, before)
	}

	// Without JavaScript the button submits the form to the server.
	nojs := driver{t, scriptlessBrowser(t)}
	nojs.do("calculate without JavaScript",
		chromedp.Navigate(h.TS.URL+start),
		chromedp.WaitReady(chromedp.CSS(`#ft-instances`)),
		chromedp.Clear(chromedp.CSS(`#ft-instances`)),
		chromedp.SendKeys(chromedp.CSS(`#ft-instances`), kb.End+"3"),
		chromedp.Click(chromedp.CSS(`#ft-form button[type=submit]`)),
		chromedp.WaitReady(chromedp.CSS(`#ft-result data[data-figure="eligible_hours"][value="1125"]`)))
	live, err := chromedp.Run(nojs.ctx, chromedp.AttributeValue(chromedp.CSS(`#ft-live`), "hidden"))
	if err != nil || !live.Exists {
		t.Errorf("the script ran in the browser without JavaScript (%v)", err)
	}
	loc, err := chromedp.Run(nojs.ctx, chromedp.Location())
	if err != nil || !strings.Contains(loc, "instances=3") {
		t.Errorf("without JavaScript the form went to %s (%v)", loc, err)
	}
	total, err := chromedp.Run(nojs.ctx, chromedp.AttributeValue(chromedp.CSS(`#ft-result data[data-figure="total_usd"]`), "value"))
	if err != nil || total.Value != after["total_usd"] {
		t.Errorf("without JavaScript the total is %q, with it %q (%v)", total.Value, after["total_usd"], err)
	}
}

// TestBrowserCheckMyWork signs a student in through the form and presses
// "Check my work" on a step: the results show on the step's page.
func TestBrowserCheckMyWork(t *testing.T) {
	if _, err := os.Stat(dockerSocket); err != nil {
		testenv.Require(t, "Docker engine", err)
	}
	h := newHarness(t, func(o *Options) {
		o.Grader = grader.New(grader.Policy{AllowPlainDocker: true, AllowLoopback: true}, grader.Options{})
		o.Targets.AllowPlain = true
	})
	w := h.world()
	resp := h.postForm(h.sessionClient(w.StudentA), "/target", url.Values{"docker_mode": {"plain"},
		"docker_endpoint": {"unix://" + dockerSocket}, "aws_mode": {"none"}, "aws_plan": {"credits"}})
	if text := readBody(resp); resp.StatusCode != 303 {
		t.Fatalf("save target: %d %s", resp.StatusCode, text)
	}

	d := driver{t, browser(t)}
	d.do("sign in",
		chromedp.Navigate(h.TS.URL+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`#f-password`)),
		fill(map[string]string{"f-email": w.StudentA.Email, "f-password": testPassword}),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`header a[href="/account"]`)))
	d.do("open the step",
		chromedp.Navigate(h.TS.URL+"/guide/guided/build-image"),
		chromedp.WaitVisible(chromedp.CSS(`#check form button[type=submit]`)))
	if eval[bool](d, `!!document.querySelector("#check .result")`) {
		t.Fatal("the step shows results before any check")
	}
	started := time.Now()
	d.do("check my work",
		chromedp.Click(chromedp.CSS(`#check form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#check .result.pass`)))
	t.Logf("the results showed %s after the press", time.Since(started).Round(time.Millisecond))
	if loc := eval[string](d, `location.pathname + location.hash`); loc != "/guide/guided/build-image#check" {
		t.Errorf("after the check the browser is at %s", loc)
	}
	results := eval[[]string](d, `Array.from(document.querySelectorAll("#check .result")).map(r => r.className + ": " + r.textContent.replace(/\s+/g, " ").trim())`)
	var pass string
	for _, r := range results {
		if strings.HasPrefix(r, "result pass:") && strings.Contains(r, "The grader reaches your Docker host") {
			pass = r
		}
	}
	if pass == "" || len(results) != 2 {
		t.Errorf("results on the page:\n%s", strings.Join(results, "\n"))
	}
	if !eval[bool](d, `!!document.querySelector('#check a[href="/progress"]')`) {
		t.Error("the results do not link to the progress page")
	}
	t.Logf("results:\n%s", strings.Join(results, "\n"))
}
