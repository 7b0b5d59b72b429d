package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/coursekit/workshop/internal/testenv"
)

func TestRunCheck(t *testing.T) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = cli.Ping(ctx)
		cancel()
		cli.Close()
	}
	testenv.Require(t, "docker", err)

	var out, errOut bytes.Buffer
	if code := runCheck([]string{"--checks", "docker-reachable"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "PASS  docker-reachable") {
		t.Errorf("output:\n%s", out.String())
	}

	out.Reset()
	code := runCheck([]string{"--checks", "docker-reachable,app-answers-http", "--app-url", "http://127.0.0.1:1/", "--json"}, &out, &errOut)
	var rs []struct{ CheckID, Status, Kind string }
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil || len(rs) != 2 {
		t.Fatalf("json output %q: %v", out.String(), err)
	}
	if code != 1 || rs[1].Status != "fail" || rs[1].Kind != "refused" {
		t.Errorf("exit %d, results %+v: want exit 1 and the app refused", code, rs)
	}

	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--step", "clone"}, 0},
		{[]string{"--step", "no-such-step"}, 2},
		{[]string{"--checks", "no-such-check"}, 2},
		{nil, 2},
	} {
		if got := runCheck(tc.args, &out, &errOut); got != tc.want {
			t.Errorf("runCheck(%v) = %d, want %d", tc.args, got, tc.want)
		}
	}
}
