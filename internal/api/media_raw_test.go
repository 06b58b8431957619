package api_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/media/wav"
	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/servertest"
)

// uploadWAV is half a second of a 16 kHz tone, as a WAV file.
func uploadWAV() []byte {
	pcm := make([]int16, 8000)
	for i := range pcm {
		if i%16 < 8 {
			pcm[i] = 8000
		} else {
			pcm[i] = -8000
		}
	}
	return wav.Encode(pcm, 16000)
}

// testMP3 is a one-second MP3 from the media package's test files.
func testMP3(t testing.TB) []byte {
	b, err := os.ReadFile(filepath.Join("..", "media", "testdata", "audio", "tone-440hz-8000-mono.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newMedia creates a media document and returns its id.
func newMedia(t testing.TB, s *servertest.Server, token, account string, doc map[string]any) string {
	t.Helper()
	status, env := s.Do("PUT", "/v2/accounts/"+account+"/media", token, data(doc))
	if status != http.StatusCreated {
		t.Fatalf("create media: %d %v", status, env)
	}
	return servertest.Lookup(env, "data.id").(string)
}

// upload PUTs audio to a media's raw path.
func upload(s *servertest.Server, token, account, id, contentType string, body []byte) servertest.Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return s.DoResponse("PUT", "/v2/accounts/"+account+"/media/"+id+"/raw", token, body, h)
}

// TestMediaUpload: WAV and MP3 uploads are stored as 8 kHz WAV and served
// back; what cannot be played is refused naming why; the size is bounded.
func TestMediaUpload(t *testing.T) {
	t.Parallel()
	s := servertest.New(t, func(c *server.Config) { c.API.MaxMediaBytes = 64 << 10 })
	for _, tc := range []struct {
		name, contentType string
		body              []byte
		status            int
		want              string // in the answer
		seconds           float64
	}{
		{name: "wav", contentType: "audio/wav", body: uploadWAV(), status: 200, want: `"content_type":"audio/wav"`, seconds: 0.5},
		{name: "x-wav", contentType: "audio/x-wav", body: uploadWAV(), status: 200, seconds: 0.5},
		{name: "mp3", contentType: "audio/mpeg", body: testMP3(t), status: 200, seconds: 1},
		{name: "mp3 named audio/mp3", contentType: "audio/mp3", body: testMP3(t), status: 200, seconds: 1},
		{name: "mp3 sniffed", contentType: "application/octet-stream", body: testMP3(t), status: 200, seconds: 1},
		{name: "html", contentType: "text/html", body: []byte("<html><body>hi</body></html>"), status: 400, want: "unplayable audio"},
		{name: "wav header only", contentType: "audio/wav", body: uploadWAV()[:20], status: 400, want: "not playable audio"},
		{name: "empty", contentType: "audio/wav", body: nil, status: 400, want: "the request body is empty"},
		{name: "too large", contentType: "audio/wav", body: make([]byte, 65<<10), status: 413, want: "at most 65536 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := newMedia(t, s, s.Token, s.AccountID, map[string]any{"name": tc.name})
			r := upload(s, s.Token, s.AccountID, id, tc.contentType, tc.body)
			if r.Status != tc.status || !strings.Contains(string(r.Body), tc.want) {
				t.Fatalf("upload: %d %s, want %d with %q", r.Status, r.Body, tc.status, tc.want)
			}
			got := s.DoResponse("GET", "/v2/accounts/"+s.AccountID+"/media/"+id+"/raw", s.Token, nil, nil)
			if tc.status != 200 {
				if got.Status != http.StatusNotFound {
					t.Errorf("GET raw after a refused upload: %d", got.Status)
				}
				return
			}
			if got.Status != 200 || got.Header.Get("Content-Type") != "audio/wav" {
				t.Fatalf("GET raw: %d %s", got.Status, got.Header.Get("Content-Type"))
			}
			f, err := wav.Decode(got.Body)
			if err != nil {
				t.Fatalf("GET raw: %v", err)
			}
			if f.Rate != 8000 || f.Channels != 1 {
				t.Errorf("stored as %d Hz × %d, want 8000 × 1", f.Rate, f.Channels)
			}
			// MP3 frames pad the end.
			if secs := float64(len(f.Samples)) / 8000; secs < tc.seconds-0.06 || secs > tc.seconds+0.15 {
				t.Errorf("stored %.2f s, want %.2f", secs, tc.seconds)
			}
		})
	}
	t.Run("no such media", func(t *testing.T) {
		if r := upload(s, s.Token, s.AccountID, "nosuchmedia", "audio/wav", uploadWAV()); r.Status != http.StatusNotFound {
			t.Errorf("upload to a missing media: %d %s", r.Status, r.Body)
		}
	})
}

// TestMediaOfAnAccount: a media's audio is its account's only: another
// tenant can neither read, replace nor play it.
func TestMediaOfAnAccount(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	id := newMedia(t, s, s.Token, s.AccountID, map[string]any{"name": "Welcome"})
	if r := upload(s, s.Token, s.AccountID, id, "audio/wav", uploadWAV()); r.Status != 200 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	other, token := s.AddAccount("Tenant B")
	for _, c := range []struct {
		name, method, account string
		body                  []byte
		status                int
	}{
		{"GET through A's path", "GET", s.AccountID, nil, http.StatusForbidden},
		{"PUT through A's path", "PUT", s.AccountID, uploadWAV(), http.StatusForbidden},
		{"GET through B's path", "GET", other, nil, http.StatusNotFound},
		{"PUT through B's path", "PUT", other, uploadWAV(), http.StatusNotFound},
	} {
		r := s.DoResponse(c.method, "/v2/accounts/"+c.account+"/media/"+id+"/raw", token, c.body, http.Header{"Content-Type": {"audio/wav"}})
		if r.Status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Body, c.status)
		}
	}
	// B cannot name A's media in a flow: the reference is refused.
	status, env := s.Do("PUT", "/v2/accounts/"+other+"/callflows", token, data(map[string]any{
		"numbers": []string{"7100"}, "flow": map[string]any{"module": "play", "data": map[string]any{"id": id}}}))
	if status != http.StatusBadRequest {
		t.Errorf("B's flow playing A's media: %d %v", status, env)
	}
	// B may hold a media document of the same id (an import keeps ids),
	// but its own library has no audio for it: B's call cannot play A's.
	status, env = s.Do("POST", "/v2/accounts/"+other+"/import", token, data(map[string]any{"documents": []any{
		map[string]any{"kind": "media", "id": id, "document": map[string]any{"name": "Same id"}}}}))
	if status != 200 {
		t.Fatalf("B's import: %d %v", status, env)
	}
	if r := s.DoResponse("GET", "/v2/accounts/"+other+"/media/"+id+"/raw", token, nil, nil); r.Status != http.StatusNotFound {
		t.Errorf("B's raw of the same id: %d", r.Status)
	}
	status, env = s.Do("PUT", "/v2/accounts/"+other+"/callflows", token, data(map[string]any{
		"numbers": []string{"7100"}, "flow": map[string]any{"module": "play", "data": map[string]any{"id": id}}}))
	if status != http.StatusCreated {
		t.Fatalf("B's flow: %d %v", status, env)
	}
	r := s.DoResponse("POST", "/v2/accounts/"+other+"/simulate", token, data(map[string]any{"to": "7100"}), nil)
	var played map[string]any
	for _, l := range traceLines(t, r) {
		if l["op"] == "play" {
			played = l
		}
	}
	if played == nil || played["media_id"] != id || played["error"] == nil {
		t.Errorf("B's simulated play of A's media id: %v\n%s", played, r.Body)
	}
	// A's audio is untouched.
	if r := s.DoResponse("GET", "/v2/accounts/"+s.AccountID+"/media/"+id+"/raw", s.Token, nil, nil); r.Status != 200 || len(r.Body) != 44+2*4000 {
		t.Errorf("A's audio: %d, %d bytes", r.Status, len(r.Body))
	}
}

// TestMediaPlayedAndMenuByID: a simulated call plays an uploaded media by
// id (the trace names it) through a menu whose settings come from its menu
// document; deleting the media deletes its audio.
func TestMediaPlayedAndMenuByID(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	greeting := newMedia(t, s, s.Token, s.AccountID, map[string]any{"name": "Greeting"})
	thanks := newMedia(t, s, s.Token, s.AccountID, map[string]any{"name": "Thanks"})
	if r := upload(s, s.Token, s.AccountID, greeting, "audio/wav", uploadWAV()); r.Status != 200 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	if r := upload(s, s.Token, s.AccountID, thanks, "audio/mpeg", testMP3(t)); r.Status != 200 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	status, env := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/menus", s.Token, data(map[string]any{
		"name": "Main", "retries": 1, "timeout": 4000, "media": map[string]any{"greeting": greeting, "exit_media": false}}))
	if status != http.StatusCreated {
		t.Fatalf("menu: %d %v", status, env)
	}
	menu := servertest.Lookup(env, "data.id").(string)
	status, env = s.Do("PUT", "/v2/accounts/"+s.AccountID+"/callflows", s.Token, data(map[string]any{
		"numbers": []string{"7000"}, "flow": map[string]any{"module": "menu", "data": map[string]any{"id": menu},
			"children": map[string]any{"1": map[string]any{"module": "play", "data": map[string]any{"id": thanks}}}}}))
	if status != http.StatusCreated {
		t.Fatalf("flow: %d %v", status, env)
	}
	r := s.DoResponse("POST", "/v2/accounts/"+s.AccountID+"/simulate", s.Token, data(map[string]any{"to": "7000", "inputs": []string{"1"}}), nil)
	if r.Status != 200 {
		t.Fatalf("simulate: %d %s", r.Status, r.Body)
	}
	var gather, play map[string]any
	for _, l := range traceLines(t, r) {
		switch l["op"] {
		case "gather":
			gather = l
		case "play":
			play = l
		}
	}
	if gather == nil || gather["timeout"] != 4.0 {
		t.Fatalf("gather: %v\n%s", gather, r.Body)
	}
	if ps, _ := gather["prompts"].([]any); len(ps) != 1 || ps[0].(map[string]any)["media_id"] != greeting {
		t.Errorf("menu greeting: %v", gather["prompts"])
	}
	if play == nil || play["media_id"] != thanks {
		t.Errorf("play: %v\n%s", play, r.Body)
	}

	status, _ = s.Do("DELETE", "/v2/accounts/"+s.AccountID+"/media/"+thanks+"?force=true", s.Token, nil)
	if status != 200 {
		t.Fatalf("delete: %d", status)
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "media", s.AccountID, thanks+".wav")); !os.IsNotExist(err) {
		t.Errorf("the deleted media's audio is still there: %v", err)
	}
}

// TestMediaTTS: a tts media is spoken once when saved and kept as its
// audio.
func TestMediaTTS(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	if s.Server.MediaTTS() == "" {
		t.Skip("no TTS engine installed")
	}
	id := newMedia(t, s, s.Token, s.AccountID, map[string]any{"name": "Hours", "media_source": "tts",
		"tts": map[string]any{"text": "We are open from nine to five.", "voice": "female/en-US"}})
	r := s.DoResponse("GET", "/v2/accounts/"+s.AccountID+"/media/"+id+"/raw", s.Token, nil, nil)
	if r.Status != 200 {
		t.Fatalf("GET raw: %d %s", r.Status, r.Body)
	}
	f, err := wav.Decode(r.Body)
	if err != nil || f.Rate != 8000 || len(f.Samples) < 8000 {
		t.Errorf("spoken audio: %v, %d Hz, %d samples", err, f.Rate, len(f.Samples))
	}
}

// TestExportCarriesAudio: export → import into a fresh server → export is
// byte-identical, audio included.
func TestExportCarriesAudio(t *testing.T) {
	t.Parallel()
	a := servertest.New(t)
	id := newMedia(t, a, a.Token, a.AccountID, map[string]any{"name": "Welcome"})
	if r := upload(a, a.Token, a.AccountID, id, "audio/mpeg", testMP3(t)); r.Status != 200 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	first := a.DoResponse("GET", "/v2/accounts/"+a.AccountID+"/export", a.Token, nil, nil)
	bundle := servertest.Lookup(first.JSON(t), "data")
	docs := bundle.(map[string]any)["documents"].([]any)
	if len(docs) != 1 || docs[0].(map[string]any)["audio"] == nil {
		t.Fatalf("export: %s", first.Body)
	}
	b := servertest.New(t)
	if status, env := b.Do("POST", "/v2/accounts/"+b.AccountID+"/import", b.Token, data(map[string]any{"documents": docs})); status != 200 {
		t.Fatalf("import: %d %v", status, env)
	}
	second := b.DoResponse("GET", "/v2/accounts/"+b.AccountID+"/export", b.Token, nil, nil)
	d1, d2 := servertest.Lookup(first.JSON(t), "data.documents"), servertest.Lookup(second.JSON(t), "data.documents")
	if d1.([]any)[0].(map[string]any)["audio"] != d2.([]any)[0].(map[string]any)["audio"] {
		t.Errorf("the audio changed in the round trip")
	}
	ra := a.DoResponse("GET", "/v2/accounts/"+a.AccountID+"/media/"+id+"/raw", a.Token, nil, nil)
	rb := b.DoResponse("GET", "/v2/accounts/"+b.AccountID+"/media/"+id+"/raw", b.Token, nil, nil)
	if rb.Status != 200 || !bytes.Equal(ra.Body, rb.Body) {
		t.Errorf("imported audio: %d, %d bytes, want %d", rb.Status, len(rb.Body), len(ra.Body))
	}
	// Refused before anything is written: audio that does not play.
	bad := []any{map[string]any{"kind": "media", "id": "x1", "document": map[string]any{"name": "Bad"}, "audio": "aGVsbG8="}}
	if status, env := b.Do("POST", "/v2/accounts/"+b.AccountID+"/import", b.Token, data(map[string]any{"documents": bad})); status != 400 {
		t.Errorf("import of unplayable audio: %d %v", status, env)
	}
}
