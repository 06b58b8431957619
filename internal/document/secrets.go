package document

import (
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// DigestHA1 is the digest-authentication HA1 of RFC 2617 and RFC 7616,
// hex(H(username ":" realm ":" password)), for "MD5" or "SHA-256". The
// registrar checks a device's answer with it, so the password itself is
// never kept.
func DigestHA1(algorithm, username, realm, password string) string {
	in := []byte(username + ":" + realm + ":" + password)
	if strings.EqualFold(algorithm, "SHA-256") {
		h := sha256.Sum256(in)
		return hex.EncodeToString(h[:])
	}
	h := md5.Sum(in)
	return hex.EncodeToString(h[:])
}

// Secret hashing for PINs and sign-in passwords: PBKDF2-SHA256 with a
// random salt, kept as "pbkdf2-sha256$<iterations>$<salt>$<key>".
const secretIterations = 4096

// HashSecret hashes a PIN or a password for storage.
func HashSecret(secret string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, secret, salt, secretIterations, 32)
	if err != nil {
		return "", fmt.Errorf("hash secret: %w", err)
	}
	enc := base64.RawStdEncoding
	return "pbkdf2-sha256$" + strconv.Itoa(secretIterations) + "$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key), nil
}

// CheckSecret reports whether secret is the one hashed (by HashSecret).
func CheckSecret(hashed, secret string) bool {
	parts := strings.Split(hashed, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 1 || n > 1_000_000 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, secret, salt, n, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}
