package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coursekit/workshop/grader/agent"
	"github.com/coursekit/workshop/internal/testenv"
	"github.com/coursekit/workshop/store"
)

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func sha(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// checkVia runs a step's checks on the server at base with an API token
// and returns the statuses and summaries by check id, waiting out the
// per-step rate limit.
func checkVia(t *testing.T, base, apiToken, step string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/steps/"+step+"/check", strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+apiToken)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		resp, err := (&http.Client{Timeout: 90 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Results []struct {
				CheckID string `json:"check_id"`
				Status  string `json:"status"`
				Summary string `json:"summary"`
			} `json:"results"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && time.Now().Before(deadline) {
			time.Sleep(time.Second)
			continue
		}
		if resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("check %s on %s: %d %v", step, base, resp.StatusCode, err)
		}
		got := map[string]string{}
		for _, r := range out.Results {
			got[r.CheckID] = r.Status + ": " + r.Summary
		}
		return got
	}
}

// TestProcessAgentAcrossReplicasAndRestart: two server processes on one
// database, the agent process connected to the first; a check on the
// second reaches it through the internal hop, the agent comes back after
// the first restarts, and a new token disconnects it at once.
func TestProcessAgentAcrossReplicasAndRestart(t *testing.T) {
	if _, err := os.Stat(agent.DefaultDockerSocket); err != nil {
		testenv.Require(t, "Docker engine", err)
	}
	t.Parallel()
	ctx := context.Background()
	dbURL := freshDatabase(t)
	addrs := []string{freeAddr(t), freeAddr(t)}
	envs := make([][]string, 2)
	procs := make([]*proc, 2)
	for i := range procs {
		// No WORKSHOP_INTERNAL_URL: the default, http://127.0.0.1:PORT,
		// is right for replicas on one machine.
		envs[i] = []string{"WORKSHOP_DATA=" + newDataDir(t), "WORKSHOP_ADDR=" + addrs[i], "DATABASE_URL=" + dbURL,
			"WORKSHOP_INTERNAL_SECRET=shared-by-both-replicas"}
		procs[i] = startProc(t, envs[i])
	}
	for i, p := range procs {
		waitStatus(t, p, "http://"+addrs[i]+"/readyz", http.StatusOK, 20*time.Second)
	}

	// A student with an API token and an agent token, made in the database
	// as the pages would.
	db, err := store.Open(ctx, dbURL, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.CreateUser(ctx, store.NewUser{Email: "agent-student@example.org", Name: "S", Role: store.RoleStudent, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	apiToken, agentToken := randomToken(), randomToken()
	if _, err := db.CreateAPIToken(ctx, u.ID, "test", sha(apiToken)); err != nil {
		t.Fatal(err)
	}
	if err := db.SetAgentToken(ctx, u.ID, sha(agentToken), agentToken[len(agentToken)-4:]); err != nil {
		t.Fatal(err)
	}
	if err := db.UseAgentIfUnset(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	connected := func() int64 {
		return sqlInt(t, dbURL, `SELECT count(*) FROM agent_sessions WHERE user_id = $1 AND connected`, u.ID)
	}
	since := func() int64 {
		return sqlInt(t, dbURL, `SELECT coalesce((extract(epoch FROM since) * 1000000)::bigint, 0) FROM agent_sessions WHERE user_id = $1`, u.ID)
	}
	waitUntil := func(within time.Duration, what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("after %v: %s", within, what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	ag := startProc(t, []string{"WORKSHOP_AGENT_TOKEN=" + agentToken}, "agent", "--server", "http://"+addrs[0])
	waitUntil(15*time.Second, "the agent connected to replica 0", func() bool { return connected() == 1 })

	got := checkVia(t, "http://"+addrs[1], apiToken, "build-image")
	if r := got["docker-reachable"]; !strings.HasPrefix(r, "pass") || !strings.Contains(r, "through the agent") {
		t.Fatalf("docker-reachable on replica 1 through replica 0: %q", r)
	}

	// Replica 0 restarts: the agent reconnects on its own.
	first := since()
	procs[0].stop()
	waitUntil(20*time.Second, "the session ended with the replica", func() bool { return connected() == 0 })
	procs[0] = startProc(t, envs[0])
	waitStatus(t, procs[0], "http://"+addrs[0]+"/readyz", http.StatusOK, 20*time.Second)
	waitUntil(45*time.Second, "the agent reconnected after the restart", func() bool { return connected() == 1 && since() != first })
	got = checkVia(t, "http://"+addrs[1], apiToken, "build-image")
	if r := got["docker-reachable"]; !strings.HasPrefix(r, "pass") {
		t.Fatalf("docker-reachable after the restart: %q", r)
	}

	// A new token (made anywhere) ends the old one's session at once.
	if err := db.SetAgentToken(ctx, u.ID, sha(randomToken()), "new1"); err != nil {
		t.Fatal(err)
	}
	waitUntil(20*time.Second, "the agent with the replaced token disconnected", func() bool { return connected() == 0 })
	// The close reason first ("agent token revoked"), then, at the next
	// attempt after the backoff, the server's refusal of the token.
	waitUntil(20*time.Second, "the agent reported its token refused", func() bool {
		out := ag.out.String()
		return strings.Contains(out, "agent token revoked") && strings.Contains(out, "token revoked or invalid")
	})
	ag.stop()
	for _, p := range procs {
		p.stop()
	}
}
