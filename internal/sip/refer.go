package sip

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
)

// Transfers by REFER (RFC 3515) on a bridged call. The called party (a
// phone the caller was bridged to) sends REFER in its dialog (the caller
// may too, for a blind transfer of the party it called: refer_caller.go):
//
//   - blind: Refer-To names a number, extension, user, device or sip:
//     URI. It is accepted (202), a NOTIFY says "100 Trying", the target is
//     rung as a Dial of the caller's account would ring it (Transfers,
//     then the egress policy); when it answers, the caller is bridged to
//     it, a NOTIFY says "200 OK" and the transferor's leg gets BYE. A
//     target that is unknown, busy or unanswered fails the NOTIFY with
//     that status, and the call goes on as it was.
//   - attended (RFC 3891): Refer-To carries Replaces naming another call
//     the transferor has at Switchboard (its consultation call, which it
//     placed: it is that call's caller). The party it called there is
//     taken from that call and bridged to this caller; both of the
//     transferor's legs are released.
//
// A REFER must come from the address of the party whose dialog it is in,
// and a Replaces must name a call of the same account that the same party
// is in: anything else is refused with 403, without saying whether the
// named call exists.

// Transfers says where a call transferred to a number or name of an
// account goes: the Dial targets a call dialling it would ring (the server
// routes it through the account's call flows, devices and carriers). ok
// is false when nothing in the account answers to it.
type Transfers interface {
	TransferTargets(ctx context.Context, accountID, number string) (targets []call.Target, ok bool)
}

// SetTransfers routes blind transfers' targets. Without it only sip: URIs
// of other hosts can be transfer targets. Call it before Start.
func (s *Server) SetTransfers(t Transfers) { s.transfers = t }

// onRefer takes a REFER: only in a dialog (a call Switchboard bridges); one
// outside any would have it place calls for anyone.
func (s *Server) onRefer(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if r := s.check(req); r != nil {
		s.refuse(tx, req, r)
		return
	}
	if !hasTag(req) {
		s.strangerLog("refer refused: outside a call", "source", req.Source(), "sip_call_id", callID(req))
		s.respond(tx, req, 403, reason(403), warning("REFER outside a call"))
		return
	}
	s.routeInDialog(req, tx)
}

// warning is a Warning header saying why (code 399, RFC 3261 §20.43).
func warning(why string) sipmsg.Header {
	return sipmsg.NewHeader("Warning", `399 switchboard "`+why+`"`)
}

// readRefer takes a REFER in a confirmed dialog: from the dialog's party
// (judged first, so a stranger's REFER does not move the CSeq), in CSeq
// order.
func (d *dialog) readRefer(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	s := d.s
	br, bridged := s.bridgeOf(d.id)
	if bridged && !br.fromParty(d, req.Source()) {
		d.log.Warn("refer refused: not from the call's party", "source", req.Source())
		s.respond(tx, req, 403, reason(403), warning("not from this call's party"))
		return
	}
	d.mu.Lock()
	ph := d.phaseLocked()
	inOrder := ph == phaseEnded || d.inSequenceLocked(req)
	d.mu.Unlock()
	switch {
	case ph == phaseEnded:
		s.refuse(tx, req, refuseNoDialog)
	case !inOrder:
		s.refuse(tx, req, refuseOutOfOrder)
	case ph != phaseConfirmed:
		s.respond(tx, req, 603, reason(603), warning("the call is not answered"))
	case !bridged:
		s.respond(tx, req, 603, reason(603), warning("no bridged call to transfer"))
	default:
		s.transfer(br, d, req, tx)
	}
}

// transfer judges a REFER in dialog d of bridge br and starts the
// transfer it asks for.
func (s *Server) transfer(br *bridging, d *dialog, req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	target, replaces, err := referTo(req)
	if err != nil {
		d.log.Info("refer refused", "err", err)
		s.respond(tx, req, 400, "Bad Refer-To")
		return
	}
	from := br.current()
	byCaller := d == &br.caller.dialog
	switch {
	case from == nil:
		s.respond(tx, req, 603, reason(603), warning("no bridged call to transfer"))
		return
	case !byCaller && d != &from.dialog:
		s.respond(tx, req, 603, reason(603), warning("not a party of this call"))
		return
	}
	var (
		other       *bridging
		callerThere bool
	)
	if replaces != "" {
		var why string
		if other, callerThere, why = s.replacedCall(br, req.Source(), replaces); other == nil {
			d.log.Warn("refer refused", "replaces", replaces, "why", why)
			s.respond(tx, req, 403, reason(403), warning(why))
			return
		}
	}
	sub := referSub{d: d, id: req.CSeq().SeqNo}
	// Counted before the 202 goes: a BYE from the transferor may follow it
	// at once, and the bridge must then wait for the transfer.
	if !br.beginTransfer(byCaller) {
		s.refuse(tx, req, refusePending)
		return
	}
	if err := tx.Respond(d.response(req, 202, "Accepted", nil)); err != nil {
		d.log.Debug("202 to REFER not sent", "err", err)
	}
	s.wg.Go(func() {
		sub.notify(100, false)
		var (
			code int
			then func()
		)
		switch {
		case other != nil:
			code, then = br.attendedBy(from, byCaller, other, callerThere)
		case byCaller:
			code, then = br.blindFromCaller(from, target)
		default:
			code, then = br.blind(from, target)
		}
		// The transfer is over before the final NOTIFY says so: the
		// transferor may send its next REFER as soon as it reads it.
		br.endTransfer()
		br.traceTransfer(other != nil, byCaller, target, code)
		sub.notify(code, true)
		br.notifySent()
		if then != nil {
			then()
		}
	})
}

// traceTransfer tells the Dial (its trace) how a transfer ended.
func (br *bridging) traceTransfer(attended, byCaller bool, target sipmsg.Uri, code int) {
	if br.onTransfer == nil {
		return
	}
	t := call.Transfer{Kind: "blind", By: "callee", Target: target.String(), Status: "failed", SIPCode: code}
	if attended {
		t.Kind = "attended"
	}
	if byCaller {
		t.By = "caller"
	}
	if code >= 200 && code < 300 {
		t.Status = "completed"
	}
	br.onTransfer(t)
}

// fromParty reports whether source is the signalling address of the far
// end of d, a leg of the bridge: the same address and port over UDP, the
// same IP over TCP and TLS (a new connection has a new port).
func (br *bridging) fromParty(d *dialog, source string) bool {
	var peer string
	if d == &br.caller.dialog {
		peer = br.caller.source
	} else if c := br.current(); c != nil && d == &c.dialog {
		peer = c.peer
	}
	if peer == "" {
		return false
	}
	if sipmsg.IsReliable(d.transport) {
		a := signalAddr(peer)
		return a.IsValid() && a == signalAddr(source)
	}
	a, err1 := netip.ParseAddrPort(peer)
	b, err2 := netip.ParseAddrPort(source)
	return err1 == nil && err2 == nil && a.Addr().Unmap() == b.Addr().Unmap() && a.Port() == b.Port()
}

// referTo reads the REFER's one Refer-To: a sip: or sips: URI, and the
// Replaces header it may carry (URI headers, escaped).
func referTo(req *sipmsg.Request) (sipmsg.Uri, string, error) {
	var u sipmsg.Uri
	hs := req.GetHeaders("Refer-To")
	if len(hs) == 0 {
		hs = req.GetHeaders("r")
	}
	if len(hs) != 1 {
		return u, "", fmt.Errorf("%d Refer-To headers", len(hs))
	}
	v := strings.TrimSpace(hs[0].Value())
	if i := strings.IndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return u, "", fmt.Errorf("refer-to %q: no closing >", v)
		}
		v = v[i+1 : i+j]
	} else {
		v, _, _ = strings.Cut(v, ";") // header parameters, not the URI's
	}
	raw, query, _ := strings.Cut(v, "?")
	if err := sipmsg.ParseUri(raw, &u); err != nil || u.Host == "" {
		return u, "", fmt.Errorf("refer-to %q: not a SIP URI", raw)
	}
	if s := strings.ToLower(u.Scheme); s != "sip" && s != "sips" {
		return u, "", fmt.Errorf("refer-to %q: scheme %s", raw, u.Scheme)
	}
	var replaces string
	for _, kv := range strings.Split(query, "&") {
		k, val, _ := strings.Cut(kv, "=")
		if strings.EqualFold(k, "replaces") {
			r, err := unescapeURIHeader(val)
			if err != nil {
				return u, "", fmt.Errorf("refer-to replaces %q: %w", val, err)
			}
			replaces = r
		}
	}
	return u, replaces, nil
}

// unescapeURIHeader reads a %-escaped URI header value ("+" is itself).
func unescapeURIHeader(v string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+2 >= len(v) {
			return "", fmt.Errorf("bad escape at %d", i)
		}
		n, err := strconv.ParseUint(v[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("bad escape at %d", i)
		}
		b.WriteByte(byte(n))
		i += 2
	}
	return b.String(), nil
}

// replacedCall finds the bridge of the call a Replaces names ("call-id;
// to-tag=…;from-tag=…", tags as either side writes them): a call of the
// same account, other than br, which the party at source is in, as its
// caller (callerThere) or as the callee it answered. Else nil and why,
// the same words whether or not the call exists.
func (s *Server) replacedCall(br *bridging, source, replaces string) (other *bridging, callerThere bool, why string) {
	const notYours = "Replaces names no call of this party"
	cid, rest, _ := strings.Cut(replaces, ";")
	var toTag, fromTag string
	for _, p := range strings.Split(rest, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			toTag = v
		case "from-tag":
			fromTag = v
		}
	}
	cid = strings.TrimSpace(cid)
	if cid == "" || toTag == "" || fromTag == "" {
		return nil, false, "Replaces lacks its call id or tags"
	}
	for _, id := range []string{dialogID(cid, toTag, fromTag), dialogID(cid, fromTag, toTag)} {
		other, ok := s.bridgeOf(id)
		if !ok {
			continue
		}
		switch {
		case other == br:
			return nil, false, "Replaces names the call it is sent in"
		case other.caller.info.AccountID != br.caller.info.AccountID:
			return nil, false, notYours
		case other.caller.id != id:
			// The transferor answered that call: it is its callee.
			if c := other.current(); c != nil && c.id == id && other.fromParty(&c.dialog, source) {
				return other, false, ""
			}
			return nil, false, notYours
		case !other.fromParty(&other.caller.dialog, source):
			return nil, false, notYours
		}
		return other, true, ""
	}
	return nil, false, notYours
}

// blind rings target for the caller; the one who answers replaces the
// transferor. It returns the final NOTIFY's status, and what to do once
// it is sent (release the transferor).
func (br *bridging) blind(from *outLeg, target sipmsg.Uri) (int, func()) {
	l := br.caller
	legs, code := l.transferLegs(br.ctx, target)
	if len(legs) == 0 {
		l.log.Info("transfer target not found", "target", target.String(), "code", code)
		return code, nil
	}
	l.log.Info("transfer: ringing", "target", target.String(), "legs", len(legs))
	won, res := l.ring(br.ctx, legs, l.s.cfg.RingTimeout, "")
	if won == nil {
		code := transferFailure(res)
		l.log.Info("transfer failed", "target", target.String(), "status", res.Status, "code", code)
		return code, nil
	}
	if !br.offer(won) {
		won.hangup()
		return 487, nil
	}
	return 200, from.hangup
}

// attended takes the callee of other (the transferor's consultation call)
// and bridges it to this caller in place of the transferor, whose two
// legs are released: this one once the NOTIFY is sent, the other when its
// bridge ends.
func (br *bridging) attended(from *outLeg, other *bridging) (int, func()) {
	c, ok := other.take()
	if !ok {
		return 481, nil
	}
	other.released()
	if !br.offer(c) {
		c.hangup()
		return 487, nil
	}
	return 200, from.hangup
}

// transferLegs are the legs that ring a transfer's target, or the SIP
// status that says why there are none.
func (l *inLeg) transferLegs(ctx context.Context, u sipmsg.Uri) ([]legTarget, int) {
	targets := l.s.transferTargets(ctx, l.info.AccountID, u)
	if len(targets) == 0 {
		return nil, 404
	}
	legs, cause, refused := l.legsFor(ctx, targets, "")
	switch {
	case len(legs) > 0:
		return legs, 0
	case refused != nil && cause == "":
		return nil, 403
	case cause == "USER_NOT_REGISTERED":
		return nil, 480
	}
	return nil, hangupCode(cause)
}

// transferTargets are the Dial targets for a transfer to u: what the
// account answers to u's user part, else u itself when it names another
// host (a sip: target, within the egress policy).
func (s *Server) transferTargets(ctx context.Context, account string, u sipmsg.Uri) []call.Target {
	user := unescape(u.User)
	if user == "" {
		return nil
	}
	if s.transfers != nil {
		if ts, ok := s.transfers.TransferTargets(ctx, account, user); ok {
			return ts
		}
	}
	if s.ownHost(u.Host) {
		return nil
	}
	target := sipmsg.Uri{Scheme: u.Scheme, User: u.User, Host: u.Host, Port: u.Port, UriParams: u.UriParams}
	return []call.Target{{Kind: "sip", Value: target.String()}}
}

// ownHost reports whether host names this server (or any loopback or
// unspecified address): a transfer there is to one of its numbers.
func (s *Server) ownHost(host string) bool {
	host = strings.Trim(host, "[]")
	if host == "" || strings.EqualFold(host, "localhost") || strings.EqualFold(host, s.cfg.Host) ||
		host == s.host(nil) || host == s.outboundIP() {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && (ip.IsLoopback() || ip.IsUnspecified() || ip.Unmap() == s.bindIP)
}

// transferFailure is the status a failed transfer's NOTIFY carries.
func transferFailure(res call.DialResult) int {
	if n, ok := sipCode(res.Cause); ok && n >= 300 {
		return n
	}
	switch res.Status {
	case "busy":
		return 486
	case "no-answer":
		return 480
	case "canceled":
		return 487
	}
	return 503
}

// referSub is the implicit subscription of a REFER we accepted (RFC 3515
// §2.4.4): NOTIFYs in the transferor's dialog with the transfer's
// progress as a message/sipfrag status line.
type referSub struct {
	d  *dialog
	id uint32 // the REFER's CSeq: the Event header's id
}

// notifyTimeout bounds the wait for a NOTIFY's answer.
const notifyTimeout = 8 * time.Second

// notify sends the status line "SIP/2.0 code reason"; final ends the
// subscription. Nothing is sent once the transferor hung up.
func (n referSub) notify(code int, final bool) {
	if n.d.ctx.Err() != nil {
		return
	}
	req := n.d.newRequest(sipmsg.NOTIFY)
	req.AppendHeader(sipmsg.NewHeader("Event", "refer;id="+strconv.FormatUint(uint64(n.id), 10)))
	state := "active;expires=60"
	if final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sipmsg.NewHeader("Subscription-State", state))
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte("SIP/2.0 " + strconv.Itoa(code) + " " + fragReason(code) + "\r\n"))
	ctx, cancel := context.WithTimeout(n.d.ctx, notifyTimeout)
	defer cancel()
	res, err := n.d.s.do(ctx, req)
	switch {
	case err != nil:
		n.d.log.Debug("refer NOTIFY not answered", "code", code, "err", err)
	case res.StatusCode >= 300:
		n.d.log.Debug("refer NOTIFY refused", "code", code, "status", res.StatusCode)
	}
}

// fragReason is the reason phrase of a sipfrag status line.
func fragReason(code int) string {
	switch code {
	case 100:
		return "Trying"
	case 180:
		return "Ringing"
	case 200:
		return "OK"
	}
	return reason(code)
}
