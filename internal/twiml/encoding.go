package twiml

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// prepare turns body into UTF-8 starting at the first markup after the XML
// declaration: it decodes UTF-16 (byte order mark, or none before a '<'),
// drops byte order marks and whitespace before the declaration, drops the
// declaration itself (so encoding/xml never refuses its version or
// encoding), and decodes ISO-8859-1/windows-1252 when the declaration says
// so. lines is the number of lines removed, for error messages.
func prepare(body []byte) (b []byte, lines int, err *Error) {
	b = body
	wide := false
	if len(b) >= 2 {
		switch {
		case b[0] == 0xFE && b[1] == 0xFF:
			b, err = fromUTF16(b[2:], true)
			wide = true
		case b[0] == 0xFF && b[1] == 0xFE:
			b, err = fromUTF16(b[2:], false)
			wide = true
		case b[0] == 0 && b[1] == '<':
			b, err = fromUTF16(b, true)
			wide = true
		case b[0] == '<' && b[1] == 0:
			b, err = fromUTF16(b, false)
			wide = true
		}
		if err != nil {
			return nil, 0, err
		}
	}
	for {
		i := 0
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
			if b[i] == '\n' {
				lines++
			}
			i++
		}
		b = b[i:]
		if !bytes.HasPrefix(b, utf8BOM) {
			break
		}
		b = b[len(utf8BOM):]
	}
	if len(b) > 5 && string(b[:5]) == "<?xml" && (b[5] == ' ' || b[5] == '\t' || b[5] == '\r' || b[5] == '\n' || b[5] == '?') {
		end := bytes.Index(b, []byte("?>"))
		if end < 0 {
			return nil, 0, &Error{CodeParse, "document is not well-formed XML: unterminated XML declaration"}
		}
		enc := pseudoAttr(b[5:end], "encoding")
		lines += bytes.Count(b[:end], []byte{'\n'})
		b = b[end+2:]
		if !wide && isWindows1252(enc) {
			b = fromWindows1252(b)
		}
	}
	return b, lines, nil
}

// pseudoAttr finds name="value" (or 'value') in an XML declaration.
func pseudoAttr(decl []byte, name string) string {
	s := string(decl)
	for {
		i := strings.Index(s, name)
		if i < 0 {
			return ""
		}
		s = strings.TrimLeft(s[i+len(name):], " \t\r\n")
		if s == "" || s[0] != '=' {
			continue
		}
		s = strings.TrimLeft(s[1:], " \t\r\n")
		if s == "" || (s[0] != '"' && s[0] != '\'') {
			return ""
		}
		q := s[0]
		s = s[1:]
		if j := strings.IndexByte(s, q); j >= 0 {
			return s[:j]
		}
		return ""
	}
}

// isWindows1252 reports whether an encoding label is one read as
// windows-1252 (as browsers read ISO-8859-1 and ASCII too).
func isWindows1252(label string) bool {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "iso-ir-100",
		"cp819", "ibm819", "windows-1252", "cp1252", "x-cp1252", "us-ascii", "ascii":
		return true
	}
	return false
}

// cp1252 maps windows-1252 bytes 0x80-0x9F (other bytes are ISO-8859-1).
var cp1252 = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

func fromWindows1252(b []byte) []byte {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/4)
	for _, c := range b {
		switch {
		case c < 0x80:
			out = append(out, c)
		case c < 0xA0:
			out = utf8.AppendRune(out, cp1252[c-0x80])
		default:
			out = utf8.AppendRune(out, rune(c))
		}
	}
	return out
}

func fromUTF16(b []byte, bigEndian bool) ([]byte, *Error) {
	if len(b)%2 != 0 {
		return nil, &Error{CodeParse, "document is not well-formed XML: odd number of bytes in a UTF-16 document"}
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	out := make([]byte, 0, len(u))
	for _, r := range utf16.Decode(u) {
		out = utf8.AppendRune(out, r)
	}
	return out, nil
}
