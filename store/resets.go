package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CreatePasswordReset stores a one-time password reset link for userID by
// its hash, valid until expiresAt, and ends the account's earlier unused
// links: only the newest link handed over works.
func (db *DB) CreatePasswordReset(ctx context.Context, userID int64, createdBy *int64, tokenHash []byte, expiresAt time.Time) error {
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		if err := endPasswordResets(ctx, tx, userID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx,
			`INSERT INTO password_resets (token_hash, user_id, created_by, expires_at) VALUES ($1, $2, $3, $4)`,
			tokenHash, userID, createdBy, expiresAt)
		return mapErr(err)
	})
	if err != nil {
		return fmt.Errorf("store: create password reset: %w", err)
	}
	return nil
}

// endPasswordResets makes the account's unused links expire now.
func endPasswordResets(ctx context.Context, q Querier, userID int64) error {
	_, err := q.Exec(ctx, `UPDATE password_resets SET expires_at = now()
		WHERE user_id = $1 AND used_at IS NULL AND expires_at > now()`, userID)
	return err
}

// PasswordResetUser returns the account of an unused, unexpired reset
// link; ErrNotFound otherwise.
func (db *DB) PasswordResetUser(ctx context.Context, tokenHash []byte) (*User, error) {
	u, err := scanUser(db.Pool.QueryRow(ctx, `
		SELECT u.id, u.email, u.name, u.role, u.preferred_variant, u.created_at FROM password_resets r JOIN users u ON u.id = r.user_id
		WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > now()`, tokenHash))
	if err != nil {
		return nil, fmt.Errorf("store: password reset: %w", err)
	}
	return u, nil
}

// UsePasswordReset spends the link and sets the account's password,
// atomically (a link works once, even when two requests race), and ends
// every session of the account: whoever knew the old password is signed
// out. ErrNotFound when the link is used, expired or unknown.
func (db *DB) UsePasswordReset(ctx context.Context, tokenHash []byte, passwordHash string) (*User, error) {
	var u *User
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		var id, userID int64
		err := tx.QueryRow(ctx, `
			SELECT id, user_id FROM password_resets
			WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() FOR UPDATE`, tokenHash).Scan(&id, &userID)
		if err != nil {
			return mapErr(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE password_resets SET used_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		if u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET password_hash = $2, password_changed_at = now()
			WHERE id = $1 RETURNING `+userColumns, userID, passwordHash)); err != nil {
			return err
		}
		if err := endPasswordResets(ctx, tx, userID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: use password reset: %w", err)
	}
	return u, nil
}
