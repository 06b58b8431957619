package egress

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Transport is an http.RoundTripper under a Policy: each request dials as
// the account its context carries (WithAccount), and connections are
// pooled per policy class, so a connection the default account opened to
// a private address is never reused for a tenant.
type Transport struct {
	p    *Policy
	base *http.Transport

	mu      sync.Mutex
	byClass map[string]*http.Transport
}

// Transport builds a policed RoundTripper from base (nil: Go's default
// transport settings). Proxies are not used: the policy judges the
// address actually connected to.
func (p *Policy) Transport(base *http.Transport) *Transport {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	return &Transport{p: p, base: base, byClass: map[string]*http.Transport{}}
}

// Class names the group of accounts that reach the same addresses as
// account ("default", "account:<id>" or "public"), so that a cache of
// fetched content (the media URL cache) is shared only inside a group: a
// copy the operator's account fetched from loopback must not be served to
// a tenant that may not fetch it.
func (p *Policy) Class(account string) string {
	if p == nil {
		return "default"
	}
	return p.class(account)
}

// class groups accounts that may reach the same addresses: the default
// account, each account with networks of its own, and all the others.
func (p *Policy) class(account string) string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	switch {
	case account != "" && account == p.cfg.DefaultAccount:
		return "default"
	case len(p.cfg.Accounts[account]) > 0:
		return "account:" + account + "#" + strconv.Itoa(p.gen[account])
	}
	return "public"
}

// RoundTrip sends req through the pool of its account's class.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.transport(t.p.class(AccountOf(req.Context()))).RoundTrip(req)
}

func (t *Transport) transport(class string) *http.Transport {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tr, ok := t.byClass[class]; ok {
		return tr
	}
	tr := t.base.Clone()
	tr.Proxy = nil
	tr.DialContext = t.p.Dialer(&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.byClass[class] = tr
	return tr
}

// CloseIdleConnections closes the idle connections of every pool; after
// SetAccount changes an account's networks, its old connections go too.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tr := range t.byClass {
		tr.CloseIdleConnections()
	}
}

var _ http.RoundTripper = (*Transport)(nil)
