package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/store"
)

// A recording is served three ways, as a Twilio developer expects: to the
// account's API token (X-Auth-Token), to HTTP Basic with the account's SID
// (or id) and auth token (what Twilio's own recording URLs take), and to
// anyone holding an unexpired signed URL (the RecordingUrl a webhook
// receives, so the customer's server and <Play> can fetch it with no
// credentials). The file name may end in .wav or .mp3 or have no
// extension (WAV), so RecordingUrl + ".mp3" works as on Twilio.

// getRecording serves GET …/recordings/{file} to HTTP Basic with the
// account's SID (or id) and auth token, or to an API token that reaches
// the account (authenticate's rule).
func (a *API) getRecording(w http.ResponseWriter, r *http.Request) error {
	acctID := r.PathValue("account_id")
	if _, _, ok := r.BasicAuth(); ok {
		if err := a.basicAccess(r, acctID); err != nil {
			return err
		}
		return a.serveRecording(w, r, acctID, r.PathValue("file"))
	}
	a.authenticate(a.handle(func(w http.ResponseWriter, r *http.Request) error {
		return a.serveRecording(w, r, accountOf(r), r.PathValue("file"))
	})).ServeHTTP(w, r)
	return nil
}

// getSignedRecording serves GET …/recordings/signed/{grant}/{file}: the
// grant is "<unix expiry>.<signature>", signed with the account's auth
// token (or the previous one during its grace period).
func (a *API) getSignedRecording(w http.ResponseWriter, r *http.Request) error {
	acctID, file := r.PathValue("account_id"), r.PathValue("file")
	acct, err := a.store.GetAccount(r.Context(), acctID)
	if errors.Is(err, store.ErrNotFound) {
		return errNoRecording
	}
	if err != nil {
		return err
	}
	exp, sig, ok := strings.Cut(r.PathValue("grant"), ".")
	unix, perr := strconv.ParseInt(exp, 10, 64)
	if !ok || perr != nil || a.now().After(time.Unix(unix, 0)) {
		return errRecordingGrant
	}
	valid := false
	for _, tok := range acct.AuthTokens(a.now()) {
		want := recordingSignature(tok, acctID, file, unix)
		if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) == 1 {
			valid = true
		}
	}
	if !valid {
		return errRecordingGrant
	}
	return a.serveRecording(w, r, acctID, file)
}

var errRecordingGrant = &Error{Status: http.StatusForbidden, Message: "forbidden",
	Data: map[string]any{"message": "this recording link has expired or is not valid"}}

// SignedRecordingPath is the path of a recording link that needs no
// credentials until expires: /v2/accounts/{id}/recordings/signed/{grant}/{base}
// where base is the file name without its extension, so that ".wav" or
// ".mp3" may be appended. authToken is the account's current auth token.
func SignedRecordingPath(authToken, accountID, file string, expires time.Time) string {
	base := recordingBase(file)
	unix := expires.Unix()
	return "/v2/accounts/" + accountID + "/recordings/signed/" +
		strconv.FormatInt(unix, 10) + "." + recordingSignature(authToken, accountID, base, unix) + "/" + base
}

// recordingSignature signs an account's recording (by base name) until
// unix; the extension is not covered.
func recordingSignature(authToken, accountID, file string, unix int64) string {
	mac := hmac.New(sha256.New, []byte(authToken))
	fmt.Fprintf(mac, "recording\n%s\n%s\n%d", accountID, recordingBase(file), unix)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func recordingBase(file string) string {
	for _, ext := range []string{".wav", ".mp3"} {
		if b, ok := strings.CutSuffix(file, ext); ok {
			return b
		}
	}
	return file
}

// basicAccess checks HTTP Basic: the account's SID (or id) and a valid
// auth token (the current one, or the previous during its grace).
func (a *API) basicAccess(r *http.Request, acctID string) error {
	user, pass, _ := r.BasicAuth()
	acct, err := a.store.GetAccount(r.Context(), acctID)
	if errors.Is(err, store.ErrNotFound) {
		return errUnauthorized
	}
	if err != nil {
		return err
	}
	if user != acct.ID && user != call.AccountSid(acct.ID) {
		return errUnauthorized
	}
	for _, tok := range acct.AuthTokens(a.now()) {
		if subtle.ConstantTimeCompare([]byte(pass), []byte(tok)) == 1 {
			return nil
		}
	}
	return errUnauthorized
}

// serveRecording serves one recording of the account: a file of the
// account's own directory under Config.RecordingsDir, named without any
// path (no traversal, no hidden files); os.Root keeps even a symlink from
// leading out of the directory. name.mp3 is encoded from name.wav once
// (lame) and kept beside it.
func (a *API) serveRecording(w http.ResponseWriter, r *http.Request, acctID, name string) error {
	if a.cfg.RecordingsDir == "" || !validFileName(name) || !validFileName(acctID) {
		return errNoRecording
	}
	ext := strings.ToLower(path.Ext(name))
	if ext != ".wav" && ext != ".mp3" {
		name, ext = name+".wav", ".wav"
	}
	root, err := os.OpenRoot(filepath.Join(a.cfg.RecordingsDir, acctID))
	if errors.Is(err, fs.ErrNotExist) {
		return errNoRecording
	}
	if err != nil {
		return err
	}
	defer root.Close()
	if ext == ".mp3" {
		if err := a.ensureMP3(r.Context(), root, name); err != nil {
			return err
		}
	}
	f, err := root.Open(name)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return errNoRecording
	}
	if err != nil {
		if strings.Contains(err.Error(), "escapes") {
			return errNoRecording
		}
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return errNoRecording
	}
	w.Header().Set("Content-Type", audioType(name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(w, r, name, st.ModTime(), f)
	return nil
}

// ensureMP3 makes name (x.mp3) from x.wav when it is missing or older.
func (a *API) ensureMP3(ctx context.Context, root *os.Root, name string) error {
	wavName := strings.TrimSuffix(name, path.Ext(name)) + ".wav"
	ws, err := root.Stat(wavName)
	if err != nil {
		return errNoRecording
	}
	if ms, err := root.Stat(name); err == nil && !ms.ModTime().Before(ws.ModTime()) {
		return nil
	}
	in, err := root.Open(wavName)
	if err != nil {
		return errNoRecording
	}
	defer in.Close()
	var out bytes.Buffer
	if err := media.EncodeMP3(ctx, &out, in); err != nil {
		if errors.Is(err, media.ErrNoLAME) {
			return &Error{Status: http.StatusNotFound, Message: "bad identifier",
				Data: map[string]any{"cause": "MP3 is not available on this server (lame is not installed); ask for .wav"}, Err: err}
		}
		return fmt.Errorf("recording %s as mp3: %w", wavName, err)
	}
	tmp := name + ".tmp"
	if err := root.WriteFile(tmp, out.Bytes(), 0o644); err != nil {
		return fmt.Errorf("recording %s as mp3: %w", wavName, err)
	}
	if err := root.Rename(tmp, name); err != nil {
		return fmt.Errorf("recording %s as mp3: %w", wavName, err)
	}
	return nil
}

var errNoRecording = &Error{Status: http.StatusNotFound, Message: "bad identifier", Data: map[string]any{"cause": "no such recording"}}

// validFileName accepts a plain file name as media names recordings:
// letters, digits, '-', '_', '.', '@', '+', not starting with a dot.
func validFileName(name string) bool {
	if name == "" || len(name) > 255 || name[0] == '.' {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.@+", c)) {
			return false
		}
	}
	return true
}

func audioType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".wav":
		return "audio/wav"
	case ".mp3":
		return "audio/mpeg"
	case ".ogg":
		return "audio/ogg"
	}
	return "application/octet-stream"
}
