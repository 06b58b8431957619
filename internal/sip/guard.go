package sip

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
	"sync"

	sipmsg "github.com/emiago/sipgo/sip"
)

// guard sees every UDP datagram before sipgo parses it, and parses
// nothing itself on the path of a trunk's traffic: sipgo's parse is the
// only one (a second full parse here cost about 7 % of the CPU of a call).
// What it does on the raw bytes:
//
//   - An INVITE from a source that is no trunk (a phone's, or a
//     stranger's) is parsed here, so that a stranger's is refused with a
//     stateless 403 before any transaction exists (refuseStranger).
//   - A new call's INVITE is admitted or shed with a stateless 503 as it
//     is read, and the ACK of such a 503 dropped (shed.go).
//   - Unless Config.StrictVia, a request's top Via gets an rport
//     parameter (RFC 3581) when it has none, so that responses go back to
//     the port the request came from, as Asterisk's force_rport: a phone
//     behind NAT, or one that sends from another port than its Via says,
//     still hears us. It is inserted in place, in the spare room of
//     sipgo's read buffer.
//   - It notes the datagram's source and length, so that when sipgo's
//     parse fails (it drops the message and logs it with the data: log.go
//     routes that line to parseFailed, which parses it again to be sure)
//     the request is still answered 400 as RFC 4475 asks, where one can
//     be addressed.
//
// TCP is a stream (a read may hold half a message): guardStream frames
// and judges it.
func (s *Server) guard(props sipmsg.TransportReadProps, data []byte) ([]byte, error) {
	if props.Transport == "TCP" {
		return s.guardStream(props.RemoteAddr.String(), data)
	}
	if props.Transport != "UDP" || len(data) <= 4 {
		return data, nil
	}
	// The listener's sourceAddr, as the *net.UDPAddr the rest takes (the
	// socket's WriteTo, the trunk check).
	props.RemoteAddr = udpAddr(props.RemoteAddr)
	if isInvite(data) && !rawToTag(data) { // a new call
		account, trunk := s.trustedSource(props.RemoteAddr)
		if !trunk {
			// A phone's or a stranger's: the rare path may parse twice.
			if msg, err := s.parser.ParseSIP(data); err == nil {
				if req, ok := msg.(*sipmsg.Request); ok && s.refuseStranger(req, props.RemoteAddr) {
					return nil, nil
				}
			}
		}
		if s.adm.on() && !s.admitDatagram(data, props.RemoteAddr, account) {
			return nil, nil
		}
	} else if s.adm.on() && s.shedAck(data) {
		return nil, nil
	}
	if !s.cfg.StrictVia && !bytes.HasPrefix(data, []byte("SIP/")) {
		if out := addRportInPlace(data); out != nil {
			data = out
		}
	}
	s.lastRead.note(props.RemoteAddr, data)
	return data, nil
}

// isInvite reports whether a datagram's start line is an INVITE's.
func isInvite(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(data, "\r\n"), []byte("INVITE "))
}

// trustedSource is the account of the trunk a datagram came from.
func (s *Server) trustedSource(raddr net.Addr) (account string, ok bool) {
	var ap netip.AddrPort
	if u, isUDP := raddr.(*net.UDPAddr); isUDP {
		ap = u.AddrPort()
	} else if p, err := netip.ParseAddrPort(raddr.String()); err == nil {
		ap = p
	} else {
		return "", false
	}
	return s.trunks.Inbound(ap.Addr().Unmap())
}

// lastRead is the UDP datagram sipgo is about to parse: its source, its
// length and its first bytes. sipgo logs a message it cannot parse
// without its source; this finds it. Each UDP socket has one reader, so
// the datagram noted last is the one parsed next on that socket; with
// several sockets a mismatch (another length or head) sends no 400.
type lastRead struct {
	mu    sync.Mutex
	raddr net.Addr
	n     int
	head  [48]byte
}

func (r *lastRead) note(raddr net.Addr, data []byte) {
	r.mu.Lock()
	r.raddr, r.n = raddr, len(data)
	copy(r.head[:], data)
	r.mu.Unlock()
}

// source is where the datagram data came from, or nil when it is not
// the one noted last.
func (r *lastRead) source(data string) net.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := min(len(data), len(r.head))
	if r.raddr == nil || len(data) != r.n || data[:k] != string(r.head[:k]) {
		return nil
	}
	return r.raddr
}

// parseFailed answers a message sipgo dropped with an error line, when
// our own parse of it fails too (else it reports false: the line is not a
// parse failure): a 400 when it is the UDP datagram noted last and a
// request that can be addressed (RFC 4475), and a line within the log
// limit.
func (s *Server) parseFailed(data string) bool {
	_, err := s.parser.ParseSIP([]byte(data))
	if err == nil {
		return false
	}
	raddr := s.lastRead.source(data)
	if raddr == nil { // not the datagram noted last (TCP's parse, or another socket's)
		s.strangerLog("sip message unparsable", "err", err)
		return true
	}
	s.strangerLog("sip message unparsable", "source", raddr.String(), "transport", "udp", "err", err)
	if res := badRequest([]byte(data)); res != nil && s.udp != nil {
		if _, err := s.udp.WriteTo(res, raddr); err != nil {
			s.log.Debug("stateless 400 not sent", "raddr", raddr.String(), "err", err)
		}
	}
	return true
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
// raw request (a header may be folded over several lines) that has none,
// into a new slice; nil when it finds no plain top Via without rport.
func addRport(data []byte) []byte {
	at, add := rportAt(data)
	if at < 0 {
		return nil
	}
	out := make([]byte, 0, len(data)+len(add))
	out = append(out, data[:at]...)
	out = append(out, add...)
	return append(out, data[at:]...)
}

// addRportInPlace is addRport in the spare capacity of data when it has
// room (sipgo's read buffer has), so that a datagram is not copied.
func addRportInPlace(data []byte) []byte {
	at, add := rportAt(data)
	if at < 0 {
		return nil
	}
	n := len(data)
	if cap(data)-n < len(add) {
		return addRport(data)
	}
	data = data[:n+len(add)]
	copy(data[at+len(add):], data[at:n])
	copy(data[at:], add)
	return data
}

// rportAt finds where ";rport" goes in a raw request: the end of the first
// value of its top Via, when that value is plain (SIP/2.0/transport host,
// as wellFormed) and has no rport parameter yet; -1 otherwise.
func rportAt(data []byte) (int, string) {
	end := bytes.Index(data, []byte("\r\n\r\n"))
	if end < 0 {
		return -1, ""
	}
	crlf := []byte("\r\n")
	for i := 0; i < end; {
		j := bytes.Index(data[i:end+2], crlf)
		if j < 0 {
			return -1, ""
		}
		e := i + j // the CRLF ending the logical line, past folded ones
		for e+2 < end+2 && (data[e+2] == ' ' || data[e+2] == '\t') {
			k := bytes.Index(data[e+2:end+2], crlf)
			if k < 0 {
				return -1, ""
			}
			e += 2 + k
		}
		colon := bytes.IndexByte(data[i:e], ':')
		if colon < 0 {
			i = e + 2
			continue
		}
		if n := bytes.TrimSpace(data[i : i+colon]); !bytes.EqualFold(n, []byte("via")) && !bytes.EqualFold(n, []byte("v")) {
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
		if !plainVia(data[i+colon+1 : at]) {
			return -1, ""
		}
		if data[at-1] == ';' {
			return at, "rport"
		}
		return at, ";rport"
	}
	return -1, ""
}

// plainVia reports whether a raw Via value is "SIP/version/transport
// host[:port]" (folding and spaces allowed around the slashes) followed
// by parameters none of which is rport.
func plainVia(v []byte) bool {
	sent, params, _ := bytes.Cut(v, []byte(";"))
	proto := bytes.Split(sent, []byte("/"))
	if len(proto) != 3 || string(bytes.TrimSpace(proto[0])) != "SIP" || len(bytes.TrimSpace(proto[1])) == 0 {
		return false
	}
	by := bytes.Fields(proto[2]) // transport, host[:port] (a space may precede the colon)
	if len(by) < 2 || bytes.ContainsAny(by[1], "[]") && !bytes.HasPrefix(by[1], []byte("[")) {
		return false
	}
	for p := range bytes.SplitSeq(params, []byte(";")) {
		name, _, _ := bytes.Cut(p, []byte("="))
		if bytes.EqualFold(bytes.TrimSpace(name), []byte("rport")) {
			return false
		}
	}
	return true
}

// wellFormed reports whether a parsed Via is plain enough for addRport to
// find it in the raw message.
func wellFormed(v *sipmsg.ViaHeader) bool {
	return v.ProtocolName == "SIP" && v.ProtocolVersion != "" && v.Transport != "" && v.Host != ""
}
