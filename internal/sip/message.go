package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// Methods the server handles, for Allow headers.
const allowed = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, REFER, NOTIFY"

// respond answers req on tx with a bodiless response.
func (s *Server) respond(tx sipmsg.ServerTransaction, req *sipmsg.Request, code int, reason string, hdrs ...sipmsg.Header) {
	res := newResponse(req, nil, code, reason)
	res.SipVersion = "SIP/2.0" // even to a request of another version (505)
	res.AppendHeader(s.serverHeader)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip response not sent", "code", code, "call_id", callID(req), "err", err)
	}
}

func callID(m interface{ CallID() *sipmsg.CallIDHeader }) string {
	if h := m.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// host is the address we give in Contact and Via for traffic answering
// req (nil for requests we begin).
func (s *Server) host(req *sipmsg.Request) string {
	if s.cfg.Host != "" {
		return s.cfg.Host
	}
	if s.bindIP.IsValid() && !s.bindIP.IsUnspecified() {
		return s.bindIP.String()
	}
	if req != nil {
		if ip, err := netip.ParseAddr(req.Recipient.Host); err == nil && !ip.IsUnspecified() {
			return ip.Unmap().String()
		}
	}
	return s.outboundIP()
}

// outboundIP is the address of the interface with the default route (no
// packet is sent), or 127.0.0.1.
func (s *Server) outboundIP() string {
	s.outOnce.Do(func() {
		s.outIP = "127.0.0.1"
		c, err := net.Dial("udp", "192.0.2.1:9")
		if err != nil {
			return
		}
		defer c.Close()
		if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
			s.outIP = a.IP.String()
		}
	})
	return s.outIP
}

// listenPort is our port for a transport.
func (s *Server) listenPort(transport string) int {
	if strings.EqualFold(transport, "tls") {
		return s.tlsPort
	}
	return s.port
}

// contact is our Contact for a dialog over transport.
func (s *Server) contact(req *sipmsg.Request, transport string) *sipmsg.ContactHeader {
	u := sipmsg.Uri{Scheme: "sip", Host: s.host(req), Port: s.listenPort(transport)}
	if t := strings.ToLower(transport); t != "" && t != "udp" {
		u.UriParams = sipmsg.NewParams()
		u.UriParams.Add("transport", t)
	}
	return &sipmsg.ContactHeader{Address: u}
}

// prepare finishes a request we send: our Via (with rport), and for UDP
// our listening socket as the source, so that answers come back to it
// and no socket is made per request.
func (s *Server) prepare(req *sipmsg.Request, transport string) {
	req.SetTransport(transport)
	via := &sipmsg.ViaHeader{
		ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: strings.ToUpper(transport),
		Host: s.host(nil), Port: s.listenPort(transport), Params: sipmsg.NewParams(),
	}
	via.Params.Add("branch", sipmsg.GenerateBranch())
	via.Params.Add("rport", "")
	req.RemoveHeader("Via")
	req.PrependHeader(via)
	if req.MaxForwards() == nil {
		mf := sipmsg.MaxForwardsHeader(70)
		req.AppendHeader(&mf)
	}
	req.AppendHeader(sipmsg.NewHeader("User-Agent", s.cfg.UserAgent))
	if req.ContentLength() == nil {
		req.SetBody(req.Body())
	}
	if strings.EqualFold(transport, "udp") && s.udp != nil {
		if a, ok := s.udp.LocalAddr().(*net.UDPAddr); ok {
			req.Laddr = sipmsg.Addr{IP: a.IP, Port: a.Port}
		}
	}
}

// keep is the request option that leaves a prepared request as it is.
func keep(*sipgo.Client, *sipmsg.Request) error { return nil }

// do sends a prepared request and waits for its final response.
func (s *Server) do(ctx context.Context, req *sipmsg.Request) (*sipmsg.Response, error) {
	tx, err := s.client.TransactionRequest(ctx, req, keep)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, err
			}
			return nil, errors.New("transaction ended without a response")
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// hasTag reports whether the To header carries a tag (an in-dialog request).
func hasTag(req *sipmsg.Request) bool {
	to := req.To()
	return to != nil && to.Params.Has("tag")
}

// headerValues splits every comma-separated value of the named headers,
// lower-cased and trimmed, names in the order given (matched ignoring ASCII
// case, as sipgo's GetHeaders does). It walks the headers in place: no
// slice per name, no split slice, no lowered copy of a value already in
// lower case; it runs several times on every INVITE.
func headerValues(m interface {
	Headers() []sipmsg.Header
}, names ...string) []string {
	var out []string
	for _, n := range names {
		for _, h := range m.Headers() {
			if !asciiEqualFold(h.Name(), n) {
				continue
			}
			for v := range strings.SplitSeq(h.Value(), ",") {
				if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

func contentType(m interface {
	ContentType() *sipmsg.ContentTypeHeader
}) string {
	h := m.ContentType()
	if h == nil {
		return ""
	}
	v, _, _ := strings.Cut(h.Value(), ";")
	return strings.ToLower(strings.TrimSpace(v))
}

// sipCode turns "sip:486" into 486.
func sipCode(s string) (int, bool) {
	v, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(s)), "sip:")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 100 || n > 699 {
		return 0, false
	}
	return n, true
}

// reasons are the phrases of the codes Switchboard sends.
var reasons = map[int]string{
	400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
	405: "Method Not Allowed", 406: "Not Acceptable", 408: "Request Timeout", 410: "Gone",
	413: "Request Entity Too Large", 414: "Request-URI Too Long", 415: "Unsupported Media Type",
	416: "Unsupported URI Scheme", 420: "Bad Extension", 422: "Session Interval Too Small",
	480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist", 482: "Loop Detected",
	483: "Too Many Hops", 484: "Address Incomplete", 486: "Busy Here", 487: "Request Terminated",
	488: "Not Acceptable Here", 491: "Request Pending", 500: "Server Internal Error", 501: "Not Implemented",
	502: "Bad Gateway", 503: "Service Unavailable", 504: "Server Time-out", 505: "Version Not Supported",
	600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere", 606: "Not Acceptable",
}

func reason(code int) string {
	if r, ok := reasons[code]; ok {
		return r
	}
	return fmt.Sprintf("Status %d", code)
}

// rejectCode is the final response for Channel.Reject's reason.
func rejectCode(reason string) int {
	switch strings.ToLower(strings.TrimSpace(reason)) {
	case "busy":
		return 486
	case "rejected", "reject", "decline":
		return 603
	}
	if n, ok := sipCode(reason); ok && n >= 300 {
		return n
	}
	return 603
}

// hangupCode is the final response when a call is hung up before it was
// answered, from a Q.850-style cause or a SIP code.
func hangupCode(cause string) int {
	if n, ok := sipCode(cause); ok && n >= 300 {
		return n
	}
	switch strings.ToUpper(strings.TrimSpace(cause)) {
	case "USER_BUSY":
		return 486
	case "CALL_REJECTED":
		return 603
	case "UNALLOCATED_NUMBER", "NO_ROUTE_DESTINATION":
		return 404
	case "NORMAL_TEMPORARY_FAILURE", "SWITCH_CONGESTION":
		return 503
	case "INVALID_NUMBER_FORMAT":
		return 484
	}
	return 480 // NORMAL_CLEARING, NO_ANSWER …: the call was not taken
}
