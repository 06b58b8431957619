package server

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard/switchboard/internal/api"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media"
	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/store"
)

// startSIP builds media and the SIP server and listens; a no-op when
// Config.SIP.Addr is empty.
func (s *Server) startSIP(ctx context.Context) error {
	if s.cfg.SIP.Addr == "" {
		return nil
	}
	scfg := s.cfg.SIP
	if scfg.Egress == nil {
		scfg.Egress = s.egress
	}
	srv, err := sip.New(scfg, sip.NewMedia(s.media), s.trunks, s.runCall, s.log.With("component", "sip"))
	if err != nil {
		return err
	}
	s.registerMedia(s.media)
	s.registerSIP(srv)
	refused := &refusedLog{ctx: context.WithoutCancel(ctx), calls: s.calls, def: s.bootstrap.AccountID}
	srv.OnRefuse(refused.record)
	srv.SetCarriers(s.carriers)
	srv.SetAccountMusic(s)
	srv.SetTransfers(transferRouter{numbers: numberRouter{router: s.router, flows: s.calls.flows}, phones: s.phones})
	rcfg := s.cfg.Registrar
	rcfg.Directory, rcfg.Bindings, rcfg.Extensions = s.phones, s.callLog, extensions{router: s.router, flows: s.calls.flows}
	if err := srv.EnableRegistrar(ctx, rcfg); err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	s.sip = srv
	return nil
}

// newMedia builds the media manager from Config.Media (its data dir, egress
// policy and recording URLs defaulting to the server's).
func (s *Server) newMedia() (*media.Manager, error) {
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
		return nil, fmt.Errorf("media: %w", err)
	}
	return m, nil
}

// runCall runs one inbound SIP call through routing and the engine.
func (s *Server) runCall(ctx context.Context, ch call.Channel) {
	s.calls.HandleSaveLater(ctx, ch, call.NewTrace(call.RealClock{}, nil))
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

// recordingURL is where the API serves an account's recording: a signed
// link (RecordingURLTTL, 7 days by default) that the customer's server and
// <Play> fetch with no credentials; ".mp3" or ".wav" may be appended.
// The account is the running call's, loaded when it was routed; without
// it the link is the plain path, which takes HTTP Basic or an API token.
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
	prefix := "http://" + net.JoinHostPort(host, port)
	if acct, ok := s.calls.cachedAccount(accountID); ok && acct.SigningSecret != "" {
		ttl := s.cfg.RecordingURLTTL
		if ttl <= 0 {
			ttl = 7 * 24 * time.Hour
		}
		return prefix + api.SignedRecordingPath(acct.SigningSecret, url.PathEscape(accountID), file, time.Now().Add(ttl))
	}
	return prefix + "/v2/accounts/" + url.PathEscape(accountID) + "/recordings/" + url.PathEscape(strings.TrimSuffix(file, ".wav"))
}

// recordingFile maps the link of one of the account's own recordings
// (…/v2/accounts/{account}/recordings/[signed/{grant}/]{file}, whatever
// the host) to "recording:<name>", which media reads from the account's
// own directory under dir, so <Play> of a RecordingUrl needs no
// credentials. Another account's path, a name with a path, or a file
// that is not there is left to HTTP.
func recordingFile(dir string) func(accountID, rawURL string) (string, bool) {
	return func(accountID, rawURL string) (string, bool) {
		u, err := url.Parse(rawURL)
		if err != nil || accountID == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return "", false
		}
		rest, ok := strings.CutPrefix(u.Path, "/v2/accounts/"+accountID+"/recordings/")
		if !ok {
			return "", false
		}
		if after, ok := strings.CutPrefix(rest, "signed/"); ok {
			_, rest, _ = strings.Cut(after, "/")
		}
		rest = strings.TrimSuffix(strings.TrimSuffix(rest, ".wav"), ".mp3")
		if rest == "" || strings.ContainsAny(rest, "/\\") || strings.HasPrefix(rest, ".") {
			return "", false
		}
		if fi, err := os.Stat(filepath.Join(dir, accountID, rest+".wav")); err != nil || !fi.Mode().IsRegular() {
			return "", false
		}
		return "recording:" + rest, true
	}
}

// trunkTable answers which account a SIP source belongs to (longest
// prefix of every trunk's source CIDRs, plus --trust for the default
// account) and where an account's calls to numbers go. It is a docIndex
// of trunks: kept in step by the store's writes.
type trunkTable struct {
	trust []netip.Prefix
	def   string
	log   *slog.Logger

	mu       sync.RWMutex
	trunks   map[string]trunkEntry // account/id
	inbound  []trunkSource         // longest prefix first
	outbound map[string]string
}

type trunkEntry struct {
	account string
	idx     store.TrunkIndex
}

type trunkSource struct {
	prefix  netip.Prefix
	account string
}

var _ sip.Trunks = (*trunkTable)(nil)

// newTrunkTable parses trust (CIDRs or addresses); the trunks come from
// the indexes' load.
func newTrunkTable(trust []string, defaultAccount string, log *slog.Logger) (*trunkTable, error) {
	t := &trunkTable{def: defaultAccount, log: log, trunks: map[string]trunkEntry{}}
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
	t.rebuildLocked()
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

// put indexes a saved trunk.
func (t *trunkTable) put(d store.Doc) {
	var idx store.TrunkIndex
	if err := json.Unmarshal(d.Index, &idx); err != nil {
		t.log.Error("trunk index unreadable", "account_id", d.AccountID, "trunk_id", d.ID, "err", err)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.trunks[d.AccountID+"/"+d.ID] = trunkEntry{account: d.AccountID, idx: idx}
	t.rebuildLocked()
}

// remove forgets a deleted trunk.
func (t *trunkTable) remove(d store.Doc) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.trunks, d.AccountID+"/"+d.ID)
	t.rebuildLocked()
}

// rebuildLocked recomputes the lookup tables from the trunks (a handful
// per account; rebuilt on a trunk write, never on a call).
func (t *trunkTable) rebuildLocked() {
	var in []trunkSource
	out := map[string]string{}
	for _, p := range t.trust {
		in = append(in, trunkSource{p, t.def})
	}
	keys := make([]string, 0, len(t.trunks))
	for k := range t.trunks {
		keys = append(keys, k)
	}
	slices.Sort(keys) // by account then id: the first gateway wins
	for _, k := range keys {
		tr := t.trunks[k]
		for _, c := range tr.idx.SourceCIDRs {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				t.log.Warn("trunk source not usable", "trunk", k, "cidr", c)
				continue
			}
			in = append(in, trunkSource{p, tr.account})
		}
		if _, ok := out[tr.account]; !ok && tr.idx.OutboundURI != "" {
			out[tr.account] = tr.idx.OutboundURI
		}
	}
	slices.SortStableFunc(in, func(a, b trunkSource) int { return cmp.Compare(b.prefix.Bits(), a.prefix.Bits()) })
	t.inbound, t.outbound = in, out
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

// MediaTTS is the TTS engine media uses ("flite", "espeak-ng"), "" for
// none, so tests and the operator can tell whether tts media can be spoken.
func (s *Server) MediaTTS() string { return s.media.TTSEngine() }
