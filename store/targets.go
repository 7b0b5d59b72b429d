package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Target is a student's Docker host and AWS access, with secrets opened.
type Target struct {
	UserID         int64
	DockerMode     string // none, agent, tls, plain
	DockerEndpoint string
	DockerCAPEM    string
	DockerCertPEM  string
	DockerKeyPEM   string // opened; empty when none is stored
	DockerKeyHint  string
	AWSRegion      string
	AWSInstanceID  string
	AWSPlan        string // legacy, credits
	AWSMode        string // none, role, keys
	AWSRoleARN     string
	AWSExternalID  string
	AWSAccessKeyID string
	AWSSecret      string // opened
	AWSSecretHint  string
	AppURL         string
	UpdatedAt      time.Time
}

// TargetUpdate carries the fields to save. Nil secret pointers keep the
// stored secret; a pointer to "" removes it.
type TargetUpdate struct {
	DockerMode, DockerEndpoint, DockerCAPEM, DockerCertPEM string
	DockerKeyPEM                                           *string
	AWSRegion, AWSInstanceID, AWSPlan, AWSMode, AWSRoleARN string
	AWSAccessKeyID                                         string
	AWSSecret                                              *string
	AppURL                                                 string
}

func newExternalID() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return "ws-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

func aad(userID int64, field string) string { return fmt.Sprintf("target/%d/%s", userID, field) }

// Target returns the student's target, creating an empty one (with its
// external id) on first use.
func (db *DB) Target(ctx context.Context, userID int64) (*Target, error) {
	if _, err := db.Pool.Exec(ctx, `INSERT INTO targets (user_id, aws_external_id) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING`, userID, newExternalID()); err != nil {
		return nil, fmt.Errorf("store: target for %d: %w", userID, mapErr(err))
	}
	var t Target
	var keySealed, secretSealed []byte
	err := db.Pool.QueryRow(ctx, `
		SELECT user_id, docker_mode, docker_endpoint, docker_ca_pem, docker_cert_pem, docker_key_sealed, docker_key_hint,
		       aws_region, aws_instance_id, aws_plan, aws_mode, aws_role_arn, aws_external_id, aws_access_key_id,
		       aws_secret_sealed, aws_secret_hint, app_url, updated_at
		FROM targets WHERE user_id = $1`, userID).Scan(
		&t.UserID, &t.DockerMode, &t.DockerEndpoint, &t.DockerCAPEM, &t.DockerCertPEM, &keySealed, &t.DockerKeyHint,
		&t.AWSRegion, &t.AWSInstanceID, &t.AWSPlan, &t.AWSMode, &t.AWSRoleARN, &t.AWSExternalID, &t.AWSAccessKeyID,
		&secretSealed, &t.AWSSecretHint, &t.AppURL, &t.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("store: target for %d: %w", userID, mapErr(err))
	}
	if keySealed != nil || secretSealed != nil {
		if db.sealer == nil {
			return nil, errors.New("store: no server key to open stored secrets")
		}
		if keySealed != nil {
			b, err := db.sealer.Open(keySealed, aad(userID, "docker_key"))
			if err != nil {
				return nil, fmt.Errorf("store: target for %d: docker key: %w", userID, err)
			}
			t.DockerKeyPEM = string(b)
		}
		if secretSealed != nil {
			b, err := db.sealer.Open(secretSealed, aad(userID, "aws_secret"))
			if err != nil {
				return nil, fmt.Errorf("store: target for %d: aws secret: %w", userID, err)
			}
			t.AWSSecret = string(b)
		}
	}
	return &t, nil
}

// SaveTarget stores the student's target, sealing the secrets given.
func (db *DB) SaveTarget(ctx context.Context, userID int64, u TargetUpdate) error {
	if _, err := db.Target(ctx, userID); err != nil {
		return err
	}
	seal := func(v *string, field string) (sealed []byte, hint string, keep bool, err error) {
		if v == nil {
			return nil, "", true, nil
		}
		if *v == "" {
			return nil, "", false, nil
		}
		if db.sealer == nil {
			return nil, "", false, errors.New("store: no server key to seal secrets")
		}
		sealed, err = db.sealer.Seal([]byte(*v), aad(userID, field))
		return sealed, Hint(*v), false, err
	}
	key, keyHint, keepKey, err := seal(u.DockerKeyPEM, "docker_key")
	if err != nil {
		return err
	}
	secret, secretHint, keepSecret, err := seal(u.AWSSecret, "aws_secret")
	if err != nil {
		return err
	}
	_, err = db.Pool.Exec(ctx, `
		UPDATE targets SET
		  docker_mode = $2, docker_endpoint = $3, docker_ca_pem = $4, docker_cert_pem = $5,
		  docker_key_sealed = CASE WHEN $6 THEN docker_key_sealed ELSE $7 END,
		  docker_key_hint = CASE WHEN $6 THEN docker_key_hint ELSE $8 END,
		  aws_region = $9, aws_instance_id = $10, aws_plan = $11, aws_mode = $12, aws_role_arn = $13, aws_access_key_id = $14,
		  aws_secret_sealed = CASE WHEN $15 THEN aws_secret_sealed ELSE $16 END,
		  aws_secret_hint = CASE WHEN $15 THEN aws_secret_hint ELSE $17 END,
		  app_url = $18, updated_at = now()
		WHERE user_id = $1`,
		userID, u.DockerMode, u.DockerEndpoint, u.DockerCAPEM, u.DockerCertPEM, keepKey, key, keyHint,
		u.AWSRegion, u.AWSInstanceID, u.AWSPlan, u.AWSMode, u.AWSRoleARN, u.AWSAccessKeyID, keepSecret, secret, secretHint, u.AppURL)
	if err != nil {
		return fmt.Errorf("store: save target for %d: %w", userID, mapErr(err))
	}
	return nil
}
