package actions

import (
	"strings"
	"time"
)

// allKeys is the default set of terminators: any key stops a prompt.
const allKeys = "1234567890*#"

// keys joins Kazoo's terminator list into a key string. The usual list,
// every key one by one (the schemas' default), is allKeys itself: no join
// on every call.
func keys(list []string) string {
	if isAllKeys(list) {
		return allKeys
	}
	return strings.Join(list, "")
}

// isAllKeys reports whether list joins into allKeys.
func isAllKeys(list []string) bool {
	n := 0
	for _, k := range list {
		if n+len(k) > len(allKeys) || allKeys[n:n+len(k)] != k {
			return false
		}
		n += len(k)
	}
	return n == len(allKeys)
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
