package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icholy/digest"

	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/sip"
)

// TestRegistrationRate measures digest-authenticated registrations per
// second: workers each own a device and a UDP socket and loop REGISTER →
// 401 → REGISTER with credentials → 200 (a binding written to the call
// log database each time). Run with
// `go test ./bench/ -run TestRegistrationRate -v`.
func TestRegistrationRate(t *testing.T) {
	if os.Getenv("SWITCHBOARD_BENCH") != "1" {
		t.Skip("a load measurement, not a test: run with SWITCHBOARD_BENCH=1 (see bench/)")
	}
	const workers = 32
	dur := 3 * time.Second
	if testing.Short() {
		dur = 500 * time.Millisecond
	}
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := server.Config{HTTPAddr: "127.0.0.1:0", DataDir: t.TempDir(), AdminKey: "bench-admin-key-0123456789abcdef",
		SIP: sip.Config{Addr: "127.0.0.1:0"}}
	srv, err := server.New(t.Context(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.WithoutCancel(t.Context())); err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.WithoutCancel(t.Context()))
	base := "http://" + srv.HTTPAddr()
	acct := srv.Bootstrap().AccountID
	tok := apiToken(t, base, cfg.AdminKey)
	for i := range workers {
		body := map[string]any{"data": map[string]any{"name": fmt.Sprint("bench", i),
			"sip": map[string]any{"username": fmt.Sprint("bench", i), "password": "bench-password"}}}
		if st := apiDo(t, "PUT", base+"/v2/accounts/"+acct+"/devices", tok, body, nil); st != 201 {
			t.Fatalf("create device: %d", st)
		}
	}
	sipAddr := srv.SIPAddr()
	var done, failed atomic.Int64
	ctx, cancel := context.WithTimeout(t.Context(), dur)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			conn, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				failed.Add(1)
				return
			}
			defer conn.Close()
			user := fmt.Sprint("bench", i)
			for n := 1; ctx.Err() == nil; n += 2 {
				status, chal := benchRegister(conn, sipAddr, user, n, "")
				if !strings.Contains(status, " 401 ") {
					failed.Add(1)
					continue
				}
				c, err := digest.ParseChallenge(chal)
				if err != nil {
					failed.Add(1)
					continue
				}
				cred, _ := digest.Digest(c, digest.Options{Method: "REGISTER", URI: "sip:" + sipAddr, Username: user, Password: "bench-password", Count: 1})
				if status, _ = benchRegister(conn, sipAddr, user, n+1, cred.String()); strings.Contains(status, " 200 ") {
					done.Add(1)
				} else {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	t.Logf("registrations with digest auth: %d in %v = %.0f/s (each 2 transactions: 401, then 200 with a stored binding); failed %d; %d workers",
		done.Load(), el.Round(time.Millisecond), float64(done.Load())/el.Seconds(), failed.Load(), workers)
	if done.Load() == 0 {
		t.Fatal("no registration succeeded")
	}
}

// benchRegister sends one REGISTER and reads its answer (status line,
// WWW-Authenticate).
func benchRegister(conn net.PacketConn, server, user string, cseq int, authz string) (string, string) {
	local := conn.LocalAddr().String()
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%d\r\n", server, local, user, cseq)
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=b%d\r\nTo: <sip:%s@%s>\r\nCall-ID: bench-%s\r\nCSeq: %d REGISTER\r\n", user, server, cseq, user, server, user, cseq)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\nExpires: 600\r\nMax-Forwards: 70\r\n", user, local)
	if authz != "" {
		b.WriteString("Authorization: " + authz + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	dst, _ := net.ResolveUDPAddr("udp", server)
	conn.WriteTo([]byte(b.String()), dst)
	buf := make([]byte, 4096)
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := conn.ReadFrom(buf)
	if err != nil {
		return "", ""
	}
	var status, chal string
	for i, l := range strings.Split(string(buf[:n]), "\r\n") {
		if i == 0 {
			status = l
		}
		if name, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(name, "WWW-Authenticate") {
			chal = strings.TrimSpace(v)
		}
	}
	return status, chal
}

func apiToken(t *testing.T, base, key string) string {
	var env struct {
		AuthToken string `json:"auth_token"`
	}
	if st := apiDo(t, "PUT", base+"/v2/api_auth", "", map[string]any{"data": map[string]any{"api_key": key}}, &env); st != 201 {
		t.Fatalf("api_auth: %d", st)
	}
	return env.AuthToken
}

func apiDo(t *testing.T, method, url, tok string, body, out any) int {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(b))
	if tok != "" {
		req.Header.Set("X-Auth-Token", tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}
