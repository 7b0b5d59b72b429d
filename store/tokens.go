package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SetupToken is a one-time link that creates an account with a role: the
// first admin, or an invited instructor.
type SetupToken struct {
	ID        int64
	Role      string
	CreatedBy *int64
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// CreateSetupToken stores a one-time link by its hash.
func (db *DB) CreateSetupToken(ctx context.Context, tokenHash []byte, role string, createdBy *int64, expiresAt time.Time) error {
	_, err := db.Pool.Exec(ctx,
		`INSERT INTO setup_tokens (token_hash, role, created_by, expires_at) VALUES ($1, $2, $3, $4)`,
		tokenHash, role, createdBy, expiresAt)
	if err != nil {
		return fmt.Errorf("store: create setup token: %w", mapErr(err))
	}
	return nil
}

// ValidSetupToken returns the unused, unexpired link with this hash.
func (db *DB) ValidSetupToken(ctx context.Context, tokenHash []byte) (*SetupToken, error) {
	var t SetupToken
	err := db.Pool.QueryRow(ctx, `
		SELECT id, role, created_by, created_at, expires_at, used_at FROM setup_tokens
		WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()`, tokenHash).
		Scan(&t.ID, &t.Role, &t.CreatedBy, &t.CreatedAt, &t.ExpiresAt, &t.UsedAt)
	if err != nil {
		return nil, fmt.Errorf("store: setup token: %w", mapErr(err))
	}
	return &t, nil
}

// UseSetupToken spends the link and creates the account with the link's
// role, atomically: a link works once, even when two requests race.
// ErrNotFound when the link is used or expired, ErrConflict when the email
// is taken (the link stays unused then).
func (db *DB) UseSetupToken(ctx context.Context, tokenHash []byte, nu NewUser) (*User, error) {
	var u *User
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		var id int64
		var role string
		err := tx.QueryRow(ctx, `
			SELECT id, role FROM setup_tokens
			WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() FOR UPDATE`, tokenHash).Scan(&id, &role)
		if err != nil {
			return mapErr(err)
		}
		nu.Role = role
		if u, err = createUser(ctx, tx, nu); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE setup_tokens SET used_at = now(), used_by = $2 WHERE id = $1`, id, u.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: use setup token: %w", err)
	}
	return u, nil
}

// APIToken is a named credential for the JSON API. Only its hash is stored.
type APIToken struct {
	ID        int64
	UserID    int64
	Name      string
	CreatedAt time.Time
	LastUsed  *time.Time
	RevokedAt *time.Time
}

// CreateAPIToken stores a new API token by its hash.
func (db *DB) CreateAPIToken(ctx context.Context, userID int64, name string, tokenHash []byte) (*APIToken, error) {
	t := APIToken{UserID: userID, Name: name}
	err := db.Pool.QueryRow(ctx,
		`INSERT INTO api_tokens (token_hash, user_id, name) VALUES ($1, $2, $3) RETURNING id, created_at`,
		tokenHash, userID, name).Scan(&t.ID, &t.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("store: create api token: %w", mapErr(err))
	}
	return &t, nil
}

// APITokenUser returns the user of an unrevoked token and records its use
// (at most once a minute, to spare the table).
func (db *DB) APITokenUser(ctx context.Context, tokenHash []byte) (*User, error) {
	var u User
	var id int64
	err := db.Pool.QueryRow(ctx, `
		SELECT t.id, u.id, u.email, u.name, u.role, u.preferred_variant, u.created_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL`, tokenHash).
		Scan(&id, &u.ID, &u.Email, &u.Name, &u.Role, &u.PreferredVariant, &u.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("store: api token: %w", mapErr(err))
	}
	if _, err := db.Pool.Exec(ctx, `
		UPDATE api_tokens SET last_used = now()
		WHERE id = $1 AND (last_used IS NULL OR last_used < now() - interval '1 minute')`, id); err != nil {
		return nil, fmt.Errorf("store: api token use: %w", err)
	}
	return &u, nil
}

// ListAPITokens returns a user's tokens, newest first.
func (db *DB) ListAPITokens(ctx context.Context, userID int64) ([]APIToken, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT id, user_id, name, created_at, last_used, revoked_at FROM api_tokens
		WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: list api tokens: %w", err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (APIToken, error) {
		var t APIToken
		err := r.Scan(&t.ID, &t.UserID, &t.Name, &t.CreatedAt, &t.LastUsed, &t.RevokedAt)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: list api tokens: %w", err)
	}
	return ts, nil
}

// RevokeAPIToken revokes one of a user's tokens; ErrNotFound when the user
// has no such unrevoked token.
func (db *DB) RevokeAPIToken(ctx context.Context, userID, tokenID int64) error {
	tag, err := db.Pool.Exec(ctx,
		`UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`, tokenID, userID)
	if err != nil {
		return fmt.Errorf("store: revoke api token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: revoke api token: %w", ErrNotFound)
	}
	return nil
}
