package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCallflowCommands drives list, apply, get and delete against a running
// server, configured only through the environment a newcomer would export.
func TestCallflowCommands(t *testing.T) {
	key := "cli-test-key-0123456789"
	p := serve(t, nil, "--http-addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--admin-key", key)
	env := []string{"SWITCHBOARD_SERVER=" + p.URL, "SWITCHBOARD_ADMIN_KEY=" + key}

	fixture, err := filepath.Abs("../testdata/callflows/pivot-twiml-get.json")
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, err := run(t, env, "", "callflow", "apply", "-f", fixture)
	if err != nil || !strings.HasPrefix(out, "created ") {
		t.Fatalf("apply: %v %q %q", err, out, stderr)
	}
	id := strings.Fields(out)[1]

	// Applying the same file again updates the flow of that name.
	out, stderr, err = run(t, env, "", "callflow", "apply", "-f", fixture)
	if err != nil || !strings.HasPrefix(out, "updated "+id) {
		t.Fatalf("apply again: %v %q %q", err, out, stderr)
	}

	// Standard input, an array of two documents.
	two := `[{"name":"CLI one","numbers":["6001"],"flow":{"module":"pivot","data":{"voice_url":"https://a.test/1"}}},
	         {"name":"CLI two","numbers":["6002"],"flow":{"module":"pivot","data":{"voice_url":"https://a.test/2"}}}]`
	out, stderr, err = run(t, env, two, "callflow", "apply", "-f", "-")
	if err != nil || strings.Count(out, "created ") != 2 {
		t.Fatalf("apply stdin: %v %q %q", err, out, stderr)
	}

	out, _, err = run(t, env, "", "callflow", "list")
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "CLI two") || !strings.Contains(out, "pivot") {
		t.Fatalf("list: %v %q", err, out)
	}

	out, _, err = run(t, env, "", "callflow", "get", id)
	var doc map[string]any
	if err != nil || json.Unmarshal([]byte(out), &doc) != nil || doc["id"] != id {
		t.Fatalf("get: %v %q", err, out)
	}

	// A document the server refuses: the error names the field; exit non-zero.
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"name":"bad","numbers":["7"],"flow":{"module":"pivot","data":{"voice_url":"ftp://no"}}}`), 0o600)
	_, stderr, err = run(t, env, "", "callflow", "apply", "-f", bad)
	if err == nil || !strings.Contains(stderr, "flow.data.voice_url") {
		t.Errorf("bad apply: %v %q", err, stderr)
	}
	_, stderr, err = run(t, env, "", "callflow", "apply", "-f", filepath.Join(t.TempDir(), "missing.json"))
	if err == nil || !strings.Contains(stderr, "missing.json") {
		t.Errorf("missing file: %v %q", err, stderr)
	}

	out, _, err = run(t, env, "", "callflow", "delete", id)
	if err != nil || !strings.Contains(out, "deleted "+id) {
		t.Fatalf("delete: %v %q", err, out)
	}
	_, stderr, err = run(t, env, "", "callflow", "get", id)
	if err == nil || !strings.Contains(stderr, "404") {
		t.Errorf("get deleted: %v %q", err, stderr)
	}

	// Wrong key and no server: clear errors.
	_, stderr, err = run(t, []string{"SWITCHBOARD_SERVER=" + p.URL, "SWITCHBOARD_API_KEY=wrong"}, "", "callflow", "list")
	if err == nil || !strings.Contains(stderr, "401") {
		t.Errorf("wrong key: %v %q", err, stderr)
	}
	_, stderr, err = run(t, nil, "", "callflow", "list")
	if err == nil || !strings.Contains(stderr, "no API key") {
		t.Errorf("no key: %v %q", err, stderr)
	}
}
