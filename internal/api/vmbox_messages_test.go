package api_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

// messageBody is a Kazoo-style new message: a JSON part and a WAV part,
// as multipart/mixed.
func messageBody(t testing.TB, meta string, audio []byte) ([]byte, http.Header) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range []struct {
		ct   string
		body []byte
	}{{"application/json", []byte(meta)}, {"audio/wav", audio}} {
		if p.body == nil {
			continue
		}
		part, err := w.CreatePart(textproto.MIMEHeader{"Content-Type": {p.ct}})
		if err != nil {
			t.Fatal(err)
		}
		part.Write(p.body)
	}
	w.Close()
	return b.Bytes(), http.Header{"Content-Type": {"multipart/mixed; boundary=" + w.Boundary()}}
}

// TestVMBoxMessages: a message is left (multipart JSON + WAV), listed with
// Kazoo's fields, moved between folders, its audio served as 8 kHz WAV,
// deleted; bad input is refused naming the field; another account reaches
// none of it; deleting the box deletes its messages.
func TestVMBoxMessages(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	idB, tokenB := s.AddAccount("Other Co")
	s.Set("account_b", idB)
	s.Set("token_b", tokenB)
	status, env := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/vmboxes", s.Token, data(map[string]any{"name": "Sales", "mailbox": "3100"}))
	if status != http.StatusCreated {
		t.Fatalf("create box: %d %v", status, env)
	}
	s.Set("box", servertest.Lookup(env, "data.id").(string))
	status, env = s.Do("PUT", "/v2/accounts/"+idB+"/vmboxes", tokenB, data(map[string]any{"name": "B's box", "mailbox": "3100"}))
	if status != http.StatusCreated {
		t.Fatalf("create box B: %d %v", status, env)
	}
	s.Set("box_b", servertest.Lookup(env, "data.id").(string))

	good, goodHeader := messageBody(t, `{"data": {"caller_id_number": "+14155550100", "caller_id_name": "Alan Turing"}}`, uploadWAV())
	noAudio, noAudioHeader := messageBody(t, `{"data": {"caller_id_number": "1"}}`, nil)
	longName, longHeader := messageBody(t, `{"data": {"caller_id_name": "`+string(bytes.Repeat([]byte("x"), 40))+`"}}`, uploadWAV())
	notAudio, notAudioHeader := messageBody(t, `{"data": {}}`, []byte("<html>no</html>"))
	msgs := "/v2/accounts/{account}/vmboxes/{box}/messages"
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "empty box", Method: "GET", URL: msgs, ExpectedStatus: 200, ExpectedContent: []string{`"data":[]`}},
		{Name: "leave a message", Method: "PUT", URL: msgs, Body: good, Header: goodHeader, ExpectedStatus: 201,
			ExpectedContent:    []string{`"caller_id_number":"+14155550100"`, `"caller_id_name":"Alan Turing"`, `"folder":"new"`, `"length":500`},
			NotExpectedContent: []string{"vmbox_id"}, Capture: map[string]string{"msg": "data.media_id"},
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				ts, _ := r.Get(t, "data.timestamp").(float64)
				if ts < 63_900_000_000 { // Gregorian seconds of 2024 and later
					t.Errorf("timestamp %v is not in Gregorian seconds", ts)
				}
			}},
		{Name: "a bare WAV is a message too", Method: "PUT", URL: msgs, Body: uploadWAV(), Header: http.Header{"Content-Type": {"audio/wav"}}, ExpectedStatus: 201,
			Capture: map[string]string{"msg2": "data.media_id"}},
		{Name: "listed newest first", Method: "GET", URL: msgs, ExpectedStatus: 200, ExpectedContent: []string{`"media_id":"{msg}"`},
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				if n := len(r.Get(t, "data").([]any)); n != 2 {
					t.Errorf("%d messages listed, want 2", n)
				}
			}},
		{Name: "one message", Method: "GET", URL: msgs + "/{msg}", ExpectedStatus: 200, ExpectedContent: []string{`"caller_id_name":"Alan Turing"`}},
		{Name: "its audio", Method: "GET", URL: msgs + "/{msg}/raw", ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				if ct := r.Header.Get("Content-Type"); ct != "audio/wav" {
					t.Errorf("Content-Type %q", ct)
				}
				if len(r.Body) < 44 || string(r.Body[:4]) != "RIFF" || binary.LittleEndian.Uint32(r.Body[24:]) != 8000 {
					t.Errorf("not an 8 kHz WAV: % x", r.Body[:min(len(r.Body), 44)])
				}
				if n := (len(r.Body) - 44) / 2; n != 4000 {
					t.Errorf("%d samples, want 4000 (half a second)", n)
				}
			}},
		{Name: "marked heard", Method: "POST", URL: msgs + "/{msg}", Body: data(map[string]any{"folder": "saved"}), ExpectedStatus: 200, ExpectedContent: []string{`"folder":"saved"`}},
		{Name: "only saved", Method: "GET", URL: msgs + "?folder=saved", ExpectedStatus: 200, ExpectedContent: []string{`"media_id":"{msg}"`},
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				if n := len(r.Get(t, "data").([]any)); n != 1 {
					t.Errorf("%d saved messages, want 1", n)
				}
			}},
		{Name: "unknown folder", Method: "POST", URL: msgs + "/{msg}", Body: data(map[string]any{"folder": "trash"}), ExpectedStatus: 400, ExpectedContent: []string{`"folder":{"enum"`}},
		{Name: "no audio", Method: "PUT", URL: msgs, Body: noAudio, Header: noAudioHeader, ExpectedStatus: 400, ExpectedContent: []string{"the message has no audio"}},
		{Name: "not audio", Method: "PUT", URL: msgs, Body: notAudio, Header: notAudioHeader, ExpectedStatus: 400, ExpectedContent: []string{"unplayable audio"}},
		{Name: "caller name too long", Method: "PUT", URL: msgs, Body: longName, Header: longHeader, ExpectedStatus: 400, ExpectedContent: []string{`"caller_id_name"`}},
		{Name: "broken multipart", Method: "PUT", URL: msgs, Body: "--x\r\nnot a part", Header: http.Header{"Content-Type": {"multipart/mixed; boundary=x"}}, ExpectedStatus: 400},
		{Name: "unknown box", Method: "GET", URL: "/v2/accounts/{account}/vmboxes/0123456789abcdef0123456789abcdef/messages", ExpectedStatus: 404},

		// Another account: neither with its token on A's paths, nor
		// through its own account with A's ids, nor A's message through
		// B's own box.
		{Name: "B cannot list A's messages", Method: "GET", URL: msgs, Token: "{token_b}", ExpectedStatus: 403, NotExpectedContent: []string{"Alan"}},
		{Name: "B cannot read A's audio", Method: "GET", URL: msgs + "/{msg}/raw", Token: "{token_b}", ExpectedStatus: 403},
		{Name: "B cannot leave A a message", Method: "PUT", URL: msgs, Token: "{token_b}", Body: good, Header: goodHeader, ExpectedStatus: 403},
		{Name: "A's box is not in B's account", Method: "GET", URL: "/v2/accounts/{account_b}/vmboxes/{box}/messages", Token: "{token_b}", ExpectedStatus: 404, NotExpectedContent: []string{"Alan"}},
		{Name: "A's message is not in B's box", Method: "GET", URL: "/v2/accounts/{account_b}/vmboxes/{box_b}/messages/{msg}", Token: "{token_b}", ExpectedStatus: 404, NotExpectedContent: []string{"Alan"}},
		{Name: "B cannot delete A's message through its box", Method: "DELETE", URL: "/v2/accounts/{account_b}/vmboxes/{box_b}/messages/{msg}", Token: "{token_b}", ExpectedStatus: 404},
		{Name: "B cannot move A's message", Method: "POST", URL: "/v2/accounts/{account_b}/vmboxes/{box_b}/messages/{msg}", Token: "{token_b}", Body: data(map[string]any{"folder": "new"}), ExpectedStatus: 404},
		{Name: "B's box is empty", Method: "GET", URL: "/v2/accounts/{account_b}/vmboxes/{box_b}/messages", Token: "{token_b}", ExpectedStatus: 200, ExpectedContent: []string{`"data":[]`}},

		{Name: "deleted", Method: "DELETE", URL: msgs + "/{msg}", ExpectedStatus: 200},
		{Name: "gone", Method: "GET", URL: msgs + "/{msg}", ExpectedStatus: 404},
		{Name: "its audio gone", Method: "GET", URL: msgs + "/{msg}/raw", ExpectedStatus: 404},
		{Name: "deleting the box deletes its messages", Method: "DELETE", URL: "/v2/accounts/{account}/vmboxes/{box}", ExpectedStatus: 200,
			Before: func(t testing.TB, s *servertest.Server) {
				if _, err := os.Stat(messageFile(s, "msg2")); err != nil {
					t.Fatalf("the second message's audio: %v", err)
				}
			},
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				if _, err := os.Stat(messageFile(s, "msg2")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the deleted box's message audio is still there: %v", err)
				}
			}},
	})
}

// TestVMBoxMessagesFull: a box holding max_message_count messages refuses
// another with a 400 naming the field, and stores no audio for it.
func TestVMBoxMessagesFull(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	status, env := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/vmboxes", s.Token, data(map[string]any{"name": "Small", "mailbox": "3200", "max_message_count": 1}))
	if status != http.StatusCreated {
		t.Fatalf("create box: %d %v", status, env)
	}
	s.Set("box", servertest.Lookup(env, "data.id").(string))
	msgs := "/v2/accounts/{account}/vmboxes/{box}/messages"
	wav := http.Header{"Content-Type": {"audio/wav"}}
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "first message", Method: "PUT", URL: msgs, Body: uploadWAV(), Header: wav, ExpectedStatus: 201},
		{Name: "box full", Method: "PUT", URL: msgs, Body: uploadWAV(), Header: wav, ExpectedStatus: 400,
			ExpectedContent: []string{"mailbox full", `"max_message_count"`},
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				files, _ := filepath.Glob(filepath.Join(s.DataDir, "media", s.AccountID, "*.wav"))
				if len(files) != 1 {
					t.Errorf("%d audio files, want 1 (the refused message's audio was kept)", len(files))
				}
			}},
		{Name: "still one", Method: "GET", URL: msgs, ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				if n := len(r.Get(t, "data").([]any)); n != 1 {
					t.Errorf("%d messages, want 1", n)
				}
			}},
	})
}

// messageFile is where a message's audio is kept (the media library).
func messageFile(s *servertest.Server, name string) string {
	return filepath.Join(s.DataDir, "media", s.AccountID, s.Expand("{"+name+"}")+".wav")
}

// TestSchemas: the kinds' and modules' schemas are served, as Kazoo's
// /v2/schemas, to anyone (they hold no account data); an unknown name is
// a 404.
func TestSchemas(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "names", Method: "GET", URL: "/v2/schemas", Token: "-", ExpectedStatus: 200,
			ExpectedContent: []string{`"users"`, `"vmboxes"`, `"media"`, `"callflows.pivot"`}},
		{Name: "a kind", Method: "GET", URL: "/v2/schemas/vmboxes", Token: "-", ExpectedStatus: 200,
			ExpectedContent: []string{`"mailbox":{`, `"pattern":"^[0-9]+$"`, `"required":["mailbox","name"]`}},
		{Name: "a module", Method: "GET", URL: "/v2/schemas/callflows.pivot", Token: "-", ExpectedStatus: 200, ExpectedContent: []string{`"voice_url"`}},
		{Name: "unknown", Method: "GET", URL: "/v2/schemas/nothing", Token: "-", ExpectedStatus: 404},
		{Name: "unknown module", Method: "GET", URL: "/v2/schemas/callflows.nothing", Token: "-", ExpectedStatus: 404},
		{Name: "no path tricks", Method: "GET", URL: "/v2/schemas/..%2f..%2fetc%2fpasswd", Token: "-", ExpectedStatus: 404, NotExpectedContent: []string{"root:"}},
	})
}
