package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Roles a user can have.
const (
	RoleStudent    = "student"
	RoleInstructor = "instructor"
	RoleAdmin      = "admin"
)

// User is an account. The password hash is never part of it.
type User struct {
	ID               int64
	Email            string
	Name             string
	Role             string
	PreferredVariant string
	CreatedAt        time.Time
}

// IsStaff reports whether the user is an instructor or an admin.
func (u *User) IsStaff() bool {
	return u != nil && (u.Role == RoleInstructor || u.Role == RoleAdmin)
}

// IsAdmin reports whether the user is an admin.
func (u *User) IsAdmin() bool { return u != nil && u.Role == RoleAdmin }

// NewUser is what creating an account needs; Email must be normalized.
type NewUser struct {
	Email        string
	Name         string
	Role         string
	PasswordHash string
}

const userColumns = `id, email, name, role, preferred_variant, created_at`

func scanUser(row pgx.Row) (*User, error) {
	var u User
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.PreferredVariant, &u.CreatedAt); err != nil {
		return nil, mapErr(err)
	}
	return &u, nil
}

// CreateUser inserts an account; ErrConflict when the email is taken.
func (db *DB) CreateUser(ctx context.Context, nu NewUser) (*User, error) {
	return createUser(ctx, db.Pool, nu)
}

func createUser(ctx context.Context, q Querier, nu NewUser) (*User, error) {
	u, err := scanUser(q.QueryRow(ctx,
		`INSERT INTO users (email, name, role, password_hash) VALUES ($1, $2, $3, $4) RETURNING `+userColumns,
		nu.Email, nu.Name, nu.Role, nu.PasswordHash))
	if err != nil {
		return nil, fmt.Errorf("store: create user: %w", err)
	}
	return u, nil
}

// UserByID returns one account.
func (db *DB) UserByID(ctx context.Context, id int64) (*User, error) {
	u, err := scanUser(db.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: user %d: %w", id, err)
	}
	return u, nil
}

// UserByEmail returns the account with a normalized email.
func (db *DB) UserByEmail(ctx context.Context, email string) (*User, error) {
	u, err := scanUser(db.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, email))
	if err != nil {
		return nil, fmt.Errorf("store: user by email: %w", err)
	}
	return u, nil
}

// UserCredentials returns the account and its password hash, for sign-in
// and password change only.
func (db *DB) UserCredentials(ctx context.Context, email string) (*User, string, error) {
	var u User
	var hash string
	err := db.Pool.QueryRow(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = $1`, email).
		Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.PreferredVariant, &u.CreatedAt, &hash)
	if err != nil {
		return nil, "", fmt.Errorf("store: user credentials: %w", mapErr(err))
	}
	return &u, hash, nil
}

// SetPassword stores a new password hash, deletes every session of the
// user except keepSession (the hash of the session making the change; nil
// keeps none) and ends the user's unused password reset links.
func (db *DB) SetPassword(ctx context.Context, userID int64, hash string, keepSession []byte) error {
	return db.Transact(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, password_changed_at = now() WHERE id = $1`, userID, hash)
		if err != nil {
			return fmt.Errorf("store: set password: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("store: set password: %w", ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2`, userID, keepSession); err != nil {
			return fmt.Errorf("store: revoke sessions: %w", err)
		}
		// A reset link handed out earlier no longer resets this password.
		if err := endPasswordResets(ctx, tx, userID); err != nil {
			return fmt.Errorf("store: end password resets: %w", err)
		}
		return nil
	})
}

// UpdateProfile changes the name and preferred guide variant.
func (db *DB) UpdateProfile(ctx context.Context, userID int64, name, variant string) (*User, error) {
	u, err := scanUser(db.Pool.QueryRow(ctx,
		`UPDATE users SET name = $2, preferred_variant = $3 WHERE id = $1 RETURNING `+userColumns, userID, name, variant))
	if err != nil {
		return nil, fmt.Errorf("store: update profile: %w", err)
	}
	return u, nil
}

// SetRole changes a user's role. Demoting the last admin is refused with
// ErrConflict, so the server always keeps one.
func (db *DB) SetRole(ctx context.Context, userID int64, role string) (*User, error) {
	var u *User
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		// Serialize role changes so two admins cannot demote each other at once.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(4242002)`); err != nil {
			return err
		}
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET role = $2 WHERE id = $1 RETURNING `+userColumns, userID, role))
		if err != nil {
			return err
		}
		var admins int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'admin'`).Scan(&admins); err != nil {
			return err
		}
		if admins == 0 {
			return fmt.Errorf("%w: the last admin cannot lose the role", ErrConflict)
		}
		if role == RoleStudent {
			// A student teaches no cohort.
			if _, err := tx.Exec(ctx, `DELETE FROM cohort_members WHERE user_id = $1 AND role = 'instructor'`, userID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: set role: %w", err)
	}
	return u, nil
}

// ListUsers returns every account, newest first, up to limit.
func (db *DB) ListUsers(ctx context.Context, limit int) ([]User, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY created_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	us, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) {
		u, err := scanUser(r)
		if err != nil {
			return User{}, err
		}
		return *u, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return us, nil
}

// CountUsers returns how many accounts exist (zero before first setup).
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}
