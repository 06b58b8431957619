package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/switchboard/switchboard/internal/egress"
)

// MaxFetchSize bounds an http(s) media file, and an upload given to
// DecodeReader or StoreMedia.
const MaxFetchSize = 20 << 20

// maxRedirects is how many redirects the default client follows
// (errTooManyRedirects past that: Twilio's 11215).
const maxRedirects = 10

// decodeTimeout bounds decoding a fetched file (a 20 MB MP3 decodes in a
// few seconds); like the download, it is not one caller's to cancel.
const decodeTimeout = time.Minute

// CachePath is where older versions cached the audio fetched from url:
// DataDir/cache/<hex sha256 of url>.wav.
//
// Deprecated: the URL cache now keeps decoded audio in memory (see
// Config.MediaCacheBytes); NewManager removes such files. Kept so that
// callers still build.
func (m *Manager) CachePath(url string) string {
	h := sha256.Sum256([]byte(url))
	return filepath.Join(m.cfg.DataDir, "cache", hex.EncodeToString(h[:])+".wav")
}

// legacyCacheName matches the files CachePath named.
var legacyCacheName = regexp.MustCompile(`^[0-9a-f]{64}\.wav$`)

// removeLegacyCache deletes the fetched files older versions left in
// DataDir/cache (never evicted: the unbounded cache of issue 13). TTS
// output, in DataDir/cache/tts, stays.
func removeLegacyCache(dataDir string) {
	dir := filepath.Join(dataDir, "cache")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.Type().IsRegular() && legacyCacheName.MatchString(e.Name()) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// defaultHTTPClient fetches media when Config.HTTPClient is nil.
func defaultHTTPClient() *http.Client {
	return &http.Client{
		Timeout: fetchTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return errTooManyRedirects
			}
			return nil
		},
	}
}

// fetched is one answer to a media request.
type fetched struct {
	notModified bool
	audio       Audio
	policy      cachePolicy
}

// download GETs url, conditionally when old (a stale cache entry) has
// validators, and decodes a 200's body. Errors are classified with
// Twilio's codes by the caller.
func (m *Manager) download(ctx context.Context, url string, old *urlEntry) (fetched, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fetched{}, err
	}
	req.Header.Set("Accept", "audio/mpeg, audio/wav, audio/x-wav, audio/*;q=0.8, */*;q=0.1")
	if old != nil {
		if old.policy.etag != "" {
			req.Header.Set("If-None-Match", old.policy.etag)
		}
		if old.policy.lastModified != "" {
			req.Header.Set("If-Modified-Since", old.policy.lastModified)
		}
	}
	resp, err := m.http.Do(req)
	if err != nil {
		return fetched{}, err
	}
	defer resp.Body.Close()
	now := m.urls.now()
	switch {
	case resp.StatusCode == http.StatusNotModified && old != nil:
		return fetched{notModified: true, policy: parsePolicy(resp.Header, now, m.urls.ttl)}, nil
	case resp.StatusCode == http.StatusNotFound:
		return fetched{}, fmt.Errorf("%w: status %s", ErrNotFound, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return fetched{}, fmt.Errorf("status %s", resp.Status)
	}
	if resp.ContentLength > MaxFetchSize {
		return fetched{}, fmt.Errorf("%w: %d bytes, over the %d limit", ErrTooLarge, resp.ContentLength, MaxFetchSize)
	}
	data, err := readBounded(resp.Body, MaxFetchSize)
	if err != nil {
		return fetched{}, err
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), decodeTimeout)
	defer cancel()
	a, err := Decode(dctx, data, resp.Header.Get("Content-Type"))
	if err != nil {
		return fetched{}, err
	}
	return fetched{audio: a, policy: parsePolicy(resp.Header, now, m.urls.ttl)}, nil
}

// fetch returns the audio at an http(s) URL: from the cache while fresh,
// else fetched (conditionally when the cached copy has an ETag or
// Last-Modified) and decoded once. Concurrent calls for one URL share one
// request. The request has its own 10 s bound so that a caller who hangs
// up does not waste it; that caller stops waiting at once. Failures are
// *Error with Twilio's code (ErrFetch or ErrUnsupportedFormat); a stale
// copy is played when revalidation fails and the server allowed it.
func (m *Manager) fetch(ctx context.Context, url string) (*prompt, error) {
	key := url
	if m.cfg.Egress != nil {
		key = m.cfg.Egress.Class(egress.AccountOf(ctx)) + " " + url
	}
	old, fresh := m.urls.lookup(key)
	if fresh {
		return old.p, nil
	}
	dctx := context.WithoutCancel(ctx)
	p, err := m.urls.fetches.do(ctx, key, true, func() (*prompt, error) {
		dctx, cancel := context.WithTimeout(dctx, fetchTimeout)
		defer cancel()
		f, err := m.download(dctx, url, old)
		switch {
		case err != nil && old != nil && !old.policy.mustRevalidate:
			m.log.Warn("media revalidation failed; playing the cached copy", "url", egress.RedactURL(url), "err", err)
			return old.p, nil
		case err != nil:
			return nil, fetchError(dctx, url, err)
		case f.notModified:
			m.urls.refresh(old, f.policy)
			return old.p, nil
		}
		p := newPrompt(f.audio.PCM)
		m.urls.store(key, p, f.policy)
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}
