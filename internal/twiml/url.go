package twiml

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ResolveURL resolves ref (an action, Redirect, Play or callback URL as
// written in a document) against base, the URL of the current document,
// as RFC 3986 says: "../next" and "handle.php?x=1" are relative paths, and
// so is scheme-less text such as "example.com?id=34". An empty ref is base
// itself. Surrounding whitespace is ignored and any fragment is dropped.
// The result must be an absolute http or https URL with a host; otherwise,
// or when base or ref does not parse, the error is an *Error with code
// 11100 (invalid URL format).
func ResolveURL(base, ref string) (string, error) {
	b, err := url.Parse(strings.TrimSpace(base))
	if err != nil {
		return "", &Error{CodeInvalidURL, "invalid document URL: " + err.Error()}
	}
	if !isHTTP(b) {
		return "", &Error{CodeInvalidURL, "invalid document URL " + quote(base) + ": not an absolute http(s) URL"}
	}
	r, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return "", &Error{CodeInvalidURL, "invalid URL: " + err.Error()}
	}
	u := b.ResolveReference(r)
	u.Fragment, u.RawFragment = "", ""
	if !isHTTP(u) {
		return "", &Error{CodeInvalidURL, "invalid URL " + quote(ref) + ": not an http(s) URL"}
	}
	return u.String(), nil
}

func isHTTP(u *url.URL) bool {
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Opaque == ""
}

// quote quotes a URL for a message, shortened.
func quote(s string) string {
	if len(s) > 200 {
		i := 200
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i] + "…"
	}
	return strconv.Quote(s)
}
