package sip

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
)

// causeRefused is the hangup cause of a dial target the egress policy
// refused (Q.850 21, "call rejected").
const causeRefused = "CALL_REJECTED"

// destination says where an outbound leg to u may be sent, as "ip:port"
// for the INVITE, or "" to route u as it is. Calls to phone numbers go to
// the account's own outbound gateway, and so does a sip: URI naming that
// gateway's host; any other sip: URI is resolved once and must be an
// address the account's egress policy allows: the leg is then sent to
// that address, so the name cannot resolve elsewhere in between (toll
// fraud through a webhook answer naming any host).
func (s *Server) destination(ctx context.Context, account string, t call.Target, u sipmsg.Uri) (string, error) {
	if s.cfg.Egress == nil || t.Kind != "sip" {
		return "", nil
	}
	if gw, ok := s.trunks.Outbound(account); ok {
		var g sipmsg.Uri
		if err := sipmsg.ParseUri(gw, &g); err == nil && strings.EqualFold(g.Host, u.Host) && g.Port == u.Port {
			return "", nil
		}
	}
	host := strings.Trim(u.Host, "[]")
	ip, err := s.cfg.Egress.Resolve(ctx, account, host)
	if err != nil {
		return "", fmt.Errorf("dial %s: %w", u.Host, err)
	}
	port := u.Port
	if port == 0 {
		port = 5060
		if strings.EqualFold(u.Scheme, "sips") {
			port = 5061
		} else if tr, ok := u.UriParams.Get("transport"); ok && strings.EqualFold(tr, "tls") {
			port = 5061
		}
	}
	return netip.AddrPortFrom(ip, uint16(port)).String(), nil
}

// refusedDial is the result of a dial whose every target was refused: the
// dial failed, and the error names the policy (the trace's dial line
// carries it).
func refusedDial(err error) (call.DialResult, error) {
	return call.DialResult{Status: "failed", Cause: causeRefused}, err
}

// legTarget is one outbound leg to place: its Request-URI, and the
// address to send it to ("" routes the URI as it is).
type legTarget struct {
	uri  sipmsg.Uri
	dest string
	// delay and timeout are the leg's own (a ring group member's); zero
	// rings at once for as long as the Dial.
	delay, timeout time.Duration
	headers        map[string]string // custom headers for its INVITE
	// username and password answer a carrier's digest challenge.
	username, password string
	failover           []legTarget // gateways tried in turn when this one fails
	// forwarding: fallback legs ring only when the others did not answer
	// (call_forward's failover); callerID, when set, replaces the Dial's
	// caller ID and callerName the caller's name (a forward that does not
	// keep the caller's, suppress_clid); confirm asks
	// the callee to press 1 before the call is theirs (require_keypress).
	fallback   bool
	callerID   string
	callerName string // with callerID: the From's display name
	diversion  string // the Diversion header of a forwarded leg (RFC 5806)
	moh        string // the phone's music on hold (Device.MusicOnHold)
	confirm    bool
	// failOnReject: a reject (486, 600, 603) from this leg ends the Dial.
	failOnReject bool
	// sendDigits and screen are the Dial target's (dial_leg.go).
	sendDigits string
	screen     func(ctx context.Context, leg call.Channel) (bool, error)
}
