package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
)

func flowBody(name, number string) map[string]any {
	return map[string]any{"data": map[string]any{
		"name": name, "numbers": []string{number},
		"flow": map[string]any{"module": "pivot", "data": map[string]any{"voice_url": "https://example.com/" + name}},
	}}
}

// TestKillDuringWritesLosesNoAcknowledgedWrite kills the server with
// SIGKILL in the middle of a stream of writes from several clients, starts
// it again on the same data dir, and checks every write that was answered
// 201 is there, whole.
func TestKillDuringWritesLosesNoAcknowledgedWrite(t *testing.T) {
	data := t.TempDir()
	key := "kill-test-key-0123456789"
	p := serve(t, nil, "--http-addr", "127.0.0.1:0", "--data-dir", data, "--admin-key", key)
	token, account := signIn(t, p.URL, key)

	var (
		mu    sync.Mutex
		acked = map[string]string{} // id → name
		n     atomic.Int64
		wg    sync.WaitGroup
		stop  = make(chan struct{})
	)
	const killAfter = 300
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("w%d-%d", w, i)
				status, env := api(t, "PUT", p.URL+"/v2/accounts/"+account+"/callflows", token, flowBody(name, fmt.Sprintf("%d%05d", w+1, i)))
				if status == 0 {
					return // the server is gone
				}
				if status != 201 {
					t.Errorf("write %s: %d %v", name, status, env)
					return
				}
				mu.Lock()
				acked[env["data"].(map[string]any)["id"].(string)] = name
				mu.Unlock()
				if n.Add(1) == killAfter {
					p.cmd.Process.Signal(syscall.SIGKILL)
				}
			}
		})
	}
	<-p.done
	close(stop)
	wg.Wait()
	if len(acked) < killAfter {
		t.Fatalf("only %d writes acknowledged before the kill", len(acked))
	}

	p2 := serve(t, nil, "--http-addr", "127.0.0.1:0", "--data-dir", data, "--admin-key", key)
	token, _ = signIn(t, p2.URL, key)
	status, env := api(t, "GET", p2.URL+"/v2/accounts/"+account+"/callflows?paginate=false", token, nil)
	if status != 200 {
		t.Fatalf("list after restart: %d", status)
	}
	stored := map[string]string{}
	for _, it := range env["data"].([]any) {
		m := it.(map[string]any)
		stored[m["id"].(string)] = m["name"].(string)
	}
	lost := 0
	for id, name := range acked {
		if stored[id] != name {
			lost++
			if lost < 5 {
				t.Errorf("acknowledged write %s (%s) lost after kill -9", id, name)
			}
		}
	}
	t.Logf("%d writes acknowledged before SIGKILL, %d stored after restart, %d lost", len(acked), len(stored), lost)
	if lost > 0 {
		t.Errorf("%d acknowledged writes lost", lost)
	}
	// Every stored document is whole and still routable.
	for id := range stored {
		status, env := api(t, "GET", p2.URL+"/v2/accounts/"+account+"/callflows/"+id, token, nil)
		if status != 200 || env["data"].(map[string]any)["flow"] == nil {
			t.Errorf("stored %s unreadable: %d", id, status)
		}
	}
}

func TestGeneratedKeyPrintedOnceAndEnvironment(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	env := []string{"SWITCHBOARD_HTTP_ADDR=127.0.0.1:0", "SWITCHBOARD_DATA_DIR=" + data}
	p := serve(t, env)
	// stdout is copied by another goroutine than stderr: wait for the key.
	keyLine := regexp.MustCompile(`(?m)^    ([0-9a-f]{64})$`)
	key, ok := waitfor.Within(20*time.Second, func() ([]string, bool) {
		k := keyLine.FindStringSubmatch(p.stdout.String())
		return k, k != nil
	})
	if !ok {
		t.Fatalf("no generated key on stdout: %q", p.stdout.String())
	}
	if _, err := os.Stat(filepath.Join(data, "switchboard.db")); err != nil {
		t.Errorf("SWITCHBOARD_DATA_DIR not used: %v", err)
	}
	signIn(t, p.URL, key[1])

	// SIGTERM stops it cleanly with status 0.
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30s after SIGTERM")
	}

	p2 := serve(t, env)
	if strings.Contains(p2.stdout.String(), key[1]) || strings.Contains(p2.stdout.String(), "admin API key") {
		t.Errorf("key printed again on restart: %q", p2.stdout.String())
	}
	signIn(t, p2.URL, key[1])
}

func TestBadSettingsRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"bad env number", []string{"SWITCHBOARD_MAX_BODY_BYTES=lots"}, nil, "SWITCHBOARD_MAX_BODY_BYTES"},
		{"bad log level", nil, []string{"--log-level", "loud"}, "--log-level"},
		{"unknown flag", nil, []string{"--nope"}, "unknown flag"},
		{"address in use", nil, []string{"--http-addr", "256.0.0.1:1"}, "listen http"},
		{"bad egress network", []string{"SWITCHBOARD_WEBHOOK_ALLOW=10.0.0.0/8,intranet"}, nil, "--webhook-allow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "--data-dir", t.TempDir()}, tc.args...)
			_, stderr, err := run(t, tc.env, "", args...)
			if err == nil || !strings.Contains(stderr, tc.want) {
				t.Errorf("err %v, stderr %q, want a failure naming %q", err, stderr, tc.want)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"callflow", "--help"}, {"callflow", "apply", "--help"}, {"version"}} {
		out, stderr, err := run(t, nil, "", args...)
		if err != nil || out == "" {
			t.Errorf("%v: err %v, stdout %q, stderr %q", args, err, out, stderr)
		}
	}
	out, _, _ := run(t, nil, "", "serve", "--help")
	for _, want := range []string{"--http-addr", "SWITCHBOARD_HTTP_ADDR", "--data-dir", "SWITCHBOARD_DATA_DIR", "--admin-key", "SWITCHBOARD_ADMIN_KEY"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve --help lacks %s", want)
		}
	}
}
