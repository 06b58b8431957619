package sdp

import "strings"

// parseFast reads body into raw when it is written the usual way, and
// reports false, having decided nothing, for anything else (Parse then asks
// pion/sdp). "The usual way" is a strict part of what pion accepts:
//
//   - every line ends in LF or CRLF, the last one too; no empty line, no
//     other CR;
//   - v=0, o=, s=, then optionally i= and c=, any b=, one or more t=, any a=;
//   - then m= lines, each followed by any a=, c= and b=;
//   - fields one space apart, numbers in plain decimal digits that fit;
//   - o= and c= name IN and IP4 or IP6, b= a registered type, m= one of
//     pion's media types and transport protocols.
//
// It allocates the one string of the body, the media and attribute slices:
// no string per field. A call's offer goes through here at every INVITE.
func parseFast(body string, raw *rawDescription) bool {
	const (
		wantV = iota
		wantO
		wantS
		afterS // i, c, b, t
		afterI // c, b, t
		afterC // b, t
		afterT // t, a, m
		afterA // a, m
		inMedia
	)
	state := wantV
	rest := body
	var m *rawMedia
	// One backing array for every attribute (no more than the lines), the
	// session's and each m-line's a slice of it: no growth on append.
	attrs := make([]rawAttr, 0, strings.Count(body, "\n"))
	raw.media = make([]rawMedia, 0, strings.Count(body, "\nm="))
	mediaAttrs := 0 // where the current m-line's attributes start
	for rest != "" {
		nl := strings.IndexByte(rest, '\n')
		if nl < 0 {
			return false // a last line without its end
		}
		line := rest[:nl]
		rest = rest[nl+1:]
		line = strings.TrimSuffix(line, "\r")
		if len(line) < 2 || line[1] != '=' || strings.IndexByte(line, '\r') >= 0 {
			return false
		}
		key, value := line[0], line[2:]
		switch {
		case key == 'v' && state == wantV:
			if value != "0" {
				return false
			}
			state = wantO
		case key == 'o' && state == wantO:
			if !fastOrigin(value, raw) {
				return false
			}
			state = wantS
		case key == 's' && state == wantS:
			state = afterS
		case key == 'i' && state == afterS:
			state = afterI
		case key == 'c' && (state == afterS || state == afterI):
			if raw.conn, raw.hasConn = fastConn(value); !raw.hasConn {
				return false
			}
			state = afterC
		case key == 'b' && state >= afterS && state <= afterC:
			if !fastBandwidth(value) {
				return false
			}
			state = afterC
		case key == 't' && state >= afterS && state <= afterT:
			start, stop, ok := strings.Cut(value, " ")
			if !ok || !decimal(start, 19) || !decimal(stop, 19) {
				return false
			}
			state = afterT
		case key == 'a' && (state == afterT || state == afterA):
			attrs = append(attrs, splitAttr(value))
			raw.attrs = attrs[:len(attrs):len(attrs)]
			state = afterA
		case key == 'm' && state >= afterT:
			raw.media = append(raw.media, rawMedia{})
			m = &raw.media[len(raw.media)-1]
			mediaAttrs = len(attrs)
			if !fastMedia(value, m) {
				return false
			}
			state = inMedia
		case key == 'a' && state == inMedia:
			attrs = append(attrs, splitAttr(value))
			m.attrs = attrs[mediaAttrs:len(attrs):len(attrs)]
		case key == 'c' && state == inMedia:
			if m.conn, m.hasConn = fastConn(value); !m.hasConn {
				return false
			}
		case key == 'b' && state == inMedia:
			if !fastBandwidth(value) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// fastOrigin reads "username sess-id sess-version IN IP4|IP6 address".
func fastOrigin(v string, raw *rawDescription) bool {
	var f [6]string
	if !fields(v, f[:]) {
		return false
	}
	if !decimal(f[1], 19) || !decimal(f[2], 19) || f[3] != "IN" || (f[4] != "IP4" && f[4] != "IP6") {
		return false
	}
	raw.sessionID, raw.version = atou(f[1]), atou(f[2])
	return true
}

// fastConn reads "IN IP4|IP6 address" and returns the address.
func fastConn(v string) (string, bool) {
	var f [3]string
	if !fields(v, f[:]) || f[0] != "IN" || (f[1] != "IP4" && f[1] != "IP6") {
		return "", false
	}
	return f[2], true
}

// fastBandwidth checks "type:kbps" with a registered type.
func fastBandwidth(v string) bool {
	typ, bw, ok := strings.Cut(v, ":")
	if !ok || !decimal(bw, 19) {
		return false
	}
	switch typ {
	case "CT", "AS", "TIAS", "RS", "RR":
		return true
	}
	return false
}

// fastMedia reads "media port proto fmt…".
func fastMedia(v string, m *rawMedia) bool {
	typ, v, ok1 := strings.Cut(v, " ")
	port, v, ok2 := strings.Cut(v, " ")
	proto, formats, _ := strings.Cut(v, " ")
	if !ok1 || !ok2 {
		return false
	}
	switch typ {
	case "audio", "video", "text", "application", "message":
	default:
		return false
	}
	if !decimal(port, 5) || atou(port) > 65535 {
		return false
	}
	m.typ, m.port = typ, int(atou(port))
	// One array for the protocol names and the formats.
	n := strings.Count(proto, "/") + 1
	all := make([]string, 0, n+strings.Count(formats, " ")+1)
	for p := range strings.SplitSeq(proto, "/") {
		switch p {
		case "UDP", "RTP", "AVP", "SAVP", "SAVPF", "TLS", "DTLS", "SCTP", "AVPF", "TCP", "MSRP", "BFCP", "UDT", "IX", "MRCPv2", "FEC":
		default:
			return false
		}
		all = append(all, p)
	}
	m.protos = all[:n:n]
	if formats == "" {
		return true
	}
	for f := range strings.SplitSeq(formats, " ") {
		if f == "" || strings.IndexByte(f, '\t') >= 0 {
			return false
		}
		all = append(all, f)
	}
	m.formats = all[n:len(all):len(all)]
	return true
}

// fields splits v into exactly len(out) non-empty fields one space apart,
// with no tab in any.
func fields(v string, out []string) bool {
	for i := range out {
		if i == len(out)-1 {
			out[i] = v
		} else {
			var ok bool
			out[i], v, ok = strings.Cut(v, " ")
			if !ok {
				return false
			}
		}
		if out[i] == "" || strings.IndexByte(out[i], '\t') >= 0 || strings.IndexByte(out[i], ' ') >= 0 {
			return false
		}
	}
	return true
}

// decimal reports whether s is 1 to max decimal digits.
func decimal(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atou is the value of digits that decimal accepted (at most 19: no
// overflow).
func atou(s string) uint64 {
	var n uint64
	for i := 0; i < len(s); i++ {
		n = n*10 + uint64(s[i]-'0')
	}
	return n
}

// splitAttr splits "key:value" at the first colon, as pion does: a line
// with no colon, or one at the start, is all key.
func splitAttr(v string) rawAttr {
	if i := strings.IndexByte(v, ':'); i > 0 {
		return rawAttr{v[:i], v[i+1:]}
	}
	return rawAttr{key: v}
}
