package media

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Every Play of a file (a stored media id, a recording, a TTS result, a
// path) used to os.Stat it to build its prompt-cache key from its size
// and modification time: a syscall and a formatted key per call, for a
// file that almost never changes. statCache keeps the key of each file
// it checked for statFresh; a file is stat'ed again when that has passed,
// or at once after the manager itself wrote or removed a file (StoreMedia,
// DeleteMedia, a recording: changed), so what the API changes plays at
// the next call as before. A file replaced behind the manager's back
// plays its old audio for at most statFresh. Failures are never kept:
// a missing file is looked for again on every play.
const (
	statFresh = time.Second
	// statMax bounds the cache; when full it starts again empty.
	statMax = 4096
)

type statCache struct {
	gen atomic.Uint64 // bumped by changed

	mu sync.Mutex
	m  map[string]statEntry
}

type statEntry struct {
	at  time.Time // when the file was stat'ed
	gen uint64    // statCache.gen then
	key string    // its prompt-cache key
}

// changed forgets every file's check: the manager wrote or removed one.
func (c *statCache) changed() { c.gen.Add(1) }

// key returns path's prompt-cache key ("file:<path>|<size>|<mtime ns>"),
// stat'ing the file unless it was checked less than statFresh ago with
// no change made since.
func (c *statCache) key(path string, now time.Time) (string, error) {
	gen := c.gen.Load()
	c.mu.Lock()
	e, ok := c.m[path]
	c.mu.Unlock()
	if ok && e.gen == gen && now.Sub(e.at) < statFresh && now.Sub(e.at) >= 0 {
		return e.key, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%w: %s", ErrNotFound, path)
		}
		return "", fmt.Errorf("media: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("media: %s is not a file", path)
	}
	if fi.Size() > maxFileSize {
		return "", fmt.Errorf("media: %s is larger than %d bytes", path, maxFileSize)
	}
	k := "file:" + path + "|" + strconv.FormatInt(fi.Size(), 10) + "|" + strconv.FormatInt(fi.ModTime().UnixNano(), 10)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= statMax {
		c.m = make(map[string]statEntry)
	}
	c.m[path] = statEntry{at: now, gen: gen, key: k}
	c.mu.Unlock()
	return k, nil
}
