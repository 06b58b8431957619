package sip

import (
	"context"
	"maps"
	"strings"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/store"
)

// Keep-alive of phones behind NAT. A phone that registered from another
// address than its Contact names sits behind a NAT whose mapping closes
// after a while of silence (30 s on many home routers for UDP): a call to
// it would then never arrive. Every RegistrarConfig.KeepAlive the server
// sends such a binding an OPTIONS from its SIP port, which keeps the
// mapping open; a binding that leaves KeepAliveFailures probes in a row
// unanswered is dropped (the phone is gone: calls stop ringing into
// nothing, and the API stops listing it). Phones that send their own CRLF
// keep-alives are answered by the transport (RFC 5626 §3.5.1).

// maxProbes bounds the OPTIONS probes in flight at once.
const maxProbes = 64

// keepAliveState is what the registrar keeps of its probes.
type keepAliveState struct {
	once   sync.Once
	mu     sync.Mutex
	misses map[string]int // account/device/contact → probes unanswered in a row
}

// startKeepAlive starts the probe loop once, when the first binding
// behind NAT is made (the server is listening by then); it ends with the
// server.
func (s *Server) startKeepAlive() {
	r := s.reg
	if r.cfg.KeepAlive <= 0 {
		return
	}
	r.keep.once.Do(func() {
		s.wg.Go(func() {
			t := time.NewTicker(r.cfg.KeepAlive)
			defer t.Stop()
			for {
				select {
				case <-s.ctx.Done():
					return
				case <-t.C:
					s.probeBindings(s.ctx)
				}
			}
		})
	})
}

// behindNAT reports whether a binding's Contact names another address
// than the one the phone registered from.
func behindNAT(b store.Registration) bool {
	var u sipmsg.Uri
	if err := sipmsg.ParseUri(b.Contact, &u); err != nil {
		return false
	}
	return natDest(u, b.Source) != ""
}

// probeBindings sends one OPTIONS to every live binding behind NAT, at
// most maxProbes at once, and returns when all are answered or gave up.
func (s *Server) probeBindings(ctx context.Context) {
	r, now := s.reg, time.Now()
	var due []store.Registration
	r.mu.Lock()
	for _, bs := range r.bindings {
		for _, b := range bs {
			if b.Expires.After(now) && behindNAT(b) {
				due = append(due, b)
			}
		}
	}
	r.mu.Unlock()
	live := make(map[string]bool, len(due))
	for _, b := range due {
		live[probeKey(b)] = true
	}
	r.keep.mu.Lock()
	maps.DeleteFunc(r.keep.misses, func(k string, _ int) bool { return !live[k] }) // bindings gone since
	r.keep.mu.Unlock()
	sem := make(chan struct{}, maxProbes)
	var wg sync.WaitGroup
	for _, b := range due {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			s.probe(ctx, b)
		})
	}
	wg.Wait()
}

// probeKey names a binding in keepAliveState.misses.
func probeKey(b store.Registration) string {
	return devKey(b.AccountID, b.DeviceID) + "/" + b.Contact
}

// probe sends one OPTIONS to a binding; any answer counts, and
// KeepAliveFailures silences in a row drop the binding.
func (s *Server) probe(ctx context.Context, b store.Registration) {
	r := s.reg
	key := probeKey(b)
	lt, ok := contactLeg(b, call.Target{})
	if !ok {
		return
	}
	transport := "udp"
	if t, ok := lt.uri.UriParams.Get("transport"); ok && t != "" {
		transport = strings.ToLower(t)
	}
	req := sipmsg.NewRequest(sipmsg.OPTIONS, lt.uri)
	from := &sipmsg.FromHeader{Address: sipmsg.Uri{Scheme: "sip", User: "keepalive", Host: s.host(nil)}, Params: sipmsg.NewParams()}
	from.Params.Add("tag", sipmsg.GenerateTagN(16))
	to := &sipmsg.ToHeader{Address: sipmsg.Uri{Scheme: lt.uri.Scheme, User: lt.uri.User, Host: lt.uri.Host, Port: lt.uri.Port}}
	cid := sipmsg.CallIDHeader(sipmsg.GenerateTagN(24) + "@switchboard")
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&cid)
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: 1, MethodName: sipmsg.OPTIONS})
	req.AppendHeader(s.contact(nil, transport))
	s.prepare(req, transport)
	if lt.dest != "" {
		req.SetDestination(lt.dest)
	}
	pctx, cancel := context.WithTimeout(ctx, r.cfg.KeepAliveTimeout)
	defer cancel()
	_, err := s.do(pctx, req)
	if ctx.Err() != nil {
		return // the server is closing: not the phone's fault
	}
	r.keep.mu.Lock()
	if err == nil {
		delete(r.keep.misses, key)
		r.keep.mu.Unlock()
		return
	}
	r.keep.misses[key]++
	n := r.keep.misses[key]
	if n >= r.cfg.KeepAliveFailures {
		delete(r.keep.misses, key)
	}
	r.keep.mu.Unlock()
	s.log.Debug("keep-alive unanswered", "device_id", b.DeviceID, "contact", b.Contact, "misses", n, "err", err)
	if n >= r.cfg.KeepAliveFailures {
		s.dropBinding(b, n)
	}
}

// dropBinding removes a binding that stopped answering, unless the phone
// registered it again meanwhile.
func (s *Server) dropBinding(b store.Registration, misses int) {
	r := s.reg
	k := devKey(b.AccountID, b.DeviceID)
	r.mu.Lock()
	bs := r.bindings[k]
	i := -1
	for j, c := range bs {
		if c.Contact == b.Contact && c.CallID == b.CallID && c.CSeq == b.CSeq {
			i = j
		}
	}
	if i < 0 {
		r.mu.Unlock()
		return
	}
	bs = append(bs[:i:i], bs[i+1:]...)
	if len(bs) == 0 {
		delete(r.bindings, k)
	} else {
		r.bindings[k] = bs
	}
	r.mu.Unlock()
	s.persist(context.WithoutCancel(s.ctx), b, true)
	s.log.Info("registration dropped: keep-alive unanswered", "account_id", b.AccountID, "device_id", b.DeviceID,
		"contact", b.Contact, "source", b.Source, "misses", misses)
}
