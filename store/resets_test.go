package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/store/storetest"
)

func TestPasswordResetLinks(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	u := mustUser(t, db, "forgot@example.org", store.RoleStudent)
	by := mustUser(t, db, "teacher@example.org", store.RoleInstructor)
	hour := time.Now().Add(time.Hour)
	if err := db.CreateSession(ctx, store.Session{TokenHash: []byte("s1"), UserID: u.ID, ExpiresAt: hour}); err != nil {
		t.Fatal(err)
	}

	// A newer link ends the older one.
	if err := db.CreatePasswordReset(ctx, u.ID, &by.ID, []byte("first"), hour); err != nil {
		t.Fatal(err)
	}
	if got, err := db.PasswordResetUser(ctx, []byte("first")); err != nil || got.ID != u.ID {
		t.Fatalf("first link: %v %v", got, err)
	}
	if err := db.CreatePasswordReset(ctx, u.ID, &by.ID, []byte("second"), hour); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PasswordResetUser(ctx, []byte("first")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the older link after a newer one: %v, want ErrNotFound", err)
	}
	if _, err := db.UsePasswordReset(ctx, []byte("first"), "$argon2id$old-link"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("using the older link: %v, want ErrNotFound", err)
	}

	// Two requests race for one link: one wins, the other gets ErrNotFound.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = db.UsePasswordReset(ctx, []byte("second"), "$argon2id$new")
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("racing uses: %v and %v; want exactly one success", errs[0], errs[1])
	}
	_, hash, err := db.UserCredentials(ctx, u.Email)
	if err != nil || hash != "$argon2id$new" {
		t.Errorf("password after the reset: %q %v", hash, err)
	}
	if _, _, err := db.SessionUser(ctx, []byte("s1")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a session from before the reset: %v, want ErrNotFound (signed out)", err)
	}

	// Expired links and unknown links do nothing.
	if err := db.CreatePasswordReset(ctx, u.ID, nil, []byte("expired"), time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"expired", "unknown"} {
		if _, err := db.UsePasswordReset(ctx, []byte(tok), "$argon2id$x"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s link: %v, want ErrNotFound", tok, err)
		}
	}

	// Changing the password ends a link handed out before.
	if err := db.CreatePasswordReset(ctx, u.ID, &by.ID, []byte("third"), hour); err != nil {
		t.Fatal(err)
	}
	if err := db.SetPassword(ctx, u.ID, "$argon2id$changed", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PasswordResetUser(ctx, []byte("third")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a link after a password change: %v, want ErrNotFound", err)
	}
	if err := db.CreatePasswordReset(ctx, 999999, nil, []byte("nobody"), hour); err == nil {
		t.Error("a link for an account that does not exist was stored")
	}
}
