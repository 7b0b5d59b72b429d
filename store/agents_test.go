package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/store/storetest"
)

func TestAgentTokensAndSessions(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, store.NewUser{Email: "agent@example.org", Name: "A", Role: store.RoleStudent, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}

	// Tokens: a new one replaces the old; a revoked one is refused.
	if err := db.SetAgentToken(ctx, u.ID, []byte("old"), "old1"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetAgentToken(ctx, u.ID, []byte("new"), "new1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AgentTokenUser(ctx, []byte("old")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a replaced token still works: %v", err)
	}
	if id, err := db.AgentTokenUser(ctx, []byte("new")); err != nil || id != u.ID {
		t.Errorf("the new token: %d %v", id, err)
	}
	if err := db.RevokeAgentToken(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AgentTokenUser(ctx, []byte("new")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a revoked token still works: %v", err)
	}
	if err := db.RevokeAgentToken(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking twice: %v, want ErrNotFound", err)
	}
	if tok, err := db.AgentToken(ctx, u.ID); err != nil || tok.RevokedAt == nil || tok.Hint != "new1" {
		t.Errorf("kept token: %+v %v", tok, err)
	}

	// Sessions: nanoseconds in, a late disconnect of an older session and
	// an out-of-order connect change nothing.
	older := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	newer := older.Add(time.Second)
	for _, s := range []store.AgentSession{
		{UserID: u.ID, InternalURL: "http://b", Since: newer, DockerVersion: "28"},
		{UserID: u.ID, InternalURL: "http://a", Since: older, DockerVersion: "27"},
	} {
		if err := db.AgentConnected(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := db.AgentDisconnected(ctx, u.ID, older); err != nil || ok {
		t.Errorf("late disconnect of the older session: ok=%v %v", ok, err)
	}
	s, err := db.AgentSession(ctx, u.ID)
	if err != nil || !s.Connected || s.InternalURL != "http://b" || s.DockerVersion != "28" {
		t.Fatalf("session after out-of-order writes: %+v %v", s, err)
	}
	// A session its replica stops confirming turns stale; confirming it
	// makes it fresh again.
	if _, err := db.Pool.Exec(ctx, `UPDATE agent_sessions SET last_seen = now() - interval '3 minutes' WHERE user_id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.AgentSession(ctx, u.ID); !s.Stale {
		t.Error("a session unconfirmed for 3 minutes is not stale")
	}
	if err := db.TouchAgentSessions(ctx, "http://b"); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.AgentSession(ctx, u.ID); s.Stale || !s.Connected {
		t.Errorf("a confirmed session: %+v", s)
	}
	if n, err := db.ResetAgentSessions(ctx, "http://a"); err != nil || n != 0 {
		t.Errorf("reset of another replica's rows: %d %v", n, err)
	}
	if ok, err := db.AgentDisconnected(ctx, u.ID, newer); err != nil || !ok {
		t.Errorf("disconnect of the current session: ok=%v %v", ok, err)
	}
	if s, _ := db.AgentSession(ctx, u.ID); s.Connected {
		t.Error("still connected after its disconnect")
	}
}

func TestUploadTokenWorksOnce(t *testing.T) {
	db := storetest.New(t)
	sealer, err := store.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetSealer(sealer)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, store.NewUser{Email: "tls@example.org", Name: "T", Role: store.RoleStudent, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := db.CreateUploadToken(ctx, u.ID, []byte("link"), now.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	b := store.DockerTLS{Endpoint: "tcp://203.0.113.1:2376", CAPEM: "ca", CertPEM: "cert", KeyPEM: "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"}
	if _, err := db.UseUploadToken(ctx, []byte("link"), now.Add(16*time.Minute), b); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired link: %v", err)
	}
	if id, err := db.UseUploadToken(ctx, []byte("link"), now, b); err != nil || id != u.ID {
		t.Fatalf("first use: %d %v", id, err)
	}
	if _, err := db.UseUploadToken(ctx, []byte("link"), now, b); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second use: %v", err)
	}
	tg, err := db.Target(ctx, u.ID)
	if err != nil || tg.DockerMode != "tls" || tg.DockerKeyPEM != b.KeyPEM || tg.DockerEndpoint != b.Endpoint {
		t.Errorf("stored target: %+v %v", tg, err)
	}
}
