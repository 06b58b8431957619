package media

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/media/codec"
)

// maxFileSize bounds a local audio file.
const maxFileSize = 100 << 20

// ErrNotFound is returned for a stored media id or file that does not
// exist.
var ErrNotFound = errors.New("media not found")

// prompt is audio ready to send: 8 kHz mono PCM, and its G.711 frames per
// codec, encoded once on first use and shared by every call that plays it.
type prompt struct {
	pcm  []int16
	once [2]sync.Once
	enc  [2][]byte
}

func newPrompt(pcm []int16) *prompt { return &prompt{pcm: pcm} }

func (p *prompt) frames(c codec.Codec) []byte {
	i := 0
	if c == codec.PCMA {
		i = 1
	}
	p.once[i].Do(func() { p.enc[i] = c.EncodeFrames(p.pcm) })
	return p.enc[i]
}

func (p *prompt) size() int64 { return int64(len(p.pcm)) * 4 }

// promptCache keeps decoded and encoded prompts, least recently used out
// first once over max bytes.
type promptCache struct {
	mu      sync.Mutex
	max     int64
	bytes   int64
	lru     *list.List // of *cacheEntry, most recent first
	entries map[string]*list.Element
	loads   flights[*prompt]

	hits, misses atomic.Uint64 // for /metrics
}

type cacheEntry struct {
	key string
	p   *prompt
}

func newPromptCache(max int64) *promptCache {
	return &promptCache{max: max, lru: list.New(), entries: map[string]*list.Element{}}
}

func (c *promptCache) get(key string, load func() (*prompt, error)) (*prompt, error) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		c.lru.MoveToFront(e)
		p := e.Value.(*cacheEntry).p
		c.mu.Unlock()
		c.hits.Add(1)
		return p, nil
	}
	c.mu.Unlock()
	c.misses.Add(1)
	// Synchronous: the ctx is only for waiters, and the first caller runs
	// load itself.
	return c.loads.do(context.Background(), key, false, func() (*prompt, error) {
		p, err := load()
		if err != nil {
			return nil, err
		}
		c.put(key, p)
		return p, nil
	})
}

// put adds a prompt, evicting the least recently used ones over max.
func (c *promptCache) put(key string, p *prompt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; ok {
		return
	}
	c.entries[key] = c.lru.PushFront(&cacheEntry{key: key, p: p})
	c.bytes += p.size()
	for c.bytes > c.max && c.lru.Len() > 1 {
		last := c.lru.Back()
		ce := last.Value.(*cacheEntry)
		c.lru.Remove(last)
		delete(c.entries, ce.key)
		c.bytes -= ce.p.size()
	}
}

// loadFile is an audio file (WAV or MP3, as Decode) as a prompt; the
// cache key includes its size and modification time, so a replaced file
// is read again (checked at most once a statFresh: filestat.go).
func (m *Manager) loadFile(ctx context.Context, path string) (*prompt, error) {
	key, err := m.stat.key(path, time.Now())
	if err != nil {
		return nil, err
	}
	return m.prompts.get(key, func() (*prompt, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("media: %w", err)
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, maxFileSize))
		if err != nil {
			return nil, fmt.Errorf("media: read %s: %w", path, err)
		}
		// Shared with other callers: one hanging up does not stop it.
		a, err := Decode(context.WithoutCancel(ctx), data, "")
		if err != nil {
			return nil, fmt.Errorf("media %s: %w", path, err)
		}
		return newPrompt(a.PCM), nil
	})
}

// loadPlay resolves what a Play names on a call of accountID; a stored
// media id is looked up in accountID's library only. An *Error names the
// media.
func (m *Manager) loadPlay(ctx context.Context, accountID string, o call.PlayOptions) (*prompt, error) {
	ref := strings.TrimSpace(o.URL)
	if o.MediaID != "" {
		ref = "media:" + o.MediaID
	}
	var (
		p   *prompt
		err error
	)
	if name, ok := strings.CutPrefix(ref, "recording:"); ok {
		p, err = m.loadRecording(ctx, accountID, name)
	} else {
		p, err = m.loadRef(ctx, accountID, ref)
	}
	var me *Error
	if errors.As(err, &me) && me.URL == "" {
		// A new value: the error may be shared by callers of one load.
		return nil, &Error{Code: me.Code, URL: ref, Err: me.Err}
	}
	return p, err
}

func (m *Manager) loadRef(ctx context.Context, accountID, ref string) (*prompt, error) {
	switch {
	case ref == "":
		return nil, errors.New("media: nothing to play")
	case strings.HasPrefix(ref, "builtin:"):
		return m.builtin(strings.TrimPrefix(ref, "builtin:"))
	case strings.HasPrefix(ref, "media:"):
		return m.loadStored(ctx, accountID, strings.TrimPrefix(ref, "media:"))
	case strings.HasPrefix(ref, "http://"), strings.HasPrefix(ref, "https://"):
		return m.fetch(ctx, ref)
	case !m.cfg.LocalPaths:
		// Decided before the disk is touched: the answer is the same
		// whether the path exists or not.
		return nil, fmt.Errorf("media %q: %w", ref, ErrNotMediaRef)
	case strings.HasPrefix(ref, "file://"):
		return m.loadFile(ctx, strings.TrimPrefix(ref, "file://"))
	}
	return m.loadFile(ctx, ref)
}

// ErrNotMediaRef refuses what a play names when it is neither a stored
// media id nor an http(s) URL (a server path, file://, ../) and local
// paths are off (Config.LocalPaths): a tenant must not play another
// tenant's recordings or the server's files.
var ErrNotMediaRef = errors.New("not a media id of this account or an http(s) URL")

// loadRecording plays "recording:<name>": one of the call's account's own
// recordings (RecordingPath's directory), by file name with or without
// ".wav"; a name with a path, or another account's, is never reached.
func (m *Manager) loadRecording(ctx context.Context, accountID, name string) (*prompt, error) {
	name = strings.TrimSuffix(name, ".wav")
	if accountID == "" || name == "" || name != safeName(name) || strings.HasPrefix(name, ".") {
		return nil, fmt.Errorf("recording %q: %w", name, ErrNotMediaRef)
	}
	dir, _ := m.RecordingPath(accountID, "", 0)
	p, err := m.loadFile(ctx, filepath.Join(dir, name+".wav"))
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: recording %q", ErrNotFound, name)
	}
	return p, err
}

// loadStored plays a stored media id of the account; its errors name the
// id, never the file it is kept in.
func (m *Manager) loadStored(ctx context.Context, accountID, id string) (*prompt, error) {
	path, err := m.MediaPath(accountID, id)
	if err != nil {
		return nil, fmt.Errorf("media id %q: %w", id, ErrNotMediaRef)
	}
	p, err := m.loadFile(ctx, path)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: media id %q", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("media id %q: %w", id, ErrUnsupportedFormat)
	}
	return p, nil
}

// MediaPath is where a stored media id's audio lives:
// DataDir/media/<account>/<id>.wav, one library per account, so that a
// media id is only ever played, served or replaced for its own account.
// Ids are letters, digits, '.', '_' and '-', not starting with '.'.
func (m *Manager) MediaPath(accountID, id string) (string, error) {
	id = strings.TrimSuffix(id, ".wav")
	if id == "" || len(id) > 200 || id[0] == '.' {
		return "", fmt.Errorf("%w: bad media id %q", ErrNotFound, id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return "", fmt.Errorf("%w: bad media id %q", ErrNotFound, id)
		}
	}
	return filepath.Join(m.cfg.DataDir, "media", safeName(accountID), id+".wav"), nil
}

// flights runs one load per key at a time; later callers wait for it and
// share its result.
type flights[T any] struct {
	mu sync.Mutex
	m  map[string]*flight[T]
}

type flight[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// do runs fn for key unless a run is under way, and returns its result.
// With async, fn runs in its own goroutine (which fn must bound in time)
// and every caller, the first included, stops waiting when its ctx ends.
func (f *flights[T]) do(ctx context.Context, key string, async bool, fn func() (T, error)) (T, error) {
	f.mu.Lock()
	if f.m == nil {
		f.m = map[string]*flight[T]{}
	}
	fl, ok := f.m[key]
	if !ok {
		fl = &flight[T]{done: make(chan struct{})}
		f.m[key] = fl
		f.mu.Unlock()
		run := func() {
			fl.val, fl.err = fn()
			f.mu.Lock()
			delete(f.m, key)
			f.mu.Unlock()
			close(fl.done)
		}
		if !async {
			run()
			return fl.val, fl.err
		}
		go run()
	} else {
		f.mu.Unlock()
	}
	select {
	case <-fl.done:
		return fl.val, fl.err
	case <-ctx.Done():
		var zero T
		return zero, context.Cause(ctx)
	}
}
