package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sealer encrypts secrets at rest with AES-256-GCM under the server key.
// The additional data binds a sealed value to its owner and field, so a
// value copied into another row does not open.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer takes a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("server key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext; the nonce is stored in front of the ciphertext.
func (s *Sealer) Seal(plaintext []byte, aad string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plaintext, []byte(aad)), nil
}

// ErrSealedValue means a stored secret cannot be decrypted: the server key
// changed, or the value was tampered with.
var ErrSealedValue = errors.New("stored secret cannot be decrypted (was the server key changed?)")

// Open decrypts a value made by Seal with the same aad.
func (s *Sealer) Open(sealed []byte, aad string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, ErrSealedValue
	}
	out, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(aad))
	if err != nil {
		return nil, ErrSealedValue
	}
	return out, nil
}

// LoadKey returns the server key: hexKey when given (WORKSHOP_SECRET_KEY),
// otherwise the key file in dataDir, created with mode 0600 on first use.
func LoadKey(hexKey, dataDir string) (key []byte, created bool, err error) {
	if hexKey != "" {
		key, err = hex.DecodeString(strings.TrimSpace(hexKey))
		if err != nil || len(key) != 32 {
			return nil, false, errors.New("WORKSHOP_SECRET_KEY must be 64 hex characters (32 bytes); generate one with: openssl rand -hex 32")
		}
		return key, false, nil
	}
	path := filepath.Join(dataDir, "secret.key")
	data, err := os.ReadFile(path)
	if err == nil {
		key, err = hex.DecodeString(strings.TrimSpace(string(data)))
		if err != nil || len(key) != 32 {
			return nil, false, fmt.Errorf("%s is not a 64-hex-character key; restore it from a backup (secrets stored with it cannot be read otherwise)", path)
		}
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("server key %s: %w", path, err)
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, false, fmt.Errorf("server key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("server key %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		return nil, false, fmt.Errorf("server key %s: %w", path, err)
	}
	return key, true, nil
}

// Hint returns the last four characters of a secret, for "stored, ending
// in …"; short secrets reveal nothing.
func Hint(secret string) string {
	secret = strings.TrimSpace(secret)
	if len(secret) < 12 {
		return ""
	}
	return secret[len(secret)-4:]
}
