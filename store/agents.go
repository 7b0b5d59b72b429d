package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AgentChannel is the LISTEN/NOTIFY channel on which every replica hears
// that a student's agent token was rotated or revoked, so that whichever
// replica holds the agent's connection closes it at once.
const AgentChannel = "workshop_agent_tokens"

// AgentTokenEvent is the payload announced on AgentChannel.
type AgentTokenEvent struct {
	UserID int64 `json:"user_id"`
}

// AgentToken is what is kept of a student's agent token: never the token.
type AgentToken struct {
	UserID    int64
	Hint      string // the token's last characters
	CreatedAt time.Time
	RevokedAt *time.Time
}

// AgentSession is where a student's agent is (or was last) connected.
type AgentSession struct {
	UserID int64
	// InternalURL is the base URL of the replica holding the connection,
	// which other replicas dial to reach the agent.
	InternalURL string
	Connected   bool
	// Stale is set on a connected session whose replica has not confirmed
	// it for AgentStaleAfter: the replica most likely died without
	// recording the disconnection.
	Stale         bool
	Since         time.Time
	LastSeen      time.Time
	DockerVersion string
	Hostname      string
	AgentVersion  string
}

// AgentStaleAfter is how long a connected session may go unconfirmed by
// its replica (TouchAgentSessions) before it counts as stale.
const AgentStaleAfter = 2 * time.Minute

// UploadToken is a short-lived, single-use link of the TLS setup script.
type UploadToken struct {
	UserID    int64
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// SetAgentToken makes tokenHash the student's agent token, replacing (and
// so invalidating) any older one, and announces it on AgentChannel in the
// same transaction.
func (db *DB) SetAgentToken(ctx context.Context, userID int64, tokenHash []byte, hint string) error {
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO agent_tokens (user_id, token_hash, hint) VALUES ($1, $2, $3)
			ON CONFLICT (user_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, hint = EXCLUDED.hint,
			  created_at = now(), revoked_at = NULL`, userID, tokenHash, hint); err != nil {
			return err
		}
		return notifyAgent(ctx, tx, userID)
	})
	if err != nil {
		return fmt.Errorf("store: set agent token for %d: %w", userID, mapErr(err))
	}
	return nil
}

// RevokeAgentToken revokes the student's agent token and announces it on
// AgentChannel. ErrNotFound when there is no live token.
func (db *DB) RevokeAgentToken(ctx context.Context, userID int64) error {
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE agent_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, userID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return notifyAgent(ctx, tx, userID)
	})
	if err != nil {
		return fmt.Errorf("store: revoke agent token for %d: %w", userID, mapErr(err))
	}
	return nil
}

func notifyAgent(ctx context.Context, q Querier, userID int64) error {
	payload, _ := json.Marshal(AgentTokenEvent{UserID: userID})
	_, err := q.Exec(ctx, `SELECT pg_notify($1, $2)`, AgentChannel, string(payload))
	return err
}

// AgentToken returns what is kept of the student's agent token, revoked or
// not; ErrNotFound when they never made one.
func (db *DB) AgentToken(ctx context.Context, userID int64) (*AgentToken, error) {
	t := AgentToken{UserID: userID}
	err := db.Pool.QueryRow(ctx, `SELECT hint, created_at, revoked_at FROM agent_tokens WHERE user_id = $1`, userID).
		Scan(&t.Hint, &t.CreatedAt, &t.RevokedAt)
	if err != nil {
		return nil, fmt.Errorf("store: agent token of %d: %w", userID, mapErr(err))
	}
	return &t, nil
}

// AgentTokenUser returns the student whose live agent token has this hash;
// ErrNotFound for an unknown or revoked token.
func (db *DB) AgentTokenUser(ctx context.Context, tokenHash []byte) (int64, error) {
	var id int64
	err := db.Pool.QueryRow(ctx, `SELECT user_id FROM agent_tokens WHERE token_hash = $1 AND revoked_at IS NULL`, tokenHash).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: agent token: %w", mapErr(err))
	}
	return id, nil
}

// AgentConnected records a new session of the student's agent on the
// replica at internalURL, unless a newer session is already recorded (two
// quick reconnects whose writes arrive out of order). Since is kept to the
// microsecond, PostgreSQL's precision, so that AgentDisconnected can match
// it exactly.
func (db *DB) AgentConnected(ctx context.Context, s AgentSession) error {
	_, err := db.Pool.Exec(ctx, `
		INSERT INTO agent_sessions (user_id, internal_url, connected, since, last_seen, docker_version, hostname, agent_version)
		VALUES ($1, $2, true, $3, now(), $4, $5, $6)
		ON CONFLICT (user_id) DO UPDATE SET internal_url = EXCLUDED.internal_url, connected = true, since = EXCLUDED.since,
		  last_seen = now(), docker_version = EXCLUDED.docker_version, hostname = EXCLUDED.hostname, agent_version = EXCLUDED.agent_version
		WHERE agent_sessions.since <= EXCLUDED.since`,
		s.UserID, s.InternalURL, s.Since.Truncate(time.Microsecond), s.DockerVersion, s.Hostname, s.AgentVersion)
	if err != nil {
		return fmt.Errorf("store: agent of %d connected: %w", s.UserID, mapErr(err))
	}
	return nil
}

// AgentDisconnected records that the session that began at since ended.
// A session that is no longer the student's latest (the agent reconnected,
// maybe to another replica) changes nothing; ok says whether it was.
func (db *DB) AgentDisconnected(ctx context.Context, userID int64, since time.Time) (ok bool, err error) {
	tag, err := db.Pool.Exec(ctx, `
		UPDATE agent_sessions SET connected = false, last_seen = now()
		WHERE user_id = $1 AND since = $2`, userID, since.Truncate(time.Microsecond))
	if err != nil {
		return false, fmt.Errorf("store: agent of %d disconnected: %w", userID, mapErr(err))
	}
	return tag.RowsAffected() == 1, nil
}

// AgentSession returns the latest session of the student's agent; ErrNotFound
// when no agent ever connected.
func (db *DB) AgentSession(ctx context.Context, userID int64) (*AgentSession, error) {
	s := AgentSession{UserID: userID}
	err := db.Pool.QueryRow(ctx, `
		SELECT internal_url, connected, connected AND last_seen < now() - make_interval(secs => $2), since, last_seen,
		       docker_version, hostname, agent_version
		FROM agent_sessions WHERE user_id = $1`, userID, AgentStaleAfter.Seconds()).
		Scan(&s.InternalURL, &s.Connected, &s.Stale, &s.Since, &s.LastSeen, &s.DockerVersion, &s.Hostname, &s.AgentVersion)
	if err != nil {
		return nil, fmt.Errorf("store: session of the agent of %d: %w", userID, mapErr(err))
	}
	return &s, nil
}

// ResetAgentSessions marks every session recorded for the replica at
// internalURL as ended: a replica starting up holds no connection, so
// rows left connected by its previous run (a crash) are stale.
func (db *DB) ResetAgentSessions(ctx context.Context, internalURL string) (int64, error) {
	tag, err := db.Pool.Exec(ctx, `UPDATE agent_sessions SET connected = false WHERE internal_url = $1 AND connected`, internalURL)
	if err != nil {
		return 0, fmt.Errorf("store: reset the sessions of agents on %s: %w", internalURL, mapErr(err))
	}
	return tag.RowsAffected(), nil
}

// TouchAgentSessions confirms that the replica at internalURL still holds
// its connected sessions; each replica calls it well within
// AgentStaleAfter.
func (db *DB) TouchAgentSessions(ctx context.Context, internalURL string) error {
	_, err := db.Pool.Exec(ctx, `UPDATE agent_sessions SET last_seen = now() WHERE internal_url = $1 AND connected`, internalURL)
	if err != nil {
		return fmt.Errorf("store: confirm the sessions of agents on %s: %w", internalURL, mapErr(err))
	}
	return nil
}

// UseAgentIfUnset switches the student's Docker target to the agent when
// it is still "none": making an agent token says that is the way in, but
// a configured TLS endpoint is not silently replaced.
func (db *DB) UseAgentIfUnset(ctx context.Context, userID int64) error {
	if _, err := db.Target(ctx, userID); err != nil {
		return err
	}
	_, err := db.Pool.Exec(ctx, `UPDATE targets SET docker_mode = 'agent', updated_at = now() WHERE user_id = $1 AND docker_mode = 'none'`, userID)
	if err != nil {
		return fmt.Errorf("store: use agent for %d: %w", userID, mapErr(err))
	}
	return nil
}

// CreateUploadToken stores a TLS upload link of the student by its hash.
func (db *DB) CreateUploadToken(ctx context.Context, userID int64, tokenHash []byte, expiresAt time.Time) error {
	_, err := db.Pool.Exec(ctx, `INSERT INTO tls_upload_tokens (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`, tokenHash, userID, expiresAt)
	if err != nil {
		return fmt.Errorf("store: create upload token: %w", mapErr(err))
	}
	// Spent and expired links are of no use; any insert may sweep them.
	_, _ = db.Pool.Exec(ctx, `DELETE FROM tls_upload_tokens WHERE expires_at < now() - interval '1 day'`)
	return nil
}

// UploadToken returns the link with this hash, used or not, so that the
// caller can say which of unknown, used and expired it is.
func (db *DB) UploadToken(ctx context.Context, tokenHash []byte) (*UploadToken, error) {
	var t UploadToken
	err := db.Pool.QueryRow(ctx, `SELECT user_id, expires_at, used_at FROM tls_upload_tokens WHERE token_hash = $1`, tokenHash).
		Scan(&t.UserID, &t.ExpiresAt, &t.UsedAt)
	if err != nil {
		return nil, fmt.Errorf("store: upload token: %w", mapErr(err))
	}
	return &t, nil
}

// DockerTLS is the client bundle the TLS setup script uploads.
type DockerTLS struct {
	Endpoint, CAPEM, CertPEM, KeyPEM string
}

// UseUploadToken spends the link (unused, and not expired at now) and
// stores the bundle as the student's Docker target over TLS, key sealed,
// in one transaction: a link works once, even when two uploads race.
// ErrNotFound when the link is unknown, used or expired.
func (db *DB) UseUploadToken(ctx context.Context, tokenHash []byte, now time.Time, b DockerTLS) (userID int64, err error) {
	if db.sealer == nil {
		return 0, errors.New("store: no server key to seal secrets")
	}
	err = db.Transact(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			UPDATE tls_upload_tokens SET used_at = now()
			WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id`, tokenHash, now).Scan(&userID)
		if err != nil {
			return mapErr(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO targets (user_id, aws_external_id) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING`,
			userID, newExternalID()); err != nil {
			return err
		}
		sealed, err := db.sealer.Seal([]byte(b.KeyPEM), aad(userID, "docker_key"))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE targets SET docker_mode = 'tls', docker_endpoint = $2, docker_ca_pem = $3, docker_cert_pem = $4,
			  docker_key_sealed = $5, docker_key_hint = $6, updated_at = now()
			WHERE user_id = $1`, userID, b.Endpoint, b.CAPEM, b.CertPEM, sealed, Hint(b.KeyPEM))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: use upload token: %w", mapErr(err))
	}
	return userID, nil
}
