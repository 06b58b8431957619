package actions

import (
	"strings"
	"time"
)

// allKeys is the default set of terminators: any key stops a prompt.
const allKeys = "1234567890*#"

// keys joins Kazoo's terminator list into a key string.
func keys(list []string) string {
	return strings.Join(list, "")
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
