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
)

// deviceTargets are the legs that ring the registered phones a Dial
// target names (kinds device, user, client and group): one per live contact of
// each device, sent to the address the phone registered from (behind NAT
// its Contact may name an address we cannot reach). handled is false for
// other kinds; with no contact the cause is USER_NOT_REGISTERED.
func (s *Server) deviceTargets(accountID string, t call.Target) (legs []legTarget, cause string, handled bool) {
	switch t.Kind {
	case "device", "user", "client", "group":
	default:
		return nil, "", false
	}
	if s.reg == nil {
		return nil, "USER_NOT_REGISTERED", true
	}
	now := time.Now()
	for _, d := range s.reg.cfg.Directory.Devices(accountID, t) {
		if d.Disabled || d.DoNotDisturb {
			continue
		}
		for _, b := range s.reg.contacts(d.AccountID, d.ID, now) {
			var u sipmsg.Uri
			if err := sipmsg.ParseUri(b.Contact, &u); err != nil {
				continue
			}
			if b.Transport != "" && b.Transport != "udp" {
				if _, ok := u.UriParams.Get("transport"); !ok {
					if u.UriParams == nil {
						u.UriParams = sipmsg.NewParams()
					}
					u.UriParams.Add("transport", b.Transport)
				}
			}
			legs = append(legs, legTarget{uri: u, dest: natDest(u, b.Source), delay: t.Delay, timeout: t.Timeout, headers: t.Headers})
		}
	}
	if len(legs) == 0 {
		return nil, "USER_NOT_REGISTERED", true
	}
	return legs, "", true
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
	return l.placeFailover(ctx, t, callerID, claimed)
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
