package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSimulateAt runs `switchboard simulate --at` on a time-of-day flow
// whose rule was saved through the API: the same number answers
// differently at different times.
func TestSimulateAt(t *testing.T) {
	data := t.TempDir()
	key := "sim-at-key-0123456789"
	p := serve(t, nil, "--http-addr", "127.0.0.1:0", "--data-dir", data, "--admin-key", key)
	token, account := signIn(t, p.URL, key)
	base := p.URL + "/v2/accounts/" + account
	status, env := api(t, "PUT", base+"/temporal_rules", token, map[string]any{"data": map[string]any{
		"name": "Office hours", "cycle": "weekly", "wdays": []string{"monday", "tuesday", "wednesday", "thursday", "friday"},
		"time_window_start": 32400, "time_window_stop": 61200, "timezone": "America/New_York"}})
	if status != 201 {
		t.Fatalf("rule: %d %v", status, env)
	}
	rule := env["data"].(map[string]any)["id"].(string)
	tts := func(text string) map[string]any {
		return map[string]any{"module": "tts", "data": map[string]any{"text": text}}
	}
	flow := map[string]any{"data": map[string]any{"numbers": []string{"5100"}, "flow": map[string]any{
		"module": "temporal_route", "data": map[string]any{"rules": []string{rule}},
		"children": map[string]any{rule: tts("Open."), "_": tts("Closed.")}}}}
	if status, env := api(t, "PUT", base+"/callflows", token, flow); status != 201 {
		t.Fatalf("flow: %d %v", status, env)
	}
	for at, want := range map[string]string{
		"2025-06-03T10:00:00-04:00": "Open.",
		"2025-06-03T10:00:00+02:00": "Closed.", // 04:00 in New York
		"2025-06-08T10:00:00-04:00": "Closed.", // a Sunday
	} {
		out, stderr, err := run(t, nil, "", "simulate", "--data-dir", data, "--to", "5100", "--at", at)
		if err != nil {
			t.Fatalf("simulate --at %s: %v\n%s", at, err, stderr)
		}
		said := ""
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var ev map[string]any
			if json.Unmarshal([]byte(line), &ev) == nil && ev["op"] == "say" {
				said = ev["text"].(string)
			}
		}
		if said != want {
			t.Errorf("--at %s: said %q, want %q\n%s", at, said, want, out)
		}
	}
	if _, stderr, err := run(t, nil, "", "simulate", "--data-dir", data, "--to", "5100", "--at", "noon"); err == nil || !strings.Contains(stderr, "--at") {
		t.Errorf("--at noon: %v %s", err, stderr)
	}
}
