package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func TestTransactCommitsAndRollsBack(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	if err := db.Transact(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('a', '1')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('b', '2')`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM settings`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("got %d rows, want 1 (the rolled-back insert must be gone)", n)
	}
}

func TestEachTestHasItsOwnDatabase(t *testing.T) {
	a, b := storetest.New(t), storetest.New(t)
	ctx := context.Background()
	if _, err := a.Pool.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('x', '1')`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.Pool.QueryRow(ctx, `SELECT count(*) FROM settings`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("second database sees %d rows of the first", n)
	}
}

func TestWhereHidesPassword(t *testing.T) {
	got := store.Where("postgres://alice:secret@db.example:6543/course")
	if want := "db.example:6543, database course"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
