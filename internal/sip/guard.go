package sip

import (
	"bytes"
	"net"
	"strings"

	sipmsg "github.com/emiago/sipgo/sip"
)

// guard sees every UDP datagram before sipgo parses it. sipgo drops a
// message it cannot parse without a word; RFC 4475 asks for a 400 to a
// malformed request where one can still be addressed, so guard parses
// first and answers those statelessly, then drops them. TCP is a stream
// (a read may hold half a message): sipgo closes a connection that does
// not frame, which is what RFC 3261 §18.3 allows.
//
// Unless Config.StrictVia, a request's top Via gets an rport parameter
// (RFC 3581) when it has none, so that responses go back to the port the
// request came from, as Asterisk's force_rport: a phone behind NAT, or
// one that sends from another port than its Via says, still hears us.
func (s *Server) guard(props sipmsg.TransportReadProps, data []byte) ([]byte, error) {
	if props.Transport == "TCP" {
		return s.guardStream(props.RemoteAddr.String(), data)
	}
	if props.Transport != "UDP" || len(data) <= 4 {
		return data, nil
	}
	msg, err := s.parser.ParseSIP(data)
	if err == nil {
		if req, ok := msg.(*sipmsg.Request); ok && s.refuseStranger(req, props.RemoteAddr) {
			return nil, nil
		}
		if req, ok := msg.(*sipmsg.Request); ok && !s.cfg.StrictVia {
			if v := req.Via(); v != nil && !v.Params.Has("rport") && wellFormed(v) {
				if out := addRport(data); out != nil {
					return out, nil
				}
			}
		}
		return data, nil
	}
	s.strangerLog("sip message unparsable", "source", props.RemoteAddr.String(), "transport", "udp", "err", err)
	if res := badRequest(data); res != nil && s.udp != nil {
		if _, err := s.udp.WriteTo(res, props.RemoteAddr); err != nil {
			s.log.Debug("stateless 400 not sent", "raddr", props.RemoteAddr.String(), "err", err)
		}
	}
	return nil, nil
}

// badRequest builds a 400 for a request that does not parse, copying the
// headers a response needs line by line; nil when data is not a request
// or lacks them.
func badRequest(data []byte) []byte {
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	if len(lines) < 2 || strings.HasPrefix(lines[0], "SIP/") || !strings.Contains(lines[0], "SIP/2.0") {
		return nil
	}
	want := map[string]string{
		"via": "Via", "v": "Via", "from": "From", "f": "From", "to": "To", "t": "To",
		"call-id": "Call-ID", "i": "Call-ID", "cseq": "CSeq",
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 400 Bad Request\r\n")
	seen := map[string]bool{}
	for _, line := range lines[1:] {
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(name, " \t") && strings.TrimSpace(name) == "" {
			continue
		}
		canon, ok := want[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			continue
		}
		seen[canon] = true
		b.WriteString(canon + ": " + strings.TrimSpace(value) + "\r\n")
	}
	for _, h := range []string{"Via", "From", "To", "Call-ID", "CSeq"} {
		if !seen[h] {
			return nil
		}
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// sourceIP is the address a request came from.
func sourceIP(req *sipmsg.Request) (ip string) {
	host, _, err := net.SplitHostPort(req.Source())
	if err != nil {
		return req.Source()
	}
	return host
}

// addRport appends ";rport" to the first value of the top Via header of a
// raw request (a header may be folded over several lines), or returns nil
// when it finds none.
func addRport(data []byte) []byte {
	end := bytes.Index(data, []byte("\r\n\r\n"))
	if end < 0 {
		return nil
	}
	crlf := []byte("\r\n")
	for i := 0; i < end; {
		j := bytes.Index(data[i:end+2], crlf)
		if j < 0 {
			return nil
		}
		e := i + j // the CRLF ending the logical line, past folded ones
		for e+2 < end+2 && (data[e+2] == ' ' || data[e+2] == '\t') {
			k := bytes.Index(data[e+2:end+2], crlf)
			if k < 0 {
				return nil
			}
			e += 2 + k
		}
		colon := bytes.IndexByte(data[i:e], ':')
		if colon < 0 {
			i = e + 2
			continue
		}
		if n := strings.ToLower(string(bytes.TrimSpace(data[i : i+colon]))); n != "via" && n != "v" {
			i = e + 2
			continue
		}
		at := e
		if k := bytes.IndexByte(data[i+colon:e], ','); k >= 0 {
			at = i + colon + k
		}
		for at > i+colon+1 && strings.IndexByte(" \t\r\n", data[at-1]) >= 0 {
			at--
		}
		add := ";rport"
		if data[at-1] == ';' {
			add = "rport"
		}
		out := make([]byte, 0, len(data)+len(add))
		out = append(out, data[:at]...)
		out = append(out, add...)
		return append(out, data[at:]...)
	}
	return nil
}

// wellFormed reports whether a parsed Via is plain enough for addRport to
// find it in the raw message.
func wellFormed(v *sipmsg.ViaHeader) bool {
	return v.ProtocolName == "SIP" && v.ProtocolVersion != "" && v.Transport != "" && v.Host != ""
}
