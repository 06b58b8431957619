package xmlscan

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is what a Token is.
type Kind uint8

// The kinds of Token.
const (
	Text  Kind = iota + 1 // character data or CDATA: Text
	Start                 // start tag: Name, Attr
	End                   // end tag (also after a self-closing tag): Name
	Other                 // comment, processing instruction, doctype
)

// Token is one piece of a document. Its Text and Attr are only valid until
// the next call of Next: they may point into the Scanner's buffers.
type Token struct {
	Kind Kind
	Name xml.Name
	Attr []xml.Attr
	Text []byte
}

// Scanner tokenizes a whole in-memory document exactly as encoding/xml's
// Decoder.RawToken does in strict mode with no Entity map: the same
// tokens, the same documents refused (the differential fuzz test
// FuzzScannerMatchesEncodingXML checks this), but without reading byte by
// byte through an interface, and with known names interned and text
// returned without copying when it needs no decoding. That makes it
// several times faster than the Decoder on TwiML, and it allocates almost
// nothing: the TwiML parser and the Pivot client's answer check share it.
//
// Like RawToken, it does not check that end tags match start tags (the
// caller does), nor resolve namespace prefixes.
type Scanner struct {
	// Charset, when set, is called as Decoder.CharsetReader is: when an
	// XML declaration names an encoding other than UTF-8, with its label
	// and the input after the declaration, whose bytes it returns as
	// UTF-8 (or unchanged). Nil: such a declaration is an error, as with
	// a Decoder without a CharsetReader.
	Charset func(label string, rest []byte) []byte
	// Names are the names the caller expects (its vocabulary), each
	// mapped to itself: a name found there is returned without an
	// allocation. Read only; may be shared by every Scanner.
	Names map[string]string

	b         []byte
	pos       int
	err       error // sticky
	needClose bool  // the last start tag was self-closing: return its end next
	toClose   xml.Name
	buf       []byte     // decoded text when it differs from the input
	attr      []xml.Attr // reused between start tags
	bad       string     // the text's first disallowed character, see text
}

// New returns a Scanner reading b, which it does not modify.
func New(b []byte) *Scanner {
	s := &Scanner{}
	s.Reset(b)
	return s
}

// Reset makes s read b from the start, keeping its buffers (and Charset):
// a pooled Scanner allocates nothing per document.
func (s *Scanner) Reset(b []byte) {
	*s = Scanner{Charset: s.Charset, Names: s.Names, b: b, buf: s.buf[:0], attr: s.attr[:0]}
	if s.attr == nil {
		s.attr = make([]xml.Attr, 0, 8)
	}
}

// Line is the current line (from 1), for messages.
func (s *Scanner) Line() int { return 1 + bytes.Count(s.b[:min(s.pos, len(s.b))], []byte{'\n'}) }

// syntaxError records msg as the error, unless there is one already.
func (s *Scanner) syntaxError(msg string) {
	if s.err == nil {
		s.err = &xml.SyntaxError{Msg: msg, Line: s.Line()}
	}
}

// fail records msg as the error, unless there is one already, and
// returns the error.
func (s *Scanner) fail(msg string) (Token, error) {
	s.syntaxError(msg)
	return Token{}, s.err
}

// mustgetc reads a byte; at the end of input it is an "unexpected EOF".
func (s *Scanner) mustgetc() (byte, bool) {
	if s.pos >= len(s.b) {
		s.syntaxError("unexpected EOF")
		return 0, false
	}
	c := s.b[s.pos]
	s.pos++
	return c, true
}

func (s *Scanner) space() {
	for s.pos < len(s.b) {
		switch s.b[s.pos] {
		case ' ', '\r', '\n', '\t':
			s.pos++
		default:
			return
		}
	}
}

func (s *Scanner) Next() (Token, error) {
	if s.err != nil {
		return Token{}, s.err
	}
	if s.needClose {
		s.needClose = false
		return Token{Kind: End, Name: s.toClose}, nil
	}
	if s.pos >= len(s.b) {
		s.err = io.EOF
		return Token{}, io.EOF
	}
	if s.b[s.pos] != '<' {
		data, ok := s.text(-1, false)
		if !ok {
			return Token{}, s.err
		}
		return Token{Kind: Text, Text: data}, nil
	}
	s.pos++
	c, ok := s.mustgetc()
	if !ok {
		return Token{}, s.err
	}
	switch c {
	case '/':
		name, ok := s.nsname()
		if !ok {
			return s.fail("expected element name after </")
		}
		s.space()
		if c, ok = s.mustgetc(); !ok {
			return Token{}, s.err
		}
		if c != '>' {
			return s.fail("invalid characters between </" + name.Local + " and >")
		}
		return Token{Kind: End, Name: name}, nil

	case '?':
		target, ok := s.name()
		if !ok {
			return s.fail("expected target name after <?")
		}
		s.space()
		end := bytes.Index(s.b[s.pos:], []byte("?>"))
		if end < 0 {
			s.pos = len(s.b)
			return s.fail("unexpected EOF")
		}
		data := s.b[s.pos : s.pos+end]
		s.pos += end + 2
		if string(target) == "xml" {
			content := string(data)
			if ver := procInst("version=", content); ver != "" && ver != "1.0" {
				s.err = fmt.Errorf("xml: unsupported version %q; only version 1.0 is supported", ver)
				return Token{}, s.err
			}
			if enc := procInst("encoding=", content); enc != "" && !strings.EqualFold(enc, "utf-8") {
				if s.Charset == nil {
					s.err = fmt.Errorf("xml: encoding %q declared but Decoder.CharsetReader is nil", enc)
					return Token{}, s.err
				}
				// The rest of the input as the caller decodes it; the
				// input itself is never written to.
				rest := s.b[s.pos:]
				if out := s.Charset(enc, rest); len(out) != len(rest) || (len(out) > 0 && &out[0] != &rest[0]) {
					nb := make([]byte, s.pos, s.pos+len(out))
					copy(nb, s.b[:s.pos])
					s.b = append(nb, out...)
				}
			}
		}
		return Token{Kind: Other}, nil

	case '!':
		if c, ok = s.mustgetc(); !ok {
			return Token{}, s.err
		}
		switch c {
		case '-': // <!-- comment -->: the first "--" must end it
			if c, ok = s.mustgetc(); !ok {
				return Token{}, s.err
			}
			if c != '-' {
				return s.fail("invalid sequence <!- not part of <!--")
			}
			i := bytes.Index(s.b[s.pos:], []byte("--"))
			if i < 0 || s.pos+i+2 >= len(s.b) {
				s.pos = len(s.b)
				return s.fail("unexpected EOF")
			}
			s.pos += i + 2
			if s.b[s.pos] != '>' {
				s.pos++
				return s.fail(`invalid sequence "--" not allowed in comments`)
			}
			s.pos++
			return Token{Kind: Other}, nil

		case '[': // <![CDATA[ … ]]>
			for i := 0; i < 6; i++ {
				if c, ok = s.mustgetc(); !ok {
					return Token{}, s.err
				}
				if c != "CDATA["[i] {
					return s.fail("invalid <![ sequence")
				}
			}
			data, ok := s.text(-1, true)
			if !ok {
				return Token{}, s.err
			}
			return Token{Kind: Text, Text: data}, nil
		}
		// A directive (<!DOCTYPE …>): skipped as encoding/xml reads it.
		if !s.directive() {
			return Token{}, s.err
		}
		return Token{Kind: Other}, nil
	}

	// A start tag.
	s.pos--
	name, ok := s.nsname()
	if !ok {
		return s.fail("expected element name after <")
	}
	attr := s.attr[:0]
	empty := false
	for {
		s.space()
		if c, ok = s.mustgetc(); !ok {
			return Token{}, s.err
		}
		if c == '/' {
			empty = true
			if c, ok = s.mustgetc(); !ok {
				return Token{}, s.err
			}
			if c != '>' {
				return s.fail("expected /> in element")
			}
			break
		}
		if c == '>' {
			break
		}
		s.pos--
		an, ok := s.nsname()
		if !ok {
			return s.fail("expected attribute name in element")
		}
		s.space()
		if c, ok = s.mustgetc(); !ok {
			return Token{}, s.err
		}
		if c != '=' {
			return s.fail("attribute name without = in element")
		}
		s.space()
		if c, ok = s.mustgetc(); !ok {
			return Token{}, s.err
		}
		if c != '"' && c != '\'' {
			return s.fail("unquoted or missing attribute value in element")
		}
		data, ok := s.text(int(c), false)
		if !ok {
			return Token{}, s.err
		}
		attr = append(attr, xml.Attr{Name: an, Value: string(data)})
	}
	s.attr = attr
	if empty {
		s.needClose, s.toClose = true, name
	}
	return Token{Kind: Start, Name: name, Attr: attr}, nil
}

// directive skips the rest of a <!…> directive as encoding/xml does:
// quoted '>' do not count, nested <…> do, and <!-- --> inside is skipped.
func (s *Scanner) directive() bool {
	var inquote byte
	depth := 0
	for {
		c, ok := s.mustgetc()
		if !ok {
			return false
		}
		if inquote == 0 && c == '>' && depth == 0 {
			return true
		}
	handle:
		switch {
		case c == inquote:
			inquote = 0
		case inquote != 0:
		case c == '\'' || c == '"':
			inquote = c
		case c == '>':
			depth--
		case c == '<':
			for i := 0; i < 3; i++ {
				if c, ok = s.mustgetc(); !ok {
					return false
				}
				if c != "!--"[i] {
					depth++
					goto handle
				}
			}
			var b0, b1 byte
			for {
				if c, ok = s.mustgetc(); !ok {
					return false
				}
				if b0 == '-' && b1 == '-' && c == '>' {
					break
				}
				b0, b1 = b1, c
			}
		}
	}
}

// Bytes that need no attention in each kind of character data: printable
// ASCII, tab and newline, less the bytes that end or transform it.
var plainText, plainCDATA, plainQuot, plainApos = func() (t, c, q, a [256]bool) {
	for i := 0x20; i < 0x80; i++ {
		t[i], c[i], q[i], a[i] = true, true, true, true
	}
	for _, i := range []byte{'\t', '\n'} {
		t[i], c[i], q[i], a[i] = true, true, true, true
	}
	t['<'], t['&'], t[']'] = false, false, false
	c[']'] = false
	q['<'], q['&'], q['"'] = false, false, false
	a['<'], a['&'], a['\''] = false, false, false
	return
}()

// text reads character data as encoding/xml's Decoder.text does: with
// quote >= 0 an attribute value up to that quote (consumed); with cdata
// the inside of a CDATA section up to "]]>" (consumed); otherwise text up
// to the next '<' (not consumed) or the end. Entities are decoded, "\r\n"
// and "\r" become "\n", and characters outside XML's range are refused.
// The result is a slice of the input when nothing needed decoding, else
// of s.buf.
func (s *Scanner) text(quote int, cdata bool) ([]byte, bool) {
	tbl := &plainText
	switch {
	case cdata:
		tbl = &plainCDATA
	case quote == '"':
		tbl = &plainQuot
	case quote == '\'':
		tbl = &plainApos
	}
	b := s.b
	start := s.pos
	i := start
	end := -1 // end of the data in b, when not copying
	s.bad = ""
	var out []byte
	copying := false
	startCopy := func() {
		if !copying {
			out, copying = append(s.buf[:0], b[start:i]...), true
		}
	}
	for end < 0 {
		j := i
		for j < len(b) && tbl[b[j]] {
			j++
		}
		if copying {
			out = append(out, b[i:j]...)
		}
		i = j
		if i >= len(b) {
			s.pos = i
			if cdata {
				s.syntaxError("unexpected EOF in CDATA section")
				return nil, false
			}
			if quote >= 0 {
				// encoding/xml checks the characters read before it
				// finds the quote missing
				if s.bad != "" {
					s.syntaxError(s.bad)
				} else {
					s.syntaxError("unexpected EOF")
				}
				return nil, false
			}
			end = i
			break
		}
		switch c := b[i]; {
		case c == ']' && (cdata || quote < 0):
			if i+2 < len(b) && b[i+1] == ']' && b[i+2] == '>' {
				if !cdata {
					s.pos = i + 3
					s.syntaxError("unescaped ]]> not in CDATA section")
					return nil, false
				}
				end = i
				i += 3
				break
			}
			if copying {
				out = append(out, c)
			}
			i++
		case c == '<' && !cdata:
			if quote >= 0 {
				s.pos = i + 1
				s.syntaxError("unescaped < inside quoted string")
				return nil, false
			}
			end = i
		case quote >= 0 && c == byte(quote):
			end = i
			i++
		case c == '&' && !cdata:
			startCopy()
			var ok bool
			if out, i, ok = s.entity(out, i); !ok {
				return nil, false
			}
		case c == '\r':
			startCopy()
			out = append(out, '\n')
			i++
			if i < len(b) && b[i] == '\n' {
				i++
			}
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(b[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				s.badChar("invalid UTF-8")
			case !isInCharacterRange(r):
				s.badChar(fmt.Sprintf("illegal character code %U", r))
			}
			if copying {
				out = append(out, b[i:i+size]...)
			}
			i += size
		default:
			if c < 0x20 && c != '\t' && c != '\n' {
				s.badChar(fmt.Sprintf("illegal character code %U", rune(c)))
			}
			if copying {
				out = append(out, c)
			}
			i++
		}
	}
	s.pos = i
	if s.bad != "" {
		// encoding/xml checks the characters once the text is read: an
		// error in its reading (above) comes first, and this one is
		// reported where the text ends.
		s.syntaxError(s.bad)
		return nil, false
	}
	if copying {
		s.buf = out
		return out, true
	}
	return b[start:end], true
}

// badChar records the first character of the text being read that XML
// does not allow.
func (s *Scanner) badChar(msg string) {
	if s.bad == "" {
		s.bad = msg
	}
}

// entity decodes the reference at b[i] == '&', appending it to out, as
// encoding/xml does with no Entity map: the five predefined names and
// decimal (&#…;) or hexadecimal (&#x…;) character references up to
// U+10FFFF. It returns the position after it.
func (s *Scanner) entity(out []byte, i int) ([]byte, int, bool) {
	b := s.b
	at := func(j int) bool {
		if j >= len(b) {
			s.pos = len(b)
			s.syntaxError("unexpected EOF")
			return false
		}
		return true
	}
	j := i + 1
	if !at(j) {
		return nil, 0, false
	}
	if b[j] == '#' {
		j++
		if !at(j) {
			return nil, 0, false
		}
		base := 10
		if b[j] == 'x' {
			base = 16
			j++
			if !at(j) {
				return nil, 0, false
			}
		}
		ds := j
		for base == 10 && '0' <= b[j] && b[j] <= '9' ||
			base == 16 && ('0' <= b[j] && b[j] <= '9' || 'a' <= b[j] && b[j] <= 'f' || 'A' <= b[j] && b[j] <= 'F') {
			j++
			if !at(j) {
				return nil, 0, false
			}
		}
		if b[j] == ';' {
			n, err := strconv.ParseUint(string(b[ds:j]), base, 64)
			if err == nil && n <= unicode.MaxRune {
				r := rune(n)
				if !utf8.ValidRune(r) {
					r = utf8.RuneError // as string(rune(n)) does
				}
				if !isInCharacterRange(r) {
					s.badChar(fmt.Sprintf("illegal character code %U", r))
				}
				return utf8.AppendRune(out, r), j + 1, true
			}
			j++
		}
		return nil, 0, s.badEntity(i, j)
	}
	ns := j
	if b[j] < utf8.RuneSelf && !isNameByte(b[j]) {
		// no name
	} else {
		for {
			j++
			if !at(j) {
				return nil, 0, false
			}
			if b[j] < utf8.RuneSelf && !isNameByte(b[j]) {
				break
			}
		}
	}
	if !at(j) {
		return nil, 0, false
	}
	if b[j] == ';' {
		var r byte
		switch string(b[ns:j]) {
		case "lt":
			r = '<'
		case "gt":
			r = '>'
		case "amp":
			r = '&'
		case "apos":
			r = '\''
		case "quot":
			r = '"'
		}
		if r != 0 {
			return append(out, r), j + 1, true
		}
		j++
	}
	return nil, 0, s.badEntity(i, j)
}

func (s *Scanner) badEntity(i, j int) bool {
	ent := string(s.b[i:j])
	if ent[len(ent)-1] != ';' {
		ent += " (no semicolon)"
	}
	s.pos = j
	s.syntaxError("invalid character entity " + ent)
	return false
}

// name reads an XML name as encoding/xml does: name bytes, and any bytes
// from U+0080 up, checked afterwards. ok is false with s.err unset when
// there is no name at all.
func (s *Scanner) name() ([]byte, bool) {
	if s.pos >= len(s.b) {
		s.syntaxError("unexpected EOF")
		return nil, false
	}
	start := s.pos
	if c := s.b[start]; c < utf8.RuneSelf && !isNameByte(c) {
		return nil, false
	}
	for {
		s.pos++
		if s.pos >= len(s.b) {
			s.syntaxError("unexpected EOF")
			return nil, false
		}
		if c := s.b[s.pos]; c < utf8.RuneSelf && !isNameByte(c) {
			break
		}
	}
	n := s.b[start:s.pos]
	if !isName(n) {
		s.syntaxError("invalid XML name: " + string(n))
		return nil, false
	}
	return n, true
}

// nsname reads a name and splits it at its colon, as encoding/xml does:
// more than one colon is no name; a colon first or last is part of Local.
func (s *Scanner) nsname() (xml.Name, bool) {
	n, ok := s.name()
	if !ok {
		return xml.Name{}, false
	}
	c := bytes.IndexByte(n, ':')
	if c < 0 {
		return xml.Name{Local: s.intern(n)}, true
	}
	if bytes.IndexByte(n[c+1:], ':') >= 0 {
		return xml.Name{}, false
	}
	if c == 0 || c == len(n)-1 {
		return xml.Name{Local: s.intern(n)}, true
	}
	return xml.Name{Space: s.intern(n[:c]), Local: s.intern(n[c+1:])}, true
}

func (s *Scanner) intern(b []byte) string {
	if s, ok := s.Names[string(b)]; ok {
		return s
	}
	return string(b)
}

func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

// isName reports whether encoding/xml accepts n as a Name: for ASCII, a
// letter, '_' or ':' then also digits, '-' and '.'; a name with other
// characters is checked by encoding/xml itself (its tables are not
// exported), with its colons, which it treats as it treats '_', replaced.
func isName(n []byte) bool {
	if len(n) == 0 {
		return false
	}
	ascii := true
	for _, c := range n {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		c := n[0]
		return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_' || c == ':'
	}
	doc := make([]byte, 0, len(n)+3)
	doc = append(doc, '<')
	for _, c := range n {
		if c == ':' {
			c = '_'
		}
		doc = append(doc, c)
	}
	doc = append(doc, '/', '>')
	_, err := xml.NewDecoder(bytes.NewReader(doc)).RawToken()
	return err == nil
}

func isInCharacterRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// procInst finds param'value' or param"value" in a processing
// instruction's content, as encoding/xml does; param ends in '=' (given
// so, not appended, which cost a string per call).
func procInst(param, s string) string {
	lenp := len(param)
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || lenp+k >= len(sub) {
			return ""
		}
		i += lenp + k + 1
		if c := sub[lenp+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}
