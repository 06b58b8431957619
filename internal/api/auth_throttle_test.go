package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/servertest"
)

// clientFrom is an HTTP client whose connections leave from ip (another
// loopback address is another source to the server).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// signIn sends PUT /v2/api_auth with key through c and returns the status
// and the Retry-After header.
func signIn(t *testing.T, c *http.Client, url, key string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(data(map[string]any{"api_key": key}))
	req, err := http.NewRequestWithContext(t.Context(), "PUT", url+apiAuth, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("answer %d is not JSON: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// TestSignInThrottle is the attack of issue 12 (2,000 wrong keys at full
// speed from one address): after a handful the source is refused with 429
// and Retry-After, cheaply, while another address still signs in.
func TestSignInThrottle(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	attacker := clientFrom("127.0.0.1")
	counts := map[int]int{}
	start := time.Now()
	for i := range 2000 {
		status, retry := signIn(t, attacker, s.URL, fmt.Sprintf("guess-%04d", i))
		counts[status]++
		if status == http.StatusTooManyRequests {
			if n, err := strconv.Atoi(retry); err != nil || n < 1 {
				t.Fatalf("429 with Retry-After %q, want whole seconds", retry)
			}
		}
	}
	// Each lock doubles from 1 s, so however slow this machine is, few
	// guesses are ever checked.
	if counts[http.StatusUnauthorized] > 20 || counts[http.StatusTooManyRequests] < 1900 || len(counts) != 2 {
		t.Errorf("answers %v: want a handful of 401, then 429", counts)
	}
	t.Logf("2000 guesses in %v: %v", time.Since(start), counts)
	if status, _ := signIn(t, attacker, s.URL, servertest.AdminKey); status != http.StatusTooManyRequests {
		t.Errorf("the right key from the locked source: %d, want 429 (the lock holds for every key)", status)
	}
	if status, _ := signIn(t, clientFrom("127.0.0.2"), s.URL, servertest.AdminKey); status != http.StatusCreated {
		t.Errorf("another source signs in: %d, want 201", status)
	}
}

// TestSignInSuccessResets: failures below the lock are forgotten on a
// success, so an admin who mistypes now and then is never locked out.
func TestSignInSuccessResets(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	c := clientFrom("127.0.0.3")
	for round := range 3 {
		for i := range 5 {
			if status, _ := signIn(t, c, s.URL, "typo"); status != http.StatusUnauthorized {
				t.Fatalf("round %d typo %d: %d, want 401", round, i, status)
			}
		}
		if status, _ := signIn(t, c, s.URL, servertest.AdminKey); status != http.StatusCreated {
			t.Fatalf("round %d: the right key: %d, want 201", round, status)
		}
	}
}
