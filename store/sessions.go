package store

import (
	"context"
	"fmt"
	"time"
)

// Session is a signed-in browser. Only the SHA-256 of its token is stored.
type Session struct {
	TokenHash []byte
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
	LastSeen  time.Time
	IP        string
	UserAgent string
}

// CreateSession stores a new session.
func (db *DB) CreateSession(ctx context.Context, s Session) error {
	_, err := db.Pool.Exec(ctx,
		`INSERT INTO sessions (token_hash, user_id, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5)`,
		s.TokenHash, s.UserID, s.ExpiresAt, s.IP, s.UserAgent)
	if err != nil {
		return fmt.Errorf("store: create session: %w", mapErr(err))
	}
	return nil
}

// SessionUser returns the unexpired session with this token hash and its
// user; ErrNotFound when there is none or it has expired.
func (db *DB) SessionUser(ctx context.Context, tokenHash []byte) (*Session, *User, error) {
	var s Session
	var u User
	err := db.Pool.QueryRow(ctx, `
		SELECT s.token_hash, s.user_id, s.created_at, s.expires_at, s.last_seen, s.ip, s.user_agent,
		       u.id, u.email, u.name, u.role, u.preferred_variant, u.created_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > now()`, tokenHash).
		Scan(&s.TokenHash, &s.UserID, &s.CreatedAt, &s.ExpiresAt, &s.LastSeen, &s.IP, &s.UserAgent,
			&u.ID, &u.Email, &u.Name, &u.Role, &u.PreferredVariant, &u.CreatedAt)
	if err != nil {
		return nil, nil, fmt.Errorf("store: session: %w", mapErr(err))
	}
	return &s, &u, nil
}

// TouchSession records activity and slides the expiry to expiresAt.
func (db *DB) TouchSession(ctx context.Context, tokenHash []byte, expiresAt time.Time) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE sessions SET last_seen = now(), expires_at = $2 WHERE token_hash = $1`, tokenHash, expiresAt); err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// DeleteSession revokes one session (sign-out, rotation). Deleting a
// session that does not exist is not an error.
func (db *DB) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := db.Pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions revokes every session of a user.
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	if _, err := db.Pool.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("store: delete sessions: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their expiry and returns how
// many went.
func (db *DB) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	tag, err := db.Pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= now()`)
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
