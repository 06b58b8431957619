package egress_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/egress"
)

func TestPublic(t *testing.T) {
	for _, tc := range []struct {
		ip     string
		public bool
	}{
		{"8.8.8.8", true}, {"2606:4700::1111", true}, {"1.1.1.1", true},
		{"127.0.0.1", false}, {"127.0.0.2", false}, {"10.1.2.3", false}, {"172.20.0.1", false},
		{"192.168.1.1", false}, {"169.254.169.254", false}, {"100.64.0.1", false}, {"0.0.0.0", false},
		{"::1", false}, {"fe80::1", false}, {"fd00::1", false}, {"::ffff:127.0.0.1", false},
		{"::ffff:169.254.169.254", false}, {"64:ff9b::a9fe:a9fe", false}, {"2002:7f00:1::", false},
		{"224.0.0.1", false}, {"255.255.255.255", false},
	} {
		if got := egress.Public(netip.MustParseAddr(tc.ip)); got != tc.public {
			t.Errorf("Public(%s) = %v, want %v", tc.ip, got, tc.public)
		}
	}
}

func TestCheck(t *testing.T) {
	allow, _ := egress.ParsePrefixes([]string{"10.9.0.0/16"})
	own, _ := egress.ParsePrefixes([]string{"192.168.7.7"})
	p := egress.New(egress.Config{DefaultAccount: "op", Allow: allow, Accounts: map[string][]netip.Prefix{"b": own}})
	for _, tc := range []struct {
		account, ip string
		ok          bool
	}{
		{"op", "127.0.0.1", true}, {"op", "169.254.169.254", true},
		{"a", "127.0.0.1", false}, {"a", "169.254.169.254", false}, {"a", "8.8.8.8", true},
		{"a", "10.9.1.1", true}, {"a", "10.8.1.1", false},
		{"b", "192.168.7.7", true}, {"a", "192.168.7.7", false}, {"", "127.0.0.1", false},
	} {
		err := p.Check(tc.account, netip.MustParseAddr(tc.ip))
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, egress.ErrRefused) {
			t.Errorf("Check(%s, %s) = %v, want ok %v", tc.account, tc.ip, err, tc.ok)
		}
	}
}

func get(t *testing.T, c *http.Client, account, url string) (string, error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(egress.WithAccount(t.Context(), account), "GET", url, nil)
	res, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b), nil
}

// TestTransportChecksEveryConnection: a tenant cannot reach loopback by
// address, by a name resolving there, through a redirect from an allowed
// host, nor through a connection the operator's account left in the pool.
func TestTransportChecksEveryConnection(t *testing.T) {
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secret") }))
	defer inner.Close()
	// A second server on 127.0.0.2, allowed for everyone, redirecting to
	// the loopback one.
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2: %v", err)
	}
	outer := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL, http.StatusFound)
	})}}
	outer.Start()
	defer outer.Close()

	allow, _ := egress.ParsePrefixes([]string{"127.0.0.2"})
	p := egress.New(egress.Config{DefaultAccount: "op", Allow: allow})
	c := &http.Client{Transport: p.Transport(nil)}

	if body, err := get(t, c, "op", inner.URL); err != nil || body != "secret" {
		t.Fatalf("the operator's account: %q, %v", body, err)
	}
	port := inner.URL[strings.LastIndex(inner.URL, ":"):]
	for name, url := range map[string]string{
		"by address":        inner.URL,
		"by name":           "http://localhost" + port,
		"through redirect":  outer.URL,
		"metadata endpoint": "http://169.254.169.254/latest/meta-data/",
	} {
		body, err := get(t, c, "tenant", url)
		if err == nil || !errors.Is(err, egress.ErrRefused) {
			t.Errorf("%s: tenant got %q, %v; want refused by the egress policy", name, body, err)
		}
	}
}

func TestResolve(t *testing.T) {
	p := egress.New(egress.Config{DefaultAccount: "op"})
	if _, err := p.Resolve(context.Background(), "tenant", "localhost"); !errors.Is(err, egress.ErrRefused) {
		t.Errorf("tenant resolving localhost: %v, want refused", err)
	}
	if a, err := p.Resolve(context.Background(), "op", "127.0.0.1"); err != nil || a != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("operator: %v %v", a, err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://alice:hunter2@example.com/voice?x=1": "https://alice:***@example.com/voice?x=1",
		"https://token@example.com/":                  "https://***@example.com/",
		"http://example.com/a@b":                      "http://example.com/a@b",
		"https://us%zz:hunter2@example.com/":          "https://***@example.com/",
		"no url at all":                               "no url at all",
	} {
		if got := egress.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSelf: the server's own public address is refused to tenants unless
// the operator allows it.
func TestSelf(t *testing.T) {
	self := []netip.Prefix{netip.MustParsePrefix("203.0.114.9/32")}
	p := egress.New(egress.Config{DefaultAccount: "op", Self: self})
	own := netip.MustParseAddr("203.0.114.9")
	if err := p.Check("tenant", own); !errors.Is(err, egress.ErrRefused) || !strings.Contains(err.Error(), "own address") {
		t.Errorf("tenant to the server's own address: %v", err)
	}
	if err := p.Check("op", own); err != nil {
		t.Errorf("operator: %v", err)
	}
	if err := p.Check("tenant", netip.MustParseAddr("203.0.114.10")); err != nil {
		t.Errorf("tenant to a public address: %v", err)
	}
	p = egress.New(egress.Config{DefaultAccount: "op", Self: self, Allow: self})
	if err := p.Check("tenant", own); err != nil {
		t.Errorf("allowed by the operator: %v", err)
	}
}
