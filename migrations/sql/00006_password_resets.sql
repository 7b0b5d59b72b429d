-- +goose Up
-- One-time password reset links. The server sends no email: an instructor
-- (for a student of their cohort) or an admin makes the link and hands it
-- over. Only the token's SHA-256 is kept. A newer link, a used link and a
-- password change each end the earlier unused links of the account.
CREATE TABLE password_resets (
    id         bigserial PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);

-- +goose Down
DROP TABLE password_resets;
