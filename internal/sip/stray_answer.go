package sip

import (
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
)

// A phone rung with others (a ring group, a user's phones) may answer in
// the instant another wins: its 200 crosses our CANCEL, and sipgo, whose
// INVITE transaction ended with the CANCEL, hands it over as a response
// of no transaction. That phone thinks it is in a call and would keep
// resending its 200 with the line open until its timer gives up (32 s
// for baresip). RFC 3261 §9.1 and §15: a 2xx after a CANCEL is ACKed and
// the call released with a BYE. So a 2xx to an INVITE of ours that no
// dialog knows gets both, sent back where it came from (a retransmission
// of an answer we took finds its dialog and is left alone) — but only
// when that INVITE is one we CANCELled lately: its Call-ID and our From
// tag are random, so a stranger cannot forge a 200 that makes us send an
// ACK and a BYE (with its retransmissions) to an address of its choosing.

// cancelledKeep is how long a CANCELled INVITE's 2xx is still released:
// 64×T1 (T1 500 ms), after which the callee stops resending it.
const cancelledKeep = 32 * time.Second

// cancelledInvites are the INVITEs of ours CANCELled in the last
// cancelledKeep, by Call-ID and From tag.
type cancelledInvites struct {
	mu sync.Mutex
	m  map[string]time.Time // callID|fromTag → when it stops counting
}

// add remembers a CANCELled INVITE; the expired ones go as it grows.
func (c *cancelledInvites) add(callID, tag string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]time.Time)
	}
	if len(c.m) >= 64 && len(c.m)&(len(c.m)-1) == 0 { // at each power of two
		for k, until := range c.m {
			if now.After(until) {
				delete(c.m, k)
			}
		}
	}
	c.m[callID+"|"+tag] = now.Add(cancelledKeep)
}

// has reports whether the INVITE was CANCELled within cancelledKeep.
func (c *cancelledInvites) has(callID, tag string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.m[callID+"|"+tag]
	return ok && !now.After(until)
}

// releaseStrayAnswer ACKs and BYEs a 2xx to an INVITE that matches no
// dialog; it reports whether it did.
func (s *Server) releaseStrayAnswer(r *sipmsg.Response) bool {
	cseq, callID, from, to, contact := r.CSeq(), r.CallID(), r.From(), r.To(), r.Contact()
	if !r.IsSuccess() || cseq == nil || cseq.MethodName != sipmsg.INVITE || callID == nil ||
		from == nil || to == nil || contact == nil || r.Source() == "" {
		return false
	}
	local, _ := from.Params.Get("tag")
	remote, _ := to.Params.Get("tag")
	if local == "" || remote == "" || !s.cancelled.has(callID.Value(), local, time.Now()) {
		return false
	}
	s.mu.Lock()
	_, known := s.dialogs[dialogID(callID.Value(), local, remote)]
	s.mu.Unlock()
	if known {
		return false
	}
	transport := r.Transport()
	if transport == "" {
		transport = "udp"
	}
	for _, m := range []struct {
		method sipmsg.RequestMethod
		seq    uint32
	}{{sipmsg.ACK, cseq.SeqNo}, {sipmsg.BYE, cseq.SeqNo + 1}} {
		req := sipmsg.NewRequest(m.method, *contact.Address.Clone())
		req.AppendHeader(sipmsg.HeaderClone(from))
		req.AppendHeader(sipmsg.HeaderClone(to))
		req.AppendHeader(sipmsg.HeaderClone(callID))
		req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: m.seq, MethodName: m.method})
		for _, rr := range reversed(r.GetHeaders("Record-Route")) {
			req.AppendHeader(sipmsg.NewHeader("Route", rr.Value()))
		}
		s.prepare(req, transport)
		req.SetDestination(r.Source())
		if err := s.client.WriteRequest(req); err != nil {
			s.log.Warn("stray answer not released", "call_id", callID.Value(), "method", string(m.method), "err", err)
			return false
		}
	}
	s.log.Info("answer after cancel released", "call_id", callID.Value(), "source", r.Source())
	return true
}

// reversed is hs in the other order (a UAC's route set is its 2xx's
// Record-Route reversed).
func reversed(hs []sipmsg.Header) []sipmsg.Header {
	out := make([]sipmsg.Header, len(hs))
	for i, h := range hs {
		out[len(hs)-1-i] = h
	}
	return out
}
