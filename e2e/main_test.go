// Package e2e runs the real switchboard binary as a newcomer would: built
// with go build, started as a process, driven over HTTP and its CLI.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "switchboard-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "switchboard")
	build := exec.Command("go", "build", "-o", binary, "./cmd/switchboard")
	build.Dir = ".."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build switchboard:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running `switchboard serve`.
type proc struct {
	cmd    *exec.Cmd
	URL    string
	stdout *syncBuffer
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serve starts the binary with args and env (added to a clean environment)
// and returns once it logs its HTTP address.
func serve(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p, err := startServe(t, env, args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// errPortTaken is startServe's error when a port the test picked was taken
// by another process between the pick and the bind: pick again.
var errPortTaken = errors.New("a listen address was taken")

// startServe is serve, returning the failure instead of ending the test.
func startServe(t *testing.T, env []string, args ...string) (*proc, error) {
	t.Helper()
	// SIP on a free port unless the test chose one: :5060 may be taken.
	if !slices.Contains(args, "--sip-addr") && !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "SWITCHBOARD_SIP_ADDR=") }) {
		args = append([]string{"--sip-addr", "127.0.0.1:0"}, args...)
	}
	// RTP in a block of the test's own unless the test chose a range.
	if !slices.Contains(args, "--rtp-ports") && !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "SWITCHBOARD_RTP_PORTS=") }) {
		args = append([]string{"--rtp-ports", rtpPorts(t)}, args...)
	}
	cmd := exec.Command(binary, append([]string{"serve", "--log-format", "json"}, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, stdout: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout = p.stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start serve: %w", err)
	}
	addr := make(chan string, 1)
	var portTaken atomic.Bool
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			t.Log("serve:", line)
			if strings.Contains(line, "address already in use") {
				portTaken.Store(true)
			}
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "http listening" {
				addr <- rec.Addr
			}
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	select {
	case a := <-addr:
		p.URL = "http://" + a
	case err := <-p.done:
		<-scanned
		if portTaken.Load() {
			return nil, fmt.Errorf("serve exited before listening: %w", errPortTaken)
		}
		return nil, fmt.Errorf("serve exited before listening: %w", err)
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		return nil, errors.New("serve did not listen within 60s")
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p, nil
}

// cleanEnv is the test's environment without SWITCHBOARD_* variables.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") {
			out = append(out, kv)
		}
	}
	return out
}

// run runs a CLI command to its end.
func run(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// api sends one request with the Kazoo envelope.
func api(t *testing.T, method, url, token string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var env map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&env)
	return resp.StatusCode, env
}

func signIn(t *testing.T, url, key string) (token, account string) {
	t.Helper()
	status, env := api(t, "PUT", url+"/v2/api_auth", "", map[string]any{"data": map[string]any{"api_key": key}})
	if status != 201 {
		t.Fatalf("sign in: %d %v", status, env)
	}
	return env["auth_token"].(string), env["data"].(map[string]any)["account_id"].(string)
}
