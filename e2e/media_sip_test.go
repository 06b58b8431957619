package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// uploadMedia creates a media document and PUTs its audio; it returns the
// media id.
func uploadMedia(t *testing.T, base, token, name, file, contentType string) string {
	t.Helper()
	status, env := api(t, "PUT", base+"/media", token, map[string]any{"data": map[string]any{"name": name}})
	if status != 201 {
		t.Fatalf("media %s: %d %v", name, status, env)
	}
	id := env["data"].(map[string]any)["id"].(string)
	audio, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("PUT", base+"/media/"+id+"/raw", bytes.NewReader(audio))
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("upload %s: %d", name, resp.StatusCode)
	}
	return id
}

// TestMediaMenuOverSIP: a SIPp caller reaches a menu named by id whose
// greeting is an uploaded WAV, presses 1, and hears an uploaded MP3 played
// by id. SIPp records nothing, so the server's trace is the witness: the
// greeting and the play name the media ids, no error, and the play lasted
// as long as the audio (about 1 s of RTP, not an instant failure).
func TestMediaMenuOverSIP(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	token, base := s.Token, s.URL+"/v2/accounts/"+s.Account

	greetingWAV := filepath.Join(t.TempDir(), "greeting.wav")
	if err := os.WriteFile(greetingWAV, silentWAV(500*time.Millisecond), 0o600); err != nil {
		t.Fatal(err)
	}
	greeting := uploadMedia(t, base, token, "Greeting", greetingWAV, "audio/wav")
	thanks := uploadMedia(t, base, token, "Thanks", filepath.Join("..", "internal", "media", "testdata", "audio", "tone-440hz-8000-mono.mp3"), "audio/mpeg")
	status, env := api(t, "PUT", base+"/menus", token, map[string]any{"data": map[string]any{
		"name": "Main", "retries": 1, "media": map[string]any{"greeting": greeting}}})
	if status != 201 {
		t.Fatalf("menu: %d %v", status, env)
	}
	menu := env["data"].(map[string]any)["id"].(string)
	flow := map[string]any{"data": map[string]any{"numbers": []string{"3000"}, "flow": map[string]any{
		"module": "menu", "data": map[string]any{"id": menu},
		"children": map[string]any{"1": map[string]any{"module": "play", "data": map[string]any{"id": thanks}}}}}}
	if status, env := api(t, "PUT", base+"/callflows", token, flow); status != 201 {
		t.Fatalf("flow: %d %v", status, env)
	}

	if err := sippCmdFiles(t, map[string][]byte{"menu.xml": []byte(menuScenario)}, "menu.xml", s.SIP, "-s", "3000",
		"-p", fmt.Sprint(sipFreePort(t)))().Wait(); err != nil {
		t.Fatal(err)
	}

	trace := s.traceOf(t, "")
	var greeted, played bool
	var playStart, playEnd float64
	for _, line := range trace {
		switch line["op"] {
		case "error":
			t.Errorf("error line: %v", line)
		case "gather":
			ps, _ := line["prompts"].([]any)
			greeted = len(ps) == 1 && ps[0].(map[string]any)["media_id"] == greeting && line["digits"] == "1"
		case "module":
			if line["module"] == "play" {
				playStart, _ = line["t_ms"].(float64)
			}
		case "play":
			played = line["media_id"] == thanks && line["error"] == nil
			playEnd, _ = line["t_ms"].(float64)
		}
	}
	if !greeted || !played {
		t.Fatalf("greeting by id %v, play by id %v; trace %v", greeted, played, trace)
	}
	if d := playEnd - playStart; d < 900 {
		t.Errorf("the 1 s MP3 played for %.0f ms: not sent as audio", d)
	}
}
