package server

import (
	"os"
	"os/exec"
	"testing"
)

func TestZZFreetierShots(t *testing.T) {
	if os.Getenv("FT_SHOTS") == "" {
		t.Skip()
	}
	h := newFreetierHarness(t)
	shots := map[string]string{
		"legacy": "/freetier?plan=legacy&created=2025-03-01&month=2025-12&instances=2&type=t2.micro&type_2=t3.small&instances_2=1&hours_2=100",
		"credits": "/freetier?plan=credits&created=2026-10-01&month=2026-12&instances=1&type=t3.micro&ipv4=1",
		"errors": "/freetier?instances=abc&hours=9999&type_3=x&instances_3=1",
	}
	for name, p := range shots {
		out, err := exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
			"--window-size=1280,2600", "--screenshot=/tmp/ft-"+name+".png", h.TS.URL+p).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	out, err := exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--window-size=390,3000", "--screenshot=/tmp/ft-mobile.png", h.TS.URL+shots["legacy"]).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
}
