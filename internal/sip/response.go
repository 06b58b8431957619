package sip

import (
	"net"

	"github.com/google/uuid"

	sipmsg "github.com/emiago/sipgo/sip"
)

// newResponse is sipgo's NewResponseFromRequest(req, code, reason, nil),
// the same message header for header, built without its CopyHeaders:
// that takes a slice of the Via and Record-Route headers through
// GetHeaders, which lower-cases every other header's name into a new
// string to compare it (a sipp INVITE's Max-Forwards, Subject, Content-Type
// … twice). Every call answers its INVITE, its BYE or the far end's with
// one of these, so that was a few percent of the CPU at 2,000 calls/s.
//
// req is a request we received (or our copy of one, withToTag): its
// response goes to where it came from. sipgo would use the address it
// resolved for a request it sent itself, which is never answered here.
// TestNewResponseMatchesSipgo holds the two to the same bytes.
//
// to, when not nil, stands for the request's To header: an INVITE's with
// our tag, so that no copy of the INVITE is made to carry it.
func newResponse(req *sipmsg.Request, to *sipmsg.ToHeader, code int, reason string) *sipmsg.Response {
	res := sipmsg.NewResponse(code, reason)
	res.SipVersion = req.SipVersion
	// RFC 3261 §20, table 3, and §12.1.1 for early-dialog responses.
	allowedMethod := req.Method != sipmsg.REGISTER && !req.IsAck()
	allowedStatus := (code >= 180 && code < 190) || (code >= 200 && code < 300)
	earlyInvite := req.IsInvite() && code > 100 && code < 200
	hdrs := req.Headers()
	if allowedMethod && (allowedStatus || earlyInvite) {
		for _, h := range hdrs {
			if asciiEqualFold(h.Name(), "Record-Route") {
				res.AppendHeader(sipmsg.HeaderClone(h))
			}
		}
	}
	for _, h := range hdrs {
		if asciiEqualFold(h.Name(), "Via") {
			res.AppendHeader(sipmsg.HeaderClone(h))
		}
	}
	if h := req.From(); h != nil {
		res.AppendHeader(sipmsg.HeaderClone(h))
	}
	if to == nil {
		to = req.To()
	}
	if to != nil {
		res.AppendHeader(sipmsg.HeaderClone(to))
	}
	if h := req.CallID(); h != nil {
		res.AppendHeader(sipmsg.HeaderClone(h))
	}
	if h := req.CSeq(); h != nil {
		res.AppendHeader(sipmsg.HeaderClone(h))
	}
	if h := res.Via(); h != nil {
		// RFC 3581 §4: an empty rport is filled in with where the request
		// came from.
		if val, ok := h.Params.Get("rport"); ok && val == "" {
			host, port, _ := net.SplitHostPort(req.Source())
			h.Params.Add("rport", port)
			h.Params.Add("received", host)
		}
	}
	if code == 100 {
		for _, h := range hdrs {
			if asciiEqualFold(h.Name(), "Timestamp") {
				res.AppendHeader(sipmsg.HeaderClone(h))
			}
		}
	} else if h := res.To(); h != nil && !h.Params.Has("tag") {
		// RFC 3261 §8.2.6.2: the UAS tags its responses (sipgo's form).
		h.Params.Add("tag", uuid.NewString())
	}
	res.SetBody(nil)
	res.SetTransport(req.Transport())
	res.SetDestination(req.Source())
	return res
}
