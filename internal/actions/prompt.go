package actions

import (
	"strings"
	"time"
)

// allKeys is the default set of terminators: any key stops a prompt.
const allKeys = "1234567890*#"

// keys joins Kazoo's terminator list into a key string. The usual lists,
// every key one by one in the schemas' keypad order (their default) or in
// allKeys' order, are returned as constants: no join on every call.
func keys(list []string) string {
	for _, k := range [...]string{keypadKeys, allKeys} {
		if joinsTo(list, k) {
			return k
		}
	}
	return strings.Join(list, "")
}

// keypadKeys is every key in the order of the schemas' default list.
const keypadKeys = "123456789*0#"

// joinsTo reports whether list joined is s.
func joinsTo(list []string, s string) bool {
	n := 0
	for _, k := range list {
		if n+len(k) > len(s) || s[n:n+len(k)] != k {
			return false
		}
		n += len(k)
	}
	return n == len(s)
}

// mediaURL turns Kazoo's media "id" into what the channel plays: URLs and
// paths as they are, anything else as a stored media id.
func mediaURL(id string) (url, mediaID string) {
	switch {
	case strings.HasPrefix(id, "http://"), strings.HasPrefix(id, "https://"), strings.HasPrefix(id, "/"),
		strings.HasPrefix(id, "file://"), strings.HasPrefix(id, "tone_stream://"):
		return id, ""
	}
	return "", id
}

// ms turns milliseconds into a duration.
func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }
