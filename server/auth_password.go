package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/coursekit/workshop/store"
)

// Password rules.
const (
	minPasswordLen = 10
	maxPasswordLen = 1024 // bytes; longer inputs only cost hashing time
)

// argon2id parameters (OWASP's minimum recommendation: 19 MiB, 2 passes).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// hashPassword returns the argon2id hash of pw in PHC string form.
func hashPassword(pw string) string {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// checkPassword reports whether pw matches a PHC argon2id hash, in
// constant time; a malformed hash never matches.
func checkPassword(phc, pw string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var mem, iter uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &threads); err != nil || mem == 0 || iter == 0 || threads == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, iter, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

var (
	dummyOnce sync.Once
	dummyHash string
)

// burnPasswordCheck spends the time a real check would, so an unknown
// email answers as slowly as a wrong password.
func burnPasswordCheck(pw string) {
	dummyOnce.Do(func() { dummyHash = hashPassword("not a real password at all") })
	checkPassword(dummyHash, pw)
}

// throttleLimits bounds failed sign-ins per account and per address.
type throttleLimits struct {
	Window     time.Duration
	PerAccount int
	PerIP      int
}

var defaultThrottle = throttleLimits{Window: 15 * time.Minute, PerAccount: 5, PerIP: 30}

// errThrottled carries how long to wait.
type errThrottled struct{ wait time.Duration }

func (e errThrottled) Error() string { return "throttled" }

func (e errThrottled) appError() *AppError {
	secs := int(e.wait.Round(time.Second).Seconds())
	if secs < 1 {
		secs = 1
	}
	return Errorf(http.StatusTooManyRequests, "Too many attempts; try again in %d seconds.", secs)
}

// errBadCredentials is the one answer for an unknown email and a wrong
// password.
var errBadCredentials = errors.New("bad credentials")

// authenticate checks an email and password under the throttle. Every
// attempt counts against both windows before the password is looked at;
// a success takes its count back. The N+1th attempt within a window is
// refused even with the right password.
func (s *Server) authenticate(ctx context.Context, email, password, ip string) (*store.User, error) {
	lim := s.auth.throttle
	keys := []struct {
		key   string
		limit int
	}{{"account:" + email, lim.PerAccount}, {"ip:" + ip, lim.PerIP}}
	var wait time.Duration
	for _, k := range keys {
		n, reset, err := s.db.ThrottleHit(ctx, k.key, lim.Window)
		if err != nil {
			return nil, err
		}
		if n > k.limit {
			if w := time.Until(reset); w > wait {
				wait = w
			}
		}
	}
	if wait > 0 {
		return nil, errThrottled{wait: wait}
	}
	u, hash, err := s.db.UserCredentials(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		burnPasswordCheck(password)
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if !checkPassword(hash, password) {
		return nil, errBadCredentials
	}
	if err := s.db.ThrottleReset(ctx, keys[0].key); err != nil {
		return nil, err
	}
	if err := s.db.ThrottleForgive(ctx, keys[1].key); err != nil {
		return nil, err
	}
	return u, nil
}

// HashPassword returns the argon2id hash of a password in PHC string form
// (for the admin command).
func HashPassword(pw string) string { return hashPassword(pw) }

// CheckNewPassword says why pw cannot be a new password, or returns nil.
func CheckNewPassword(pw string) error {
	f := valuesForm(map[string][]string{"password": {pw}})
	f.password("password", true)
	if msg := f.errs["password"]; msg != "" {
		return fmt.Errorf("password: %s", msg)
	}
	return nil
}

// NormalizeEmail trims an address and lower-cases it, as accounts store it.
func NormalizeEmail(s string) string { return normalizeEmail(s) }

// CheckEmail says why a normalized address is not acceptable, or "".
func CheckEmail(email string) string { return checkEmail(email) }
