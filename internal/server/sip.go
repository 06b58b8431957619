package server

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/store/sqlite"
)

// startSIP builds media and the SIP server and listens; a no-op when
// Config.SIP.Addr is empty.
func (s *Server) startSIP(ctx context.Context) error {
	if s.cfg.SIP.Addr == "" {
		return nil
	}
	mcfg := s.cfg.Media
	if mcfg.DataDir == "" {
		mcfg.DataDir = s.cfg.DataDir
	}
	if mcfg.Egress == nil {
		mcfg.Egress = s.egress
	}
	if mcfg.RecordingURL == nil {
		mcfg.RecordingURL = s.recordingURL
	}
	m, err := media.NewManager(mcfg, s.log.With("component", "media"))
	if err != nil {
		return fmt.Errorf("media: %w", err)
	}
	scfg := s.cfg.SIP
	if scfg.Egress == nil {
		scfg.Egress = s.egress
	}
	srv, err := sip.New(scfg, sip.NewMedia(m), s.trunks, s.runCall, s.log.With("component", "sip"))
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	s.sip = srv
	return nil
}

// runCall runs one inbound SIP call through routing and the engine.
func (s *Server) runCall(ctx context.Context, ch call.Channel) {
	s.calls.Handle(ctx, ch, call.NewTrace(call.RealClock{}, nil))
}

// SIPAddr is the bound SIP address, UDP and TCP ("127.0.0.1:5060"); ""
// when SIP is off.
func (s *Server) SIPAddr() string {
	if s.sip == nil {
		return ""
	}
	return s.sip.Addr()
}

// SIP is the running SIP server, nil when SIP is off.
func (s *Server) SIP() *sip.Server { return s.sip }

// recordingURL is where the API serves an account's recording.
func (s *Server) recordingURL(accountID, file string) string {
	host := s.cfg.Media.PublicIP
	port := ""
	if s.httpLn != nil {
		h, p, _ := net.SplitHostPort(s.httpLn.Addr().String())
		port = p
		if host == "" {
			if ip, err := netip.ParseAddr(h); err == nil && !ip.IsUnspecified() {
				host = h
			}
		}
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/v2/accounts/" + url.PathEscape(accountID) +
		"/recordings/" + url.PathEscape(file)
}

// trunkTable answers which account a SIP source belongs to (longest
// prefix of every trunk's source CIDRs, plus --trust for the default
// account) and where an account's calls to numbers go. It is rebuilt
// from the store after every trunk write.
type trunkTable struct {
	st    store.TrunkStore
	trust []netip.Prefix
	def   string
	log   *slog.Logger

	mu       sync.RWMutex
	inbound  []trunkSource // longest prefix first
	outbound map[string]string
}

type trunkSource struct {
	prefix  netip.Prefix
	account string
}

var _ sip.Trunks = (*trunkTable)(nil)

// newTrunkTable parses trust (CIDRs or addresses) and loads the store's
// trunks.
func newTrunkTable(ctx context.Context, st store.TrunkStore, trust []string, defaultAccount string, log *slog.Logger) (*trunkTable, error) {
	t := &trunkTable{st: st, def: defaultAccount, log: log}
	for _, v := range trust {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			p, err := parseTrust(part)
			if err != nil {
				return nil, fmt.Errorf("trust %q: want an IP address or a CIDR: %w", part, err)
			}
			t.trust = append(t.trust, p)
		}
	}
	if err := t.reload(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

func parseTrust(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// reload rebuilds the table from the store.
func (t *trunkTable) reload(ctx context.Context) error {
	var in []trunkSource
	out := map[string]string{}
	for _, p := range t.trust {
		in = append(in, trunkSource{p, t.def})
	}
	err := t.st.EachTrunk(ctx, func(tr store.Trunk) error {
		for _, c := range tr.SourceCIDRs {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				t.log.Warn("trunk source not usable", "account_id", tr.AccountID, "trunk_id", tr.ID, "cidr", c)
				continue
			}
			in = append(in, trunkSource{p, tr.AccountID})
		}
		if _, ok := out[tr.AccountID]; !ok && tr.OutboundURI != "" {
			out[tr.AccountID] = tr.OutboundURI
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load trunks: %w", err)
	}
	slices.SortStableFunc(in, func(a, b trunkSource) int { return cmp.Compare(b.prefix.Bits(), a.prefix.Bits()) })
	t.mu.Lock()
	t.inbound, t.outbound = in, out
	t.mu.Unlock()
	return nil
}

// Inbound returns the account whose trunk holds addr (longest prefix).
func (t *trunkTable) Inbound(addr netip.Addr) (string, bool) {
	if !addr.IsValid() {
		return "", false
	}
	addr = addr.Unmap()
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, s := range t.inbound {
		if s.prefix.Contains(addr) {
			return s.account, true
		}
	}
	return "", false
}

// Outbound returns the account's outbound gateway.
func (t *trunkTable) Outbound(accountID string) (string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u, ok := t.outbound[accountID]
	return u, ok
}

// watchedStore is the store as the API sees it: every trunk write
// reloads the trunk table, whatever wrote it.
type watchedStore struct {
	*sqlite.DB
	trunks *trunkTable
}

func (w watchedStore) changed(ctx context.Context) {
	if err := w.trunks.reload(context.WithoutCancel(ctx)); err != nil {
		w.trunks.log.Error("trunk table not reloaded", "err", err)
	}
}

func (w watchedStore) CreateTrunk(ctx context.Context, t store.Trunk) (store.Trunk, error) {
	out, err := w.DB.CreateTrunk(ctx, t)
	if err == nil {
		w.changed(ctx)
	}
	return out, err
}

func (w watchedStore) UpdateTrunk(ctx context.Context, t store.Trunk, ifRevision string) (store.Trunk, error) {
	out, err := w.DB.UpdateTrunk(ctx, t, ifRevision)
	if err == nil {
		w.changed(ctx)
	}
	return out, err
}

func (w watchedStore) DeleteTrunk(ctx context.Context, accountID, id, ifRevision string) error {
	err := w.DB.DeleteTrunk(ctx, accountID, id, ifRevision)
	if err == nil {
		w.changed(ctx)
	}
	return err
}
