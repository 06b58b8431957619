package sip

import (
	"slices"
	"strings"

	sipmsg "github.com/emiago/sipgo/sip"
)

// refusal is why a request is refused before any handling: the response
// code and headers to send.
type refusal struct {
	code    int
	reason  string
	headers []sipmsg.Header
}

// supported are the option tags we implement (Require/Supported).
var supported = []string{"timer"}

// supportedTags is supported as a header value.
var supportedTags = strings.Join(supported, ", ")

// check applies RFC 3261 §8.2 (and RFC 4475's cases) to a request:
// version, required and single-valued headers, CSeq method, URI scheme,
// Require, body type and Accept. nil means go on.
func (s *Server) check(req *sipmsg.Request) *refusal {
	if req.SipVersion != "SIP/2.0" {
		return &refusal{code: 505}
	}
	if req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil || req.Via() == nil {
		return &refusal{code: 400, reason: "Missing Required Header"}
	}
	if name := repeatedHeader(req); name != "" {
		return &refusal{code: 400, reason: "Multiple " + name + " Headers"}
	}
	if r := checkHeaders(req); r != nil {
		return r
	}
	if !strings.EqualFold(string(req.CSeq().MethodName), string(req.Method)) {
		return &refusal{code: 400, reason: "CSeq Method Mismatch"}
	}
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel":
	default:
		return &refusal{code: 416}
	}
	if len(req.Recipient.Headers) > 0 {
		return &refusal{code: 400, reason: "Headers In Request-URI"}
	}
	if req.IsAck() || req.IsCancel() {
		return nil
	}
	var unsupported []string
	for _, tag := range headerValues(req, "Require") {
		if !slices.Contains(supported, tag) {
			unsupported = append(unsupported, tag)
		}
	}
	if len(unsupported) > 0 {
		return &refusal{code: 420, headers: []sipmsg.Header{sipmsg.NewHeader("Unsupported", strings.Join(unsupported, ", "))}}
	}
	if req.IsInvite() || req.Method == sipmsg.UPDATE {
		if len(req.Body()) > 0 && contentType(req) != "application/sdp" {
			return &refusal{code: 415, headers: []sipmsg.Header{sipmsg.NewHeader("Accept", "application/sdp")}}
		}
		if accept := headerValues(req, "Accept"); len(accept) > 0 && !acceptsSDP(accept) {
			return &refusal{code: 406, headers: []sipmsg.Header{sipmsg.NewHeader("Accept", "application/sdp")}}
		}
	}
	return nil
}

// checkHeaders refuses the header values the parser lets through but RFC
// 3261 does not: a top Via without a branch, with a branch that is not a
// token or with an unknown transport (§8.1.1.7, §20.42), a From without a
// tag (§8.1.1.3) and a Max-Forwards above 255 (§20.22; one below 0 does
// not parse at all). A CANCEL or ACK is held to the same rules.
// singleHeaders are the headers a request carries at most once, in the
// order a refusal names them.
var singleHeaders = [...]string{"From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type"}

// repeatedHeader is the first of singleHeaders that req carries more than
// once, or "". One pass over the headers, no allocation: it runs on every
// request (GetHeaders per name made a slice and lowered names each time).
func repeatedHeader(req *sipmsg.Request) string {
	var n [len(singleHeaders)]int
	for _, h := range req.Headers() {
		name := h.Name()
		for i, want := range singleHeaders {
			if asciiEqualFold(name, want) {
				n[i]++
				break
			}
		}
	}
	for i, c := range n {
		if c > 1 {
			return singleHeaders[i]
		}
	}
	return ""
}

// asciiEqualFold compares a and b ignoring ASCII case only, as sipgo's
// header lookup does (strings.EqualFold would also fold Unicode).
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func checkHeaders(req *sipmsg.Request) *refusal {
	v := req.Via()
	branch, _ := v.Params.Get("branch")
	switch {
	case !wellFormed(v) || !knownTransport(v.Transport):
		return &refusal{code: 400, reason: "Bad Via"}
	case branch == "" || !isToken(branch):
		return &refusal{code: 400, reason: "Bad Via Branch"}
	}
	if tag, ok := req.From().Params.Get("tag"); !ok || tag == "" || !isToken(tag) {
		return &refusal{code: 400, reason: "Missing From Tag"}
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() > 255 {
		return &refusal{code: 400, reason: "Bad Max-Forwards"}
	}
	return nil
}

// knownTransport reports whether a Via names a transport SIP defines.
func knownTransport(t string) bool {
	switch strings.ToUpper(t) {
	case "UDP", "TCP", "TLS", "SCTP", "TLS-SCTP", "WS", "WSS":
		return true
	}
	return false
}

// isToken reports whether v is an RFC 3261 token (§25.1).
func isToken(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0 {
			continue
		}
		return false
	}
	return v != ""
}

func acceptsSDP(accept []string) bool {
	for _, a := range accept {
		a, _, _ = strings.Cut(a, ";")
		switch strings.TrimSpace(a) {
		case "application/sdp", "application/*", "*/*":
			return true
		}
	}
	return false
}

func (s *Server) refuse(tx sipmsg.ServerTransaction, req *sipmsg.Request, r *refusal) {
	why := r.reason
	if why == "" {
		why = reason(r.code)
	}
	s.log.Debug("sip request refused", "method", req.Method.String(), "code", r.code, "reason", why, "call_id", callID(req))
	s.respond(tx, req, r.code, why, r.headers...)
}

// onCancel sees only CANCELs that match no INVITE: the transaction layer
// answers the others (200, then 487 to the INVITE).
func (s *Server) onCancel(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if r := s.check(req); r != nil {
		s.refuse(tx, req, r)
		return
	}
	s.respond(tx, req, 481, reason(481))
}

// onOptions answers capability queries and keep-alives, in a dialog or
// not, with what we allow and accept.
func (s *Server) onOptions(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if hasTag(req) {
		s.inDialog(req, tx)
		return
	}
	if r := s.check(req); r != nil {
		s.refuse(tx, req, r)
		return
	}
	s.answerOptions(req, tx)
}

// answerOptions is the answer to OPTIONS, in a dialog or not.
func (s *Server) answerOptions(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	s.respond(tx, req, 200, "OK",
		sipmsg.NewHeader("Allow", allowed),
		sipmsg.NewHeader("Accept", "application/sdp"),
		sipmsg.NewHeader("Accept-Language", "en"),
		sipmsg.NewHeader("Supported", supportedTags),
	)
}

// known are methods we recognise but do not serve (405); anything else is
// unknown (501).
var known = []sipmsg.RequestMethod{sipmsg.REGISTER, sipmsg.SUBSCRIBE, sipmsg.NOTIFY, sipmsg.REFER,
	sipmsg.MESSAGE, sipmsg.PUBLISH, sipmsg.PRACK}

func (s *Server) onNoRoute(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if r := s.check(req); r != nil {
		s.refuse(tx, req, r)
		return
	}
	code := 501
	if slices.Contains(known, req.Method) {
		code = 405
	}
	s.respond(tx, req, code, reason(code), sipmsg.NewHeader("Allow", allowed))
}

// onStrayResponse sees responses that match no client transaction: late
// 2xx retransmissions of an outbound INVITE already ACKed, and a 2xx that
// crossed our CANCEL, which is released (stray_answer.go).
func (s *Server) onStrayResponse(r *sipmsg.Response) {
	defer s.strays.Add(1)
	if s.releaseStrayAnswer(r) {
		return
	}
	s.log.Debug("sip response matches no transaction", "status", r.StatusCode, "call_id", callID(r))
}
