// Package egress decides where a tenant's traffic may go: the webhooks the
// Pivot block calls (and every redirect hop), the <Play> URLs it fetches,
// and the SIP destinations it dials. A hostile customer server must not
// turn Switchboard into a proxy to the operator's own network (cloud
// metadata at 169.254.169.254, the admin API on loopback, a database on a
// private range) nor make it place calls to any host it names (toll fraud).
//
// The check is on the resolved address, at connect time (net.Dialer's
// ControlContext), so that neither DNS rebinding nor a redirect can dodge
// it, and connection pools are kept apart per policy so that a connection
// opened for a trusted account is never reused for another.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// ErrRefused is wrapped by every refusal, so callers (the webhook client,
// the dialer) report "refused by the egress policy" instead of "unreachable".
var ErrRefused = errors.New("refused by the egress policy")

// RefusedError names the address a policy refused, and for which account.
type RefusedError struct {
	Account string
	Addr    netip.Addr
}

func (e *RefusedError) Error() string {
	if Public(e.Addr) {
		return fmt.Sprintf("%s is this server's own address and account %s may not reach it: %v", e.Addr, e.Account, ErrRefused)
	}
	return fmt.Sprintf("%s is not a public address and account %s may not reach it: %v", e.Addr, e.Account, ErrRefused)
}

func (e *RefusedError) Unwrap() error { return ErrRefused }

// Config is the operator's policy; its zero value lets the default account
// reach anything and every other account public addresses only.
type Config struct {
	// DefaultAccount may reach any address: the operator's own apps often
	// run on the same host or network (a self-hosted app on loopback must
	// keep working).
	DefaultAccount string
	// Allow lists networks every account may reach besides public
	// addresses (--webhook-allow).
	Allow []netip.Prefix
	// Accounts lists, per account, further networks that account may
	// reach: a setting the operator controls, not the tenant.
	Accounts map[string][]netip.Prefix
	// Self lists the server's own addresses (its interfaces), which only
	// the default account reaches even when they are public: a tenant's
	// webhook must not talk to the server's own API. Allow and Accounts
	// still open them, being the operator's explicit choice.
	Self []netip.Prefix
}

// ParsePrefixes reads CIDRs or bare addresses ("10.1.0.0/16",
// "192.0.2.7"), as flags and settings give them.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// Policy applies a Config. It is safe for concurrent use; SetAccount
// changes an account's networks while calls run.
type Policy struct {
	mu  sync.RWMutex
	cfg Config
	// gen counts each account's SetAccount calls: its pool class changes
	// with it, so a connection kept alive to a network the account no
	// longer may reach is never reused.
	gen map[string]int
}

// New builds a policy.
func New(cfg Config) *Policy {
	c := cfg
	c.Accounts = map[string][]netip.Prefix{}
	for k, v := range cfg.Accounts {
		c.Accounts[k] = slices.Clone(v)
	}
	return &Policy{cfg: c, gen: map[string]int{}}
}

// SetAccount replaces the extra networks an account may reach (nil: none).
func (p *Policy) SetAccount(account string, nets []netip.Prefix) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen[account]++
	if len(nets) == 0 {
		delete(p.cfg.Accounts, account)
		return
	}
	p.cfg.Accounts[account] = slices.Clone(nets)
}

// Check returns nil when account may reach ip, else a *RefusedError.
func (p *Policy) Check(account string, ip netip.Addr) error {
	ip = ip.Unmap()
	if p == nil {
		return nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if account != "" && account == p.cfg.DefaultAccount {
		return nil
	}
	if Public(ip) && !slices.ContainsFunc(p.cfg.Self, func(n netip.Prefix) bool { return n.Contains(ip) }) {
		return nil
	}
	for _, n := range p.cfg.Allow {
		if n.Contains(ip) {
			return nil
		}
	}
	for _, n := range p.cfg.Accounts[account] {
		if n.Contains(ip) {
			return nil
		}
	}
	return &RefusedError{Account: account, Addr: ip}
}

// notPublic are the ranges that are not the public internet: this host,
// private and shared networks, link-local (cloud metadata), multicast,
// reserved and documentation ranges.
var notPublic = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Public reports whether ip is an address of the public internet.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return false
	}
	// NAT64 and 6to4 embed an IPv4 address that is judged on its own.
	if ip.Is6() {
		b := ip.As16()
		switch {
		case b[0] == 0x20 && b[1] == 0x02: // 2002::/16, 6to4
			return Public(netip.AddrFrom4([4]byte(b[2:6])))
		case netip.MustParsePrefix("64:ff9b::/96").Contains(ip):
			return Public(netip.AddrFrom4([4]byte(b[12:16])))
		}
	}
	for _, n := range notPublic {
		if n.Contains(ip) {
			return false
		}
	}
	return true
}

type accountKey struct{}

// WithAccount tags ctx with the account whose traffic it carries; the
// dialers of this package check connections made under it.
func WithAccount(ctx context.Context, account string) context.Context {
	return context.WithValue(ctx, accountKey{}, account)
}

// AccountOf is the account ctx carries, "" when none.
func AccountOf(ctx context.Context) string {
	a, _ := ctx.Value(accountKey{}).(string)
	return a
}

// Dialer returns a dialer that refuses, at connect time, any address the
// account of the dial's context may not reach. base (may be nil) gives the
// timeouts and keep-alive settings.
func (p *Policy) Dialer(base *net.Dialer) *net.Dialer {
	d := &net.Dialer{}
	if base != nil {
		*d = *base
	}
	d.ControlContext = func(ctx context.Context, network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("egress: %s: %w", address, ErrRefused)
		}
		return p.Check(AccountOf(ctx), ap.Addr())
	}
	return d
}

// Resolve finds an address of host that account may reach, for protocols
// that dial the address themselves (SIP): the caller then connects to that
// address, never to the name again, so the answer cannot change in between.
func (p *Policy) Resolve(ctx context.Context, account, host string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap(), p.Check(account, a)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("resolve %s: %w", host, err)
	}
	var refused error
	for _, a := range addrs {
		if err := p.Check(account, a); err != nil {
			refused = err
			continue
		}
		return a.Unmap(), nil
	}
	if refused == nil {
		refused = fmt.Errorf("resolve %s: no address", host)
	}
	return netip.Addr{}, refused
}
