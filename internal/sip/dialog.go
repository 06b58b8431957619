package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/media"
)

// dialog is the SIP dialog core that both legs embed, as sipgo's session
// types embed its Dialog: the ids and tags, the route set and remote
// target, CSeq both ways, offers and answers, the 2xx awaiting its ACK,
// the session timer, and the dialog's end as a context with a cause. What
// differs between an inbound call and an outbound leg is asked of role.
//
// mu guards the core's fields and, by embedding, the leg's own.
type dialog struct {
	s      *Server
	log    *slog.Logger
	role   legRole
	offers negotiator // takes the far end's offers and answers
	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup // helpers: 2xx retransmission, session timer

	id        string // callID|localTag|remoteTag, the key of Server.dialogs
	callID    string
	from, to  sipmsg.Header // ours and theirs, with tags, for requests we send
	contact   *sipmsg.ContactHeader
	routes    []string // the route set, in the order requests carry it
	transport string
	source    string // where the INVITE came from (UAS): reliable transports answer there

	timers  bool              // RFC 4028 runs on this dialog
	refresh chan sessionTimer // refreshes for watchSession

	mu         sync.Mutex
	localCSeq  uint32
	remoteCSeq uint32
	remoteSeen bool // a remote CSeq is known: the UAC's is empty until the far end sends a request (RFC 3261 §12.1.2)
	target     sipmsg.Uri
	sdp        []byte         // our current SDP
	initial    *pendingInvite // the 2xx to the INVITE that made the dialog (UAS)
	pending    *pendingInvite // a re-INVITE answered 2xx, awaiting its ACK
	timer      sessionTimer
}

// negotiator takes the far end's SDP: a leg's media session, or, for a
// B2BUA passing offers through, the other leg.
type negotiator interface {
	// Update answers a new offer; errors wrapping media.ErrBadSDP or
	// media.ErrNoCodec get 488.
	Update(offer []byte) ([]byte, error)
	// SetAnswer takes the answer to an offer we made.
	SetAnswer(answer []byte) error
}

// negotiatorNow is the dialog's negotiator, read under its lock (a bridge
// swaps it while the call runs).
func (d *dialog) negotiatorNow() negotiator {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.offers
}

// phase is where a dialog stands for the requests it receives.
type phase int

const (
	phaseEarly     phase = iota // no 2xx yet: a re-INVITE waits (491)
	phaseConfirmed              // offers and refreshes are taken
	phaseEnded                  // nothing is (481)
)

// legRole is what the dialog core asks of the leg that embeds it.
type legRole interface {
	// phaseLocked is the leg's phase; mu is held.
	phaseLocked() phase
	// farEndBye is the far end hanging up (its BYE is answered).
	farEndBye()
	// readInfo handles an in-sequence INFO.
	readInfo(req *sipmsg.Request, tx sipmsg.ServerTransaction)
	// terminate hangs up an established dialog with BYE because of cause
	// (no ACK came, the session expired).
	terminate(ctx context.Context, cause error)
}

// initUAS sets the dialog up from an INVITE we received, as its UAS; to
// is its To header with our tag.
func (d *dialog) initUAS(invite *sipmsg.Request, to *sipmsg.ToHeader) {
	s := d.s
	local, remote := to.AsFrom(), invite.From().AsTo()
	d.from, d.to = &local, &remote
	d.callID = callID(invite)
	tag, _ := to.Params.Get("tag")
	d.id = dialogID(d.callID, tag, fromTag(invite))
	d.transport = invite.Transport()
	d.contact = s.contact(invite, d.transport)
	for _, rr := range invite.GetHeaders("Record-Route") {
		d.routes = append(d.routes, rr.Value())
	}
	d.source = invite.Source()
	d.remoteCSeq, d.remoteSeen = invite.CSeq().SeqNo, true
	if c := invite.Contact(); c != nil {
		d.target = *c.Address.Clone()
	}
	d.timers = true
}

// initUAC sets the dialog up from the INVITE we sent and its 2xx, as its
// UAC; the route set is the 2xx's Record-Route reversed.
func (d *dialog) initUAC(invite *sipmsg.Request, ok *sipmsg.Response, offer []byte) {
	d.from, d.to = sipmsg.HeaderClone(invite.From()), sipmsg.HeaderClone(ok.To())
	d.callID = callID(invite)
	d.id = dialogID(d.callID, fromTag(invite), toTag(ok))
	d.transport = invite.Transport()
	d.contact = invite.Contact().Clone()
	rrs := ok.GetHeaders("Record-Route")
	for i := len(rrs) - 1; i >= 0; i-- {
		d.routes = append(d.routes, rrs[i].Value())
	}
	d.localCSeq = invite.CSeq().SeqNo
	d.target = *invite.Recipient.Clone()
	if c := ok.Contact(); c != nil {
		d.target = *c.Address.Clone()
	}
	d.sdp = offer
}

// init gives the dialog its server, role, logger and context (which ends
// with the server's); initUAS or initUAC follows once the dialog exists.
func (d *dialog) init(s *Server, role legRole, log *slog.Logger) {
	d.s, d.role, d.log = s, role, log
	d.ctx, d.cancel = context.WithCancelCause(s.ctx)
	d.refresh = make(chan sessionTimer, 1)
}

// phaseLocked is the leg's phase, ended once the dialog's context is.
func (d *dialog) phaseLocked() phase {
	if d.ctx.Err() != nil {
		return phaseEnded
	}
	return d.role.phaseLocked()
}

// inSequenceLocked checks and records a request's CSeq (RFC 3261
// §12.2.2: one not above the last gets 500).
func (d *dialog) inSequenceLocked(req *sipmsg.Request) bool {
	seq := req.CSeq().SeqNo
	if d.remoteSeen && seq <= d.remoteCSeq {
		return false
	}
	d.remoteCSeq, d.remoteSeen = seq, true
	return true
}

// refreshTargetLocked takes the Contact of a target refresh request
// (re-INVITE, UPDATE) as the new remote target.
func (d *dialog) refreshTargetLocked(req *sipmsg.Request) {
	if c := req.Contact(); c != nil {
		d.target = *c.Address.Clone()
	}
}

// newRequest builds a request in the dialog: From us, To the far end,
// the next CSeq, the route set, to the remote target (over the caller's
// own connection for TCP and TLS when no proxy is in the way). It goes to
// the first route, with the transport's default port when the route
// names none.
func (d *dialog) newRequest(method sipmsg.RequestMethod) *sipmsg.Request {
	d.mu.Lock()
	d.localCSeq++
	cseq := d.localCSeq
	target := *d.target.Clone()
	d.mu.Unlock()
	routes, strict := d.routes, false
	if len(routes) > 0 {
		// A strict router (no lr, RFC 3261 §12.2.1.1) goes in the
		// Request-URI, and the remote target last in the Route.
		var u sipmsg.Uri
		if err := sipmsg.ParseUri(routeURI(routes[0]), &u); err == nil && !u.UriParams.Has("lr") {
			routes = append(append([]string(nil), routes[1:]...), "<"+target.String()+">")
			target, strict = u, true
		}
	}
	req := sipmsg.NewRequest(method, target)
	cid := sipmsg.CallIDHeader(d.callID)
	// From, To and Contact are the dialog's own, shared, not copied:
	// they are never changed once the dialog is made, nor is a header of
	// a request once built (sipgo only writes them).
	req.AppendHeader(d.from)
	req.AppendHeader(d.to)
	req.AppendHeader(&cid)
	req.AppendHeader(&sipmsg.CSeqHeader{SeqNo: cseq, MethodName: method})
	req.AppendHeader(d.contact)
	for _, r := range routes {
		req.AppendHeader(sipmsg.NewHeader("Route", r))
	}
	d.s.prepare(req, d.transport)
	switch {
	case strict:
		req.SetDestination(hop(target, d.transport))
	case len(routes) > 0:
		// sipgo sends to the top Route.
	case sipmsg.IsReliable(d.transport) && d.source != "":
		req.SetDestination(d.source)
	}
	return req
}

// hop is the address a request to u goes to: u's port, or the default
// port of the transport.
func hop(u sipmsg.Uri, transport string) string {
	port := u.Port
	if port == 0 {
		port = sipmsg.DefaultPort(transport)
	}
	return net.JoinHostPort(u.Host, strconv.Itoa(port))
}

// routeURI is the URI inside a Route or Record-Route value.
func routeURI(v string) string {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i+1 : i+j]
		}
	}
	return v
}

// byeTimeout bounds the wait for a BYE's answer (UDP retransmits it at
// T1, 2·T1, … meanwhile).
const byeTimeout = 8 * time.Second

// bye sends BYE in the dialog and waits for its answer; a 481 (the far
// end already forgot the dialog) is no failure.
func (d *dialog) bye(ctx context.Context) error {
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), byeTimeout)
	defer cancel()
	res, err := d.s.do(bctx, d.newRequest(sipmsg.BYE))
	switch {
	case err != nil:
		return fmt.Errorf("bye: %w", err)
	case res.StatusCode >= 300 && res.StatusCode != 481:
		return fmt.Errorf("bye answered %d", res.StatusCode)
	}
	return nil
}

// pendingInvite is an INVITE or re-INVITE we answered 2xx, awaiting its
// ACK.
type pendingInvite struct {
	cseq      uint32
	offerless bool          // our 2xx offered: the ACK carries the answer
	done      chan struct{} // closed on the ACK, or when it is given up
	once      sync.Once
	resend    atomic.Pointer[time.Timer] // awaitAck's; stopped by settle
}

func newPendingInvite(req *sipmsg.Request) *pendingInvite {
	return &pendingInvite{cseq: req.CSeq().SeqNo, offerless: len(req.Body()) == 0, done: make(chan struct{})}
}

// settle ends the wait: the ACK came (with body, the answer to an
// offerless INVITE) or never will.
func (p *pendingInvite) settle(d *dialog, body []byte) {
	p.once.Do(func() {
		close(p.done)
		if t := p.resend.Load(); t != nil {
			t.Stop()
		}
		if p.offerless && len(body) > 0 {
			if err := d.negotiatorNow().SetAnswer(body); err != nil {
				d.log.Info("answer in ACK not usable", "err", err)
			}
		}
	})
}

// awaitAck resends the 2xx of p over an unreliable transport (T1
// doubling to T2) until its ACK arrives or the dialog ends; after 64·T1
// without one the call is hung up (RFC 3261 §13.3.1.4). It returns at
// once: the resends run on one timer, stopped by the ACK (p.done closes
// then, or when it is given up). A goroutine and two timers per call
// waiting for an ACK that comes within a millisecond cost more than the
// wait.
func (d *dialog) awaitAck(tx sipmsg.ServerTransaction, res *sipmsg.Response, p *pendingInvite) {
	reliable := sipmsg.IsReliable(d.transport)
	giveUp := time.Now().Add(64 * d.s.t1)
	var wait atomic.Int64 // the last interval: each run of the callback is a new goroutine
	wait.Store(int64(d.s.t1))
	// Made idle and stored before it is armed: the callback always finds
	// it to re-arm.
	t := time.AfterFunc(time.Hour, func() {
		select {
		case <-p.done:
			return
		case <-d.ctx.Done():
			return
		default:
		}
		left := time.Until(giveUp)
		if left <= 0 {
			d.log.Warn("no ACK for 2xx: hanging up", "cseq", p.cseq)
			p.settle(d, nil)
			d.role.terminate(context.WithoutCancel(d.ctx), errNoAck)
			return
		}
		if !reliable {
			if err := tx.Respond(res); err != nil {
				d.log.Debug("2xx retransmission failed", "cseq", p.cseq, "err", err)
			}
		}
		next := min(2*time.Duration(wait.Load()), d.s.t2)
		wait.Store(int64(next))
		p.resend.Load().Reset(min(next, left))
	})
	p.resend.Store(t)
	t.Reset(d.s.t1)
	select {
	case <-p.done: // settled before the timer was stored
		t.Stop()
	default:
	}
}

// response builds a response to req in the dialog; a 1xx or 2xx carries
// our Contact and capabilities, a body is SDP.
func (d *dialog) response(req *sipmsg.Request, code int, reason string, sdp []byte) *sipmsg.Response {
	return d.responseTo(req, nil, code, reason, sdp)
}

// Headers every dialog's responses carry, made once: a message's headers
// are only read once built (sipgo writes them; nothing here changes a
// header of a response), so one value serves every response.
var (
	allowHeader      = sipmsg.NewHeader("Allow", allowed)
	supportedHeader  = sipmsg.NewHeader("Supported", supportedTags)
	sdpContentHeader = sipmsg.NewHeader("Content-Type", "application/sdp")
)

// responseTo is response with to (not nil) in place of req's To header:
// an INVITE's with our tag.
func (d *dialog) responseTo(req *sipmsg.Request, to *sipmsg.ToHeader, code int, reason string, sdp []byte) *sipmsg.Response {
	res := newResponse(req, to, code, reason)
	if code > 100 && code < 300 {
		// The dialog's Contact is never changed once made: shared, not
		// copied.
		res.AppendHeader(d.contact)
		if req.IsInvite() {
			res.AppendHeader(allowHeader)
		}
		if d.timers {
			res.AppendHeader(supportedHeader)
		}
	}
	res.AppendHeader(d.s.serverHeader)
	if len(sdp) > 0 {
		res.AppendHeader(sdpContentHeader)
		res.SetBody(sdp)
	}
	return res
}

// offerRefusal is the answer to an offer media could not take: 488 with
// a short Warning naming why when the SDP is bad or shares no codec, 500
// otherwise.
func offerRefusal(err error) (int, []sipmsg.Header) {
	why := ""
	switch {
	case errors.Is(err, media.ErrBadSDP):
		why = media.ErrBadSDP.Error()
	case errors.Is(err, media.ErrNoCodec):
		why = media.ErrNoCodec.Error()
	default:
		return 500, nil
	}
	return 488, []sipmsg.Header{sipmsg.NewHeader("Warning", `399 switchboard "`+why+`"`)}
}
