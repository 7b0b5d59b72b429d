package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cohort is one group of students taught together.
type Cohort struct {
	ID                 int64
	Name               string
	StartsOn, EndsOn   *time.Time
	JoinCode           string
	JoinOpen           bool
	DefaultVariant     string
	AllowPrivateRanges bool
	PassMark           float64
	CreatedAt          time.Time
}

// CohortSettings are the fields an instructor edits.
type CohortSettings struct {
	Name               string
	StartsOn, EndsOn   *time.Time
	JoinOpen           bool
	DefaultVariant     string
	AllowPrivateRanges bool
	PassMark           float64
}

// Member is a person in a cohort with their role there.
type Member struct {
	User
	CohortRole string // student or instructor
	JoinedAt   time.Time
}

const cohortColumns = `id, name, starts_on, ends_on, join_code, join_open, default_variant, allow_private_ranges, pass_mark, created_at`

func scanCohort(row pgx.Row) (*Cohort, error) {
	var c Cohort
	err := row.Scan(&c.ID, &c.Name, &c.StartsOn, &c.EndsOn, &c.JoinCode, &c.JoinOpen, &c.DefaultVariant,
		&c.AllowPrivateRanges, &c.PassMark, &c.CreatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	return &c, nil
}

func collectCohorts(rows pgx.Rows, err error) ([]Cohort, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Cohort, error) {
		c, err := scanCohort(r)
		if err != nil {
			return Cohort{}, err
		}
		return *c, nil
	})
}

// CreateCohort inserts a cohort with its creator as its first instructor;
// ErrConflict when the join code is taken.
func (db *DB) CreateCohort(ctx context.Context, s CohortSettings, joinCode string, createdBy int64) (*Cohort, error) {
	var c *Cohort
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = scanCohort(tx.QueryRow(ctx, `
			INSERT INTO cohorts (name, starts_on, ends_on, join_code, join_open, default_variant, allow_private_ranges, pass_mark, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+cohortColumns,
			s.Name, s.StartsOn, s.EndsOn, joinCode, s.JoinOpen, s.DefaultVariant, s.AllowPrivateRanges, s.PassMark, createdBy))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO cohort_members (cohort_id, user_id, role) VALUES ($1, $2, 'instructor')`, c.ID, createdBy)
		return mapErr(err)
	})
	if err != nil {
		return nil, fmt.Errorf("store: create cohort: %w", err)
	}
	return c, nil
}

// CohortByID returns one cohort.
func (db *DB) CohortByID(ctx context.Context, id int64) (*Cohort, error) {
	c, err := scanCohort(db.Pool.QueryRow(ctx, `SELECT `+cohortColumns+` FROM cohorts WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: cohort %d: %w", id, err)
	}
	return c, nil
}

// CohortByJoinCode returns the cohort with this join code, open or not.
func (db *DB) CohortByJoinCode(ctx context.Context, code string) (*Cohort, error) {
	c, err := scanCohort(db.Pool.QueryRow(ctx, `SELECT `+cohortColumns+` FROM cohorts WHERE join_code = $1`, code))
	if err != nil {
		return nil, fmt.Errorf("store: cohort by join code: %w", err)
	}
	return c, nil
}

// ListCohorts returns every cohort, newest first (for admins).
func (db *DB) ListCohorts(ctx context.Context) ([]Cohort, error) {
	cs, err := collectCohorts(db.Pool.Query(ctx, `SELECT `+cohortColumns+` FROM cohorts ORDER BY created_at DESC, id DESC`))
	if err != nil {
		return nil, fmt.Errorf("store: list cohorts: %w", err)
	}
	return cs, nil
}

// InstructorCohorts returns the cohorts a user teaches, newest first.
func (db *DB) InstructorCohorts(ctx context.Context, userID int64) ([]Cohort, error) {
	cs, err := collectCohorts(db.Pool.Query(ctx, `
		SELECT `+cohortColumns+` FROM cohorts
		WHERE id IN (SELECT cohort_id FROM cohort_members WHERE user_id = $1 AND role = 'instructor')
		ORDER BY created_at DESC, id DESC`, userID))
	if err != nil {
		return nil, fmt.Errorf("store: instructor cohorts: %w", err)
	}
	return cs, nil
}

// StudentCohort returns the cohort a user most recently joined as a
// student; ErrNotFound when none.
func (db *DB) StudentCohort(ctx context.Context, userID int64) (*Cohort, error) {
	c, err := scanCohort(db.Pool.QueryRow(ctx, `
		SELECT c.id, c.name, c.starts_on, c.ends_on, c.join_code, c.join_open, c.default_variant,
		       c.allow_private_ranges, c.pass_mark, c.created_at
		FROM cohort_members m JOIN cohorts c ON c.id = m.cohort_id
		WHERE m.user_id = $1 AND m.role = 'student'
		ORDER BY m.joined_at DESC, c.id DESC LIMIT 1`, userID))
	if err != nil {
		return nil, fmt.Errorf("store: student cohort: %w", err)
	}
	return c, nil
}

// HasCohortRole reports whether a user belongs to a cohort in the given
// role (RoleStudent or RoleInstructor).
func (db *DB) HasCohortRole(ctx context.Context, cohortID, userID int64, role string) (bool, error) {
	var ok bool
	err := db.Pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM cohort_members WHERE cohort_id = $1 AND user_id = $2 AND role = $3)`,
		cohortID, userID, role).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("store: %s of cohort %d: %w", role, cohortID, err)
	}
	return ok, nil
}

// UpdateCohort saves the editable settings.
func (db *DB) UpdateCohort(ctx context.Context, id int64, s CohortSettings) (*Cohort, error) {
	c, err := scanCohort(db.Pool.QueryRow(ctx, `
		UPDATE cohorts SET name = $2, starts_on = $3, ends_on = $4, join_open = $5, default_variant = $6,
		       allow_private_ranges = $7, pass_mark = $8
		WHERE id = $1 RETURNING `+cohortColumns,
		id, s.Name, s.StartsOn, s.EndsOn, s.JoinOpen, s.DefaultVariant, s.AllowPrivateRanges, s.PassMark))
	if err != nil {
		return nil, fmt.Errorf("store: update cohort: %w", err)
	}
	return c, nil
}

// SetJoinCode replaces the join code (the old invite link stops working);
// ErrConflict when the new code is taken.
func (db *DB) SetJoinCode(ctx context.Context, id int64, code string) (*Cohort, error) {
	c, err := scanCohort(db.Pool.QueryRow(ctx, `UPDATE cohorts SET join_code = $2 WHERE id = $1 RETURNING `+cohortColumns, id, code))
	if err != nil {
		return nil, fmt.Errorf("store: set join code: %w", err)
	}
	return c, nil
}

// AddMember puts a user in a cohort with a role there; joining again keeps
// the first membership, except that a student added as instructor is
// promoted.
func (db *DB) AddMember(ctx context.Context, cohortID, userID int64, role string) error {
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO cohort_members (cohort_id, user_id, role) VALUES ($1, $2, $3)
			ON CONFLICT (cohort_id, user_id) DO UPDATE SET role = 'instructor'
			WHERE cohort_members.role = 'student' AND excluded.role = 'instructor'`, cohortID, userID, role)
		if err != nil || tag.RowsAffected() == 0 {
			return mapErr(err)
		}
		// The cohort's open dashboards learn that its members changed.
		return notify(ctx, tx, Event{Kind: "member", UserID: userID, CohortID: cohortID})
	})
	if err != nil {
		return fmt.Errorf("store: add member: %w", err)
	}
	return nil
}

// RemoveMember takes a user out of a cohort; ErrNotFound when not in it.
func (db *DB) RemoveMember(ctx context.Context, cohortID, userID int64) error {
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM cohort_members WHERE cohort_id = $1 AND user_id = $2`, cohortID, userID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return notify(ctx, tx, Event{Kind: "member", UserID: userID, CohortID: cohortID})
	})
	if err != nil {
		return fmt.Errorf("store: remove member: %w", err)
	}
	return nil
}

// CohortMembers returns a cohort's people: instructors first, then
// students by join time.
func (db *DB) CohortMembers(ctx context.Context, cohortID int64) ([]Member, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT u.id, u.email, u.name, u.role, u.preferred_variant, u.created_at, m.role, m.joined_at
		FROM cohort_members m JOIN users u ON u.id = m.user_id
		WHERE m.cohort_id = $1
		ORDER BY m.role = 'student', m.joined_at, u.id`, cohortID)
	if err != nil {
		return nil, fmt.Errorf("store: cohort members: %w", err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Member, error) {
		var m Member
		err := r.Scan(&m.ID, &m.Email, &m.Name, &m.Role, &m.PreferredVariant, &m.CreatedAt, &m.CohortRole, &m.JoinedAt)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: cohort members: %w", err)
	}
	return ms, nil
}
