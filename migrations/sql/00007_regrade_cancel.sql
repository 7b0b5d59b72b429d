-- +goose Up
-- An instructor can stop a regrade: the students it has not reached are
-- counted as cancelled, and their queued jobs end without running.
ALTER TABLE regrades
    ADD COLUMN cancelled    integer NOT NULL DEFAULT 0,
    ADD COLUMN cancelled_at timestamptz,
    ADD COLUMN cancelled_by bigint REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE regrade_items DROP CONSTRAINT regrade_items_state_check;
ALTER TABLE regrade_items ADD CONSTRAINT regrade_items_state_check
    CHECK (state IN ('pending', 'done', 'failed', 'cancelled'));

-- +goose Down
UPDATE regrade_items SET state = 'failed' WHERE state = 'cancelled';
UPDATE regrades SET failed = failed + cancelled;
ALTER TABLE regrade_items DROP CONSTRAINT regrade_items_state_check;
ALTER TABLE regrade_items ADD CONSTRAINT regrade_items_state_check
    CHECK (state IN ('pending', 'done', 'failed'));
ALTER TABLE regrades DROP COLUMN cancelled_by, DROP COLUMN cancelled_at, DROP COLUMN cancelled;
