package egress

import (
	"net/url"
	"strings"
)

// RedactURL is raw with the password of its user information replaced by
// "***" ("https://user:***@host/…"; a user name alone becomes "***"), for
// everything that is kept or shown: the call trace, the log, the debug
// log and the ErrorUrl sent to a fallback_url. Credentials in a webhook URL are the customer's secret and
// must never leave the request that uses them. Text that does not parse
// as a URL loses everything between "//" and "@".
func RedactURL(raw string) string {
	if !strings.Contains(raw, "@") {
		return raw
	}
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			v := *u
			v.User = url.UserPassword(u.User.Username(), "***")
			s := v.String()
			// url escapes the asterisks of a password.
			return strings.Replace(s, ":%2A%2A%2A@", ":***@", 1)
		}
		// A user name alone is often the secret itself (an API key).
		v := *u
		v.User = nil
		return strings.Replace(v.String(), "//", "//***@", 1)
	} else if err == nil {
		return raw
	}
	i := strings.Index(raw, "//")
	if i < 0 {
		return raw
	}
	rest := raw[i+2:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return raw
	}
	return raw[:i+2] + "***" + rest[at:]
}
