package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/store/storetest"
)

func mustUser(t *testing.T, db *store.DB, email, role string) *store.User {
	t.Helper()
	u, err := db.CreateUser(context.Background(), store.NewUser{Email: email, Name: "N", Role: role, PasswordHash: "$argon2id$x"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUsersAndTypedErrors(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	u := mustUser(t, db, "a@example.org", store.RoleAdmin)
	if _, err := db.CreateUser(ctx, store.NewUser{Email: "a@example.org", Role: store.RoleStudent, PasswordHash: "x"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate email: %v, want ErrConflict", err)
	}
	if _, err := db.CreateUser(ctx, store.NewUser{Email: "Upper@example.org", Role: store.RoleStudent, PasswordHash: "x"}); err == nil {
		t.Error("an email that is not normalized was stored")
	}
	if _, err := db.UserByEmail(ctx, "nobody@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown email: %v, want ErrNotFound", err)
	}
	if _, _, err := db.UserCredentials(ctx, "nobody@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown credentials: %v, want ErrNotFound", err)
	}
	if _, err := db.SetRole(ctx, u.ID, store.RoleInstructor); !errors.Is(err, store.ErrConflict) {
		t.Errorf("demoting the last admin: %v, want ErrConflict", err)
	}
	if _, err := db.SetRole(ctx, 999999, store.RoleAdmin); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
	if n, err := db.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("CountUsers = %d, %v", n, err)
	}
}

func TestSetupTokenWorksOnce(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	hash := []byte("0123456789abcdef0123456789abcdef")
	if err := db.CreateSetupToken(ctx, hash, store.RoleAdmin, nil, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustUser(t, db, "taken@example.org", store.RoleStudent)
	if _, err := db.UseSetupToken(ctx, hash, store.NewUser{Email: "taken@example.org", PasswordHash: "x"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("taken email: %v", err)
	}
	u, err := db.UseSetupToken(ctx, hash, store.NewUser{Email: "root@example.org", PasswordHash: "x"})
	if err != nil || u.Role != store.RoleAdmin {
		t.Fatalf("first use: %+v %v", u, err)
	}
	if _, err := db.UseSetupToken(ctx, hash, store.NewUser{Email: "again@example.org", PasswordHash: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second use: %v, want ErrNotFound", err)
	}
	old := []byte("fedcba9876543210fedcba9876543210")
	if err := db.CreateSetupToken(ctx, old, store.RoleInstructor, nil, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ValidSetupToken(ctx, old); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired link: %v, want ErrNotFound", err)
	}
}

func TestSessionsExpire(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	u := mustUser(t, db, "s@example.org", store.RoleStudent)
	live, dead := []byte("live-session-hash"), []byte("dead-session-hash")
	for _, s := range []store.Session{{TokenHash: live, UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}, {TokenHash: dead, UserID: u.ID, ExpiresAt: time.Now().Add(-time.Second)}} {
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, got, err := db.SessionUser(ctx, live); err != nil || got.ID != u.ID {
		t.Errorf("live session: %v", err)
	}
	if _, _, err := db.SessionUser(ctx, dead); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired session: %v, want ErrNotFound", err)
	}
	if n, err := db.DeleteExpiredSessions(ctx); err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions = %d, %v", n, err)
	}
	if err := db.SetPassword(ctx, u.ID, "new", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SessionUser(ctx, live); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session after password change: %v, want ErrNotFound", err)
	}
}

func TestThrottleWindows(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	for want := 1; want <= 3; want++ {
		n, reset, err := db.ThrottleHit(ctx, "ip:203.0.113.9", 15*time.Minute)
		if err != nil || n != want || time.Until(reset) < 14*time.Minute {
			t.Fatalf("hit %d: n=%d reset in %v, %v", want, n, time.Until(reset), err)
		}
	}
	if err := db.ThrottleForgive(ctx, "ip:203.0.113.9"); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := db.ThrottleHit(ctx, "ip:203.0.113.9", 15*time.Minute); n != 3 {
		t.Errorf("after forgiving one: n=%d, want 3", n)
	}
	// A window that has passed starts again at one.
	if _, err := db.Pool.Exec(ctx, `UPDATE login_throttle SET window_start = now() - interval '20 minutes'`); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := db.ThrottleHit(ctx, "ip:203.0.113.9", 15*time.Minute); n != 1 {
		t.Errorf("new window: n=%d, want 1", n)
	}
	if err := db.ThrottleReset(ctx, "ip:203.0.113.9"); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := db.ThrottleHit(ctx, "ip:203.0.113.9", 15*time.Minute); n != 1 {
		t.Errorf("after reset: n=%d, want 1", n)
	}
}

func TestCohortsAndMembers(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	teacher := mustUser(t, db, "t@example.org", store.RoleInstructor)
	student := mustUser(t, db, "st@example.org", store.RoleStudent)
	st := store.CohortSettings{Name: "A", JoinOpen: true, DefaultVariant: "guided", PassMark: 0.7}
	a, err := db.CreateCohort(ctx, st, "CODEAAAAAA", teacher.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.AllowPrivateRanges {
		t.Error("private ranges must be off by default")
	}
	if _, err := db.CreateCohort(ctx, st, "CODEAAAAAA", teacher.ID); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate join code: %v, want ErrConflict", err)
	}
	b, err := db.CreateCohort(ctx, store.CohortSettings{Name: "B", DefaultVariant: "concepts", PassMark: 0.5}, "CODEBBBBBB", teacher.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.HasCohortRole(ctx, a.ID, teacher.ID, store.RoleInstructor); !ok {
		t.Error("the creator does not teach the cohort")
	}
	if _, err := db.StudentCohort(ctx, student.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("no cohort yet: %v", err)
	}
	for _, c := range []*store.Cohort{a, b, a} { // joining A again keeps the first membership
		if err := db.AddMember(ctx, c.ID, student.ID, store.RoleStudent); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := db.StudentCohort(ctx, student.ID); err != nil || got.ID != b.ID {
		t.Errorf("current cohort = %+v %v, want the most recently joined (B)", got, err)
	}
	members, err := db.CohortMembers(ctx, a.ID)
	if err != nil || len(members) != 2 || members[0].CohortRole != store.RoleInstructor {
		t.Errorf("members = %+v %v", members, err)
	}
	if got, err := db.CohortByJoinCode(ctx, "CODEBBBBBB"); err != nil || got.ID != b.ID {
		t.Errorf("by code: %v", err)
	}
	if err := db.RemoveMember(ctx, a.ID, student.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveMember(ctx, a.ID, student.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removing twice: %v, want ErrNotFound", err)
	}
	if _, err := db.CohortByID(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown cohort: %v", err)
	}
	list, err := db.InstructorCohorts(ctx, teacher.ID)
	if err != nil || len(list) != 2 {
		t.Errorf("instructor cohorts = %d, %v", len(list), err)
	}
}

func TestAPITokens(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	u := mustUser(t, db, "api@example.org", store.RoleInstructor)
	other := mustUser(t, db, "other@example.org", store.RoleInstructor)
	tok, err := db.CreateAPIToken(ctx, u.ID, "script", []byte("api-token-hash"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := db.APITokenUser(ctx, []byte("api-token-hash")); err != nil || got.ID != u.ID {
		t.Fatalf("token user: %v", err)
	}
	if err := db.RevokeAPIToken(ctx, other.ID, tok.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking another's token: %v, want ErrNotFound", err)
	}
	if err := db.RevokeAPIToken(ctx, u.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.APITokenUser(ctx, []byte("api-token-hash")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoked token: %v, want ErrNotFound", err)
	}
	list, err := db.ListAPITokens(ctx, u.ID)
	if err != nil || len(list) != 1 || list[0].RevokedAt == nil || list[0].LastUsed == nil {
		t.Errorf("tokens = %+v %v", list, err)
	}
}
