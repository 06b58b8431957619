package sip

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/store"
)

// deviceTargets are the legs that ring the registered phones a Dial
// target names (kinds device, user, client and group): one per live
// contact of each device, sent to the address the phone registered from
// (behind NAT its Contact may name an address we cannot reach), and the
// legs of their call forwarding (forwardLegs). Disabled devices, devices on
// do-not-disturb and, unless t.CanCallSelf, the caller's own phones are
// left out. handled is false for other kinds; with no leg the cause is
// USER_BUSY when do-not-disturb left a device out, else
// USER_NOT_REGISTERED.
func (l *inLeg) deviceTargets(ctx context.Context, t call.Target) (legs []legTarget, cause string, handled bool) {
	switch t.Kind {
	case "device", "user", "client", "group":
	default:
		return nil, "", false
	}
	s := l.s
	if s.reg == nil {
		return nil, "USER_NOT_REGISTERED", true
	}
	now := time.Now()
	dnd := false
	forwarded := map[string]bool{} // forward numbers already rung
	for _, d := range s.reg.cfg.Directory.Devices(l.info.AccountID, t) {
		switch {
		case d.Disabled:
			continue
		case !t.CanCallSelf && l.isCaller(d):
			l.log.Debug("dial: the caller's own phone left out", "device_id", d.ID)
			continue
		case d.DoNotDisturb:
			dnd = true
			continue
		}
		contacts := s.reg.contacts(d.AccountID, d.ID, now)
		f := d.Forward
		if f != nil && (t.IgnoreForward || f.DirectCallsOnly && t.Indirect) {
			f = nil
		}
		if f != nil && !forwarded[f.Number] {
			forwarded[f.Number] = true
			// failover: the forward rings once the phones did not
			// answer, at once when none is registered.
			legs = append(legs, l.forwardLegs(ctx, d, *f, t, f.Failover && len(contacts) > 0)...)
		}
		if f != nil && f.Substitute && !f.Failover {
			continue // the forward instead of the phones
		}
		for _, b := range contacts {
			if lt, ok := contactLeg(b, t); ok {
				lt.moh = d.MusicOnHold
				legs = append(legs, lt)
			}
		}
	}
	if len(legs) == 0 {
		if dnd {
			return nil, "USER_BUSY", true
		}
		return nil, "USER_NOT_REGISTERED", true
	}
	return legs, "", true
}

// contactLeg is the leg that rings one binding, over the transport it
// registered on.
func contactLeg(b store.Registration, t call.Target) (legTarget, bool) {
	var u sipmsg.Uri
	if err := sipmsg.ParseUri(b.Contact, &u); err != nil {
		return legTarget{}, false
	}
	if b.Transport != "" && b.Transport != "udp" {
		if _, ok := u.UriParams.Get("transport"); !ok {
			if u.UriParams == nil {
				u.UriParams = sipmsg.NewParams()
			}
			u.UriParams.Add("transport", b.Transport)
		}
	}
	if t.StaticInvite != "" {
		u.User = t.StaticInvite
	}
	lt := legTarget{uri: u, dest: natDest(u, b.Source), delay: t.Delay, timeout: t.Timeout, headers: t.Headers,
		failOnReject: t.FailOnReject}
	if t.SuppressCLID {
		lt.callerID, lt.callerName = "anonymous", "Anonymous"
	}
	return lt, true
}

// isCaller reports whether d is the calling phone, or a phone of the
// calling phone's owner (Kazoo's endpoint_called_self, owner_called_self).
func (l *inLeg) isCaller(d Device) bool {
	return l.info.DeviceID != "" && d.ID == l.info.DeviceID || l.info.OwnerID != "" && d.OwnerID == l.info.OwnerID
}

// forwardLegs are the legs that ring device d's forward number: the
// phones of the user or device an internal number names (their own
// forwarding not followed, so forwards never loop), else the number
// through the account's carriers, else its trunk gateway. fallback marks
// them to ring only after the others did not answer. require_keypress
// applies to numbers dialled out (where a voicemail may answer), not to
// internal phones.
func (l *inLeg) forwardLegs(ctx context.Context, d Device, f Forward, t call.Target, fallback bool) []legTarget {
	var legs []legTarget
	internal := false
	if ext := l.s.reg.cfg.Extensions; ext != nil {
		if et, ok := ext.Extension(ctx, l.info.AccountID, f.Number); ok {
			et.Delay, et.Timeout, et.Headers = t.Delay, t.Timeout, t.Headers
			et.IgnoreForward, et.CanCallSelf = true, true
			legs, _, _ = l.deviceTargets(ctx, et)
			internal = true
		}
	}
	callerID, callerName := "", ""
	if !f.KeepCallerID {
		callerID, callerName = d.CallerIDNumber, d.CallerIDName // the forwarding user's, not the caller's
	}
	if !internal {
		nt := call.Target{Kind: "number", Value: f.Number, Delay: t.Delay, Timeout: t.Timeout, Headers: t.Headers}
		cid := callerID
		if cid == "" {
			cid = l.info.From
		}
		if lt, ok := l.s.carrierTarget(l.info.AccountID, nt, cid); ok {
			legs = []legTarget{lt}
		} else if u, c := l.s.resolve(l.info.AccountID, nt); c == "" {
			legs = []legTarget{{uri: u, delay: t.Delay, timeout: t.Timeout, headers: t.Headers}}
		} else {
			l.log.Info("dial: forward number not reachable", "device_id", d.ID, "number", f.Number, "cause", c)
		}
	}
	reason := "unconditional"
	switch {
	case fallback:
		reason = "no-answer"
	case f.Failover:
		reason = "unavailable" // a failover forward ringing at once: no phone is registered
	}
	diversion := l.s.diversion(d, reason)
	for i := range legs {
		legs[i].fallback = fallback
		legs[i].confirm = f.RequireKeypress && !internal // out through a carrier, a voicemail may answer
		if callerID != "" {
			legs[i].callerID, legs[i].callerName = callerID, callerName
		}
		legs[i].diversion = diversion
		legs[i].failover = slices.Clone(legs[i].failover) // the next gateways: the same terms
		for j := range legs[i].failover {
			g := &legs[i].failover[j]
			g.confirm, g.callerID, g.callerName, g.diversion = legs[i].confirm, legs[i].callerID, legs[i].callerName, diversion
		}
	}
	if len(legs) > 0 {
		l.log.Info("dial: call forwarded", "device_id", d.ID, "number", f.Number, "legs", len(legs), "failover", fallback)
	}
	return legs
}

// diversion is the Diversion header (RFC 5806) of a leg ringing device
// d's forward: the forwarding user (its internal caller ID, else the
// device's SIP username) at our host, why (unconditional; no-answer for a
// failover forward, which rings once the phones did not take the call;
// unavailable when it rings at once, no phone being registered) and
// counter=1. The forwarded party's phone shows whose call it is; a
// carrier may bill or screen by it.
func (s *Server) diversion(d Device, reason string) string {
	user := callerUser(d.CallerIDNumber)
	if user == "" {
		user = callerUser(d.Username)
	}
	if user == "" {
		return ""
	}
	v := "<sip:" + user + "@" + s.host(nil) + ">;reason=" + reason + ";counter=1"
	if name := displayName(d.CallerIDName); name != "" {
		v = `"` + name + `" ` + v
	}
	return v
}

// displayName is a name as a quoted display name may hold it: no quotes,
// backslashes or control characters.
func displayName(n string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, n))
}

// fromPhone reports whether an INVITE is to be authenticated as a
// phone's: its From names a device, and either no trunk trusts its
// address or the device registered from there (phones on a trusted LAN
// still call as themselves).
func (s *Server) fromPhone(req *sipmsg.Request, trusted bool) bool {
	if s.reg == nil {
		return false
	}
	from := req.From()
	d, ok := s.reg.cfg.Directory.Device(from.Address.Host, unescape(from.Address.User))
	if !ok {
		return false // a stranger: refused (403) as before, nothing is challenged
	}
	if !trusted {
		return true
	}
	src := signalAddr(req.Source())
	for _, b := range s.reg.contacts(d.AccountID, d.ID, time.Now()) {
		if a := signalAddr(b.Source); a.IsValid() && a == src {
			return true
		}
	}
	return false
}

// inviteDevice authenticates an INVITE from an address no trunk trusts as
// a registered device's (407 with a challenge first); false when it was
// answered.
func (s *Server) inviteDevice(req *sipmsg.Request, tx sipmsg.ServerTransaction) (Device, bool) {
	if s.reg == nil {
		return Device{}, false
	}
	from := req.From()
	return s.authenticate(req, tx, unescape(from.Address.User), from.Address.Host, true)
}

// fromDevice makes a device's call come from its owner: the caller ID
// is the owner's (or the device's), and the call knows both ids.
func (l *inLeg) fromDevice(d Device) {
	if d.CallerIDNumber != "" {
		l.info.From = d.CallerIDNumber
	}
	if d.CallerIDName != "" {
		l.info.FromName = d.CallerIDName
	}
	l.info.DeviceID, l.info.OwnerID = d.ID, d.OwnerID
	l.moh = d.MusicOnHold
	if l.info.FromRealm == "" || strings.EqualFold(l.info.FromRealm, d.Realm) {
		l.info.FromRealm = d.Realm
	}
}

// placeLater places a leg after its delay, ringing for its own timeout
// when it has one; a lost race (ctx ended first) is a cancelled attempt.
func (l *inLeg) placeLater(ctx context.Context, t legTarget, callerID string, claimed *atomic.Bool) attempt {
	if t.delay > 0 {
		timer := time.NewTimer(t.delay)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return failure(ctx, context.Cause(ctx))
		}
	}
	if t.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, t.timeout, errRingTimeout)
		defer cancel()
	}
	if t.callerID != "" {
		callerID = t.callerID
	}
	a := l.placeFailover(ctx, t, callerID, claimed)
	a.rejectsAll = t.failOnReject && rejected(a.code)
	return a
}

// rejected reports whether a leg's final response is a reject by the
// phone: busy (486, 600) or declined (603).
func rejected(code int) bool {
	switch code {
	case 486, 600, 603:
		return true
	}
	return false
}

// addHeaders adds custom headers to an outbound INVITE; names that would
// change the dialog itself are left out.
func addHeaders(req *sipmsg.Request, hdrs map[string]string) {
	keys := make([]string, 0, len(hdrs))
	for k := range hdrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch strings.ToLower(k) {
		case "via", "from", "to", "call-id", "cseq", "contact", "route", "record-route", "content-length",
			"content-type", "max-forwards", "authorization", "proxy-authorization":
			continue
		}
		if k == "" || strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(hdrs[k], "\r\n") {
			continue
		}
		req.AppendHeader(sipmsg.NewHeader(k, hdrs[k]))
	}
}

// natDest is where a call to a registered contact goes: the address the
// phone registered from when its Contact names another host (a private
// address behind NAT, a name), as nathelper's fix_nated_contact; the
// Contact itself when it names the source's IP (a phone on the LAN, or
// one registering for another port of its host).
func natDest(contact sipmsg.Uri, source string) string {
	ip, err := netip.ParseAddr(strings.Trim(contact.Host, "[]"))
	if err == nil && ip.Unmap() == signalAddr(source) {
		return ""
	}
	return source
}

// splitFallback sets apart the legs that ring only when the others did
// not answer (a failover forward); when there are no others, they ring at
// once.
func splitFallback(legs []legTarget) (first, fallback []legTarget) {
	for _, lt := range legs {
		if lt.fallback {
			fallback = append(fallback, lt)
		} else {
			first = append(first, lt)
		}
	}
	if len(first) == 0 {
		return fallback, nil
	}
	return first, fallback
}

// forwardConfirmText asks the party a call was forwarded to whether they
// take it (Kazoo's require_keypress), so that a voicemail answering the
// forward number does not take the call.
const forwardConfirmText = "You have a forwarded call. Press 1 to take it."

// confirmForward plays forwardConfirmText to an answered forwarded leg
// and waits for 1, twice at most; false when another key, silence, the
// callee hanging up or ctx ending came first.
func (b *outLeg) confirmForward(ctx context.Context) bool {
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(b.ctx, cancel)
	defer stop()
	if err := b.sess.Start(); err != nil {
		b.log.Info("dial: forward not confirmed: media did not start", "err", err)
		return false
	}
	for range 2 {
		key, err := b.sess.Gather(gctx, call.GatherOptions{NumDigits: 1, Timeout: 5 * time.Second,
			Prompts: []call.Prompt{{Say: &call.SayOptions{Text: forwardConfirmText, Voice: "female", Language: "en-US",
				Loop: 1, Terminators: "0123456789*#"}}}})
		if err != nil {
			return false
		}
		if key == "1" {
			b.log.Info("dial: forwarded call taken")
			return true
		}
	}
	b.log.Info("dial: forwarded call not taken")
	return false
}
