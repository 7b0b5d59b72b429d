package server

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestZZFreetierJS(t *testing.T) {
	if os.Getenv("FT_SHOTS") == "" {
		t.Skip()
	}
	h := newFreetierHarness(t)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:], chromedp.NoSandbox, chromedp.ExecPath("/usr/bin/chromium"))...)
	defer cancel()
	ctx, cancel2 := chromedp.NewContext(actx)
	defer cancel2()
	ev := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(h.TS.URL+"/freetier?plan=legacy&created=2025-03-01&month=2025-12&instances=2&hours=375&type=t2.micro")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	state := `JSON.stringify({total: (document.querySelector('[data-figure="total_usd"]')||{}).textContent, url: location.href, live: document.getElementById('ft-live').textContent + (document.getElementById('ft-live').hidden?' (hidden)':''), err: document.getElementById('ft-instances-error').textContent, errHidden: document.getElementById('ft-instances-error').hidden, invalid: document.getElementById('ft-instances').getAttribute('aria-invalid'), h2: document.getElementById('ft-result-h').textContent, busy: document.getElementById('ft-result').getAttribute('aria-busy')})`
	set := func(id, v string) string {
		return `(function(){var e=document.getElementById("` + id + `");e.value="` + v + `";e.dispatchEvent(new Event("input",{bubbles:true}));return "ok"})()`
	}
	t.Log("start ", ev(state))
	ev(set("ft-hours", "744"))
	time.Sleep(1200 * time.Millisecond)
	t.Log("hours=744 ", ev(state))
	ev(set("ft-instances", "x"))
	time.Sleep(1200 * time.Millisecond)
	t.Log("instances=x ", ev(state))
	ev(set("ft-instances", "3"))
	ev(`(function(){document.querySelector("button[type=submit]").click();return "ok"})()`)
	time.Sleep(1200 * time.Millisecond)
	t.Log("instances=3 submit ", ev(state))
	// group 3 filled
	ev(set("ft-instances_3", "2"))
	time.Sleep(200 * time.Millisecond)
	ev(set("ft-type_3", "t3.small"))
	time.Sleep(1200 * time.Millisecond)
	t.Log("group3 ", ev(state), ev(`document.querySelector(".ft-chart-data table").innerText`))
}
