package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/api"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/servertest"
)

// TestAuthTokenAndRecordingAccess: the auth token is readable and
// rotatable with a grace period; a recording is served to HTTP Basic with
// the AccountSid and a valid token, and through an unexpired signed link,
// as .wav, .mp3 or without an extension.
func TestAuthTokenAndRecordingAccess(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	dir := filepath.Join(s.DataDir, "recordings", s.AccountID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "CA1-1.wav"), testWAV(), 0o640); err != nil {
		t.Fatal(err)
	}
	tokPath := "/v2/accounts/" + s.AccountID + "/auth_token"
	status, env := s.Do("GET", tokPath, s.Token, nil)
	if status != 200 {
		t.Fatalf("GET auth_token: %d %v", status, env)
	}
	data := env["data"].(map[string]any)
	first, _ := data["auth_token"].(string)
	if first == "" || data["account_sid"] != call.AccountSid(s.AccountID) {
		t.Fatalf("auth_token answer: %v", data)
	}
	if st, _ := s.Do("GET", tokPath, "", nil); st != 401 {
		t.Errorf("GET auth_token with no API token: %d, want 401", st)
	}
	basic := func(user, pass string) http.Header {
		return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}}
	}
	rec := "/v2/accounts/" + s.AccountID + "/recordings/CA1-1"
	sid := call.AccountSid(s.AccountID)
	for _, c := range []struct {
		name   string
		path   string
		h      http.Header
		status int
	}{
		{"basic with the AccountSid, no extension", rec, basic(sid, first), 200},
		{"basic with the account id, .wav", rec + ".wav", basic(s.AccountID, first), 200},
		{"basic with a wrong token", rec, basic(sid, "nope"), 401},
		{"basic with another account's sid", rec, basic("AC00000000000000000000000000000000", first), 401},
	} {
		if st, body := s.DoRaw("GET", c.path, "", nil, c.h); st != c.status || (st == 200 && !bytes.HasPrefix(body, []byte("RIFF"))) {
			t.Errorf("%s: %d %.40q, want %d", c.name, st, body, c.status)
		}
	}

	status, env = s.Do("POST", tokPath, s.Token, map[string]any{"data": map[string]any{"grace_seconds": 3600}})
	if status != 200 {
		t.Fatalf("rotate: %d %v", status, env)
	}
	data = env["data"].(map[string]any)
	second, _ := data["auth_token"].(string)
	if second == "" || second == first || data["previous_auth_token_valid_until"] == nil {
		t.Fatalf("rotate answer: %v", data)
	}
	for _, tok := range []string{first, second} {
		if st, _ := s.DoRaw("GET", rec, "", nil, basic(sid, tok)); st != 200 {
			t.Errorf("after rotation, token %q: %d, want 200 (grace)", tok[:4], st)
		}
	}
	if st, env := s.Do("POST", tokPath, s.Token, map[string]any{"data": map[string]any{"grace_seconds": 0}}); st != 200 {
		t.Fatalf("rotate without grace: %d %v", st, env)
	}
	if st, _ := s.DoRaw("GET", rec, "", nil, basic(sid, first)); st != 401 {
		t.Errorf("a token two rotations old: %d, want 401", st)
	}
	_, env = s.Do("GET", tokPath, s.Token, nil)
	current := env["data"].(map[string]any)["auth_token"].(string)

	signed := api.SignedRecordingPath(current, s.AccountID, "CA1-1.wav", time.Now().Add(time.Hour))
	if st, body := s.DoRaw("GET", signed, "", nil, nil); st != 200 || !bytes.HasPrefix(body, []byte("RIFF")) {
		t.Errorf("signed link: %d %.40q", st, body)
	}
	if st, _ := s.DoRaw("GET", signed+".wav", "", nil, nil); st != 200 {
		t.Errorf("signed link + .wav: %d", st)
	}
	expired := api.SignedRecordingPath(current, s.AccountID, "CA1-1.wav", time.Now().Add(-time.Second))
	if st, _ := s.DoRaw("GET", expired, "", nil, nil); st != 403 {
		t.Errorf("expired link: %d, want 403", st)
	}
	forged := api.SignedRecordingPath("not-the-token", s.AccountID, "CA1-1.wav", time.Now().Add(time.Hour))
	if st, _ := s.DoRaw("GET", forged, "", nil, nil); st != 403 {
		t.Errorf("forged link: %d, want 403", st)
	}
	if _, err := exec.LookPath("lame"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("lame is not installed")
		}
		t.Skip("lame is not installed")
	}
	st, body := s.DoRaw("GET", signed+".mp3", "", nil, nil)
	if st != 200 || !(bytes.HasPrefix(body, []byte("ID3")) || len(body) > 2 && body[0] == 0xff && body[1]&0xe0 == 0xe0) {
		t.Errorf("signed link + .mp3: %d %.20q", st, body)
	}
	if !strings.Contains(signed, "/recordings/signed/") {
		t.Errorf("signed path %s", signed)
	}
}

// testWAV is one second of a 440 Hz-ish square wave, 8 kHz 16-bit mono.
func testWAV() []byte {
	const n = 8000
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1))
	w(uint16(1))
	w(uint32(8000))
	w(uint32(16000))
	w(uint16(2))
	w(uint16(16))
	b.WriteString("data")
	w(uint32(2 * n))
	for i := range n {
		v := int16(8000)
		if (i/9)%2 == 0 {
			v = -8000
		}
		w(v)
	}
	return b.Bytes()
}
