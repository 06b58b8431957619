package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestSimulateProcess runs `switchboard simulate` as a process against the
// store a running serve uses, with a real customer web server, and reads
// the trace it prints; then finds the same call through the API.
func TestSimulateProcess(t *testing.T) {
	var mu sync.Mutex
	var got []string
	customer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		got = append(got, r.URL.Path+" Digits="+r.Form.Get("Digits")+" CallStatus="+r.Form.Get("CallStatus"))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		switch r.URL.Path {
		case "/voice":
			io.WriteString(w, `<Response><Gather numDigits="2" action="/menu"><Say>Enter two digits</Say></Gather><Say>No input</Say></Response>`)
		case "/menu":
			io.WriteString(w, `<Response><Say>You pressed `+r.Form.Get("Digits")+`</Say><Hangup/></Response>`)
		}
	}))
	defer customer.Close()

	data := t.TempDir()
	key := "sim-test-key-0123456789"
	p := serve(t, nil, "--http-addr", "127.0.0.1:0", "--data-dir", data, "--admin-key", key)
	token, account := signIn(t, p.URL, key)
	flow := map[string]any{"data": map[string]any{"name": "IVR", "numbers": []string{"5000"},
		"flow": map[string]any{"module": "pivot", "data": map[string]any{"voice_url": customer.URL + "/voice", "method": "post", "req_format": "twiml"}}}}
	if status, env := api(t, "PUT", p.URL+"/v2/accounts/"+account+"/callflows", token, flow); status != 201 {
		t.Fatalf("create: %d %v", status, env)
	}

	out, stderr, err := run(t, nil, "", "simulate", "--data-dir", data, "--to", "5000", "--from", "+14155550123", "--input", "42")
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, stderr)
	}
	var ops []string
	var callID string
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, line := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		if _, ok := ev["t_ms"]; !ok {
			t.Errorf("line without t_ms: %s", line)
		}
		ops = append(ops, ev["op"].(string))
	}
	want := "route module webhook answer gather webhook say hangup"
	if strings.Join(ops, " ") != want {
		t.Errorf("ops\n got %s\nwant %s\n%s", strings.Join(ops, " "), want, out)
	}
	mu.Lock()
	if strings.Join(got, "|") != "/voice Digits= CallStatus=ringing|/menu Digits=42 CallStatus=in-progress" {
		t.Errorf("customer saw %q", got)
	}
	mu.Unlock()

	// The call is in the call log: list, trace, pivot debug.
	status, env := api(t, "GET", p.URL+"/v2/accounts/"+account+"/calls", token, nil)
	if status != 200 || len(env["data"].([]any)) != 1 {
		t.Fatalf("calls: %d %v", status, env)
	}
	callID = env["data"].([]any)[0].(map[string]any)["call_id"].(string)
	status, env = api(t, "GET", p.URL+"/v2/accounts/"+account+"/calls/"+callID+"/trace", token, nil)
	if status != 200 || len(env["data"].([]any)) != len(lines) {
		t.Errorf("trace: %d %v", status, env)
	}
	status, env = api(t, "GET", p.URL+"/v2/accounts/"+account+"/pivot/debug/"+callID, token, nil)
	if status != 200 || len(env["data"].([]any)) != 2 {
		t.Fatalf("pivot debug: %d %v", status, env)
	}
	first := env["data"].([]any)[0].(map[string]any)
	if first["resp_status_code"].(float64) != 200 || !strings.Contains(first["resp_body"].(string), "<Gather") || !strings.Contains(first["req_body"].(string), "CallSid="+callID) {
		t.Errorf("first exchange: %v", first)
	}

	// Through the API too: the configurator's Test call.
	status, env = api(t, "POST", p.URL+"/v2/accounts/"+account+"/simulate", token, map[string]any{"data": map[string]any{"to": "5000", "inputs": []string{""}}})
	if status != 200 {
		t.Fatalf("simulate API: %d %v", status, env)
	}
	trace := env["data"].(map[string]any)["trace"].([]any)
	if last := trace[len(trace)-1].(map[string]any); last["op"] != "hangup" {
		t.Errorf("API trace ends with %v", last)
	}

	// Errors: unknown number, missing store.
	_, stderr, err = run(t, nil, "", "simulate", "--data-dir", data, "--to", "999")
	if err == nil || !strings.Contains(stderr, "999") {
		t.Errorf("unknown number: %v %q", err, stderr)
	}
	_, stderr, err = run(t, nil, "", "simulate", "--data-dir", filepath.Join(t.TempDir(), "none"), "--to", "5000")
	if err == nil || !strings.Contains(stderr, "no store") {
		t.Errorf("missing store: %v %q", err, stderr)
	}
}
