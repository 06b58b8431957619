package routing

import "strings"

// Normalize turns a dialled or configured number into the form flows are
// stored and routed by, the way Kazoo's default E.164 converters do for the
// North American numbering plan:
//
//   - visual separators (space, "-", ".", "(", ")") are dropped from anything
//     that is otherwise a phone number;
//   - 10 digits, or 11 starting with 1, of NANP shape (+)(1)NXXNXXXXXX become "+1NXXNXXXXXX";
//   - 011… and 00… (international prefixes) become "+…";
//   - any other run of 8 or more digits starting with 2–9 is taken as
//     already international and gets a "+";
//   - "+" followed by digits is kept as it is;
//   - everything else (extensions such as "1000", feature codes such as
//     "*72", "no_match", SIP users) is kept as dialled.
func Normalize(number string) string {
	n := strings.TrimSpace(number)
	if n == "" {
		return n
	}
	stripped := stripSeparators(n)
	plus := strings.HasPrefix(stripped, "+")
	digits := strings.TrimPrefix(stripped, "+")
	if digits == "" || !allDigits(digits) {
		return n
	}
	if plus {
		return "+" + digits
	}
	if nanp, ok := nanpNumber(digits); ok {
		return "+1" + nanp
	}
	switch {
	case strings.HasPrefix(digits, "011") && len(digits) > 3:
		return "+" + digits[3:]
	case strings.HasPrefix(digits, "00") && len(digits) > 2:
		return "+" + digits[2:]
	case len(digits) >= 8 && digits[0] >= '2' && digits[0] <= '9':
		return "+" + digits
	}
	return digits
}

// nanpNumber returns the ten national digits of a North American number
// written as NXXNXXXXXX or 1NXXNXXXXXX.
func nanpNumber(d string) (string, bool) {
	if len(d) == 11 && d[0] == '1' {
		d = d[1:]
	}
	if len(d) != 10 || d[0] < '2' || d[3] < '2' {
		return "", false
	}
	return d, true
}

func stripSeparators(s string) string {
	if !strings.ContainsAny(s, " -.()") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '-', '.', '(', ')':
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// appendNormalized appends Normalize(s) to dst without allocating; s is
// already trimmed. It must agree with Normalize (see the tests).
func appendNormalized(dst []byte, s string) []byte {
	var d [64]byte
	if len(s) > len(d) {
		return append(dst, Normalize(s)...)
	}
	nd, plus, seen := 0, false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		case c == '+' && !seen:
			plus, seen = true, true
		case c >= '0' && c <= '9':
			d[nd] = c
			nd++
			seen = true
		default:
			return append(dst, s...)
		}
	}
	digits := d[:nd]
	switch {
	case nd == 0:
		return append(dst, s...)
	case plus:
		return append(append(dst, '+'), digits...)
	}
	if n := digits; (len(n) == 10 || len(n) == 11 && n[0] == '1') && nanpShape(n[len(n)-10:]) {
		return append(append(dst, '+', '1'), n[len(n)-10:]...)
	}
	switch {
	case nd > 3 && digits[0] == '0' && digits[1] == '1' && digits[2] == '1':
		return append(append(dst, '+'), digits[3:]...)
	case nd > 2 && digits[0] == '0' && digits[1] == '0':
		return append(append(dst, '+'), digits[2:]...)
	case nd >= 8 && digits[0] >= '2' && digits[0] <= '9':
		return append(append(dst, '+'), digits...)
	}
	return append(dst, digits...)
}

func nanpShape(d []byte) bool { return d[0] >= '2' && d[3] >= '2' }
