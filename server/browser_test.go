package server

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/coursekit/workshop/internal/testenv"
)

// browser starts headless Chromium for one test (with extra options); it skips locally and
// fails under CI when Chromium is missing.
func browser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		testenv.Require(t, "Chromium", errors.New("no chromium on PATH (apt-get install chromium)"))
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first action starts the browser; it must not carry a timeout of
	// its own, or the timeout would stop the whole browser.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		testenv.Require(t, "Chromium", err)
	}
	return ctx
}

// TestBrowserReadsTheCourse reads a step the way a student does: the copy
// buttons appear once JavaScript runs, the variant switch keeps the step,
// and on a phone-sized screen the page needs no sideways scrolling.
func TestBrowserReadsTheCourse(t *testing.T) {
	h := newHarness(t)
	ctx := browser(t)
	run := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	run(chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(h.TS.URL+"/guide/guided/build-image"),
		chromedp.WaitVisible(chromedp.CSS(`.code-block button.copy`)))
	copyVisible, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.querySelector('.code-block button.copy').hidden`))
	if err != nil || !copyVisible {
		t.Errorf("copy buttons stay hidden with JavaScript on (%v)", err)
	}
	run(chromedp.Click(chromedp.CSS(`nav.variant-switch a[href="/guide/concepts/build-image"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.variant-switch a[aria-current="true"][href="/guide/concepts/build-image"]`)))
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(location, "/guide/concepts/build-image") {
		t.Errorf("variant switch went to %s (%v)", location, err)
	}
	run(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(h.TS.URL+"/guide/guided/publish-port"),
		chromedp.WaitVisible(chromedp.CSS(`article h1`)))
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || overflow {
		t.Errorf("on a phone-sized screen the page scrolls sideways (%v)", err)
	}
}
