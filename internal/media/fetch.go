package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
)

// MaxFetchSize bounds an http(s) media file.
const MaxFetchSize = 20 << 20

// CachePath is where the audio fetched from url is cached:
// DataDir/cache/<hex sha256 of url>.wav.
func (m *Manager) CachePath(url string) string {
	h := sha256.Sum256([]byte(url))
	return filepath.Join(m.cfg.DataDir, "cache", hex.EncodeToString(h[:])+".wav")
}

// fetch downloads url once into the cache and returns the file's path. A
// later Play of the same URL reads the cached file; concurrent ones share
// one download. The download has its own 10 s bound so that a caller who
// hangs up does not waste it; the caller stops waiting at once.
func (m *Manager) fetch(ctx context.Context, url string) (string, error) {
	path := m.CachePath(url)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	dctx := context.WithoutCancel(ctx)
	return m.fetches.do(ctx, path, true, func() (string, error) {
		dctx, cancel := context.WithTimeout(dctx, fetchTimeout)
		defer cancel()
		if err := m.download(dctx, url, path); err != nil {
			return "", fmt.Errorf("fetch %s: %w", url, err)
		}
		return path, nil
	})
}

func (m *Manager) download(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "audio/wav, audio/x-wav, audio/*;q=0.5")
	resp, err := m.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode == http.StatusNotFound {
			return ErrNotFound
		}
		return fmt.Errorf("status %s", resp.Status)
	}
	if resp.ContentLength > MaxFetchSize {
		return fmt.Errorf("%d bytes, over the %d limit", resp.ContentLength, MaxFetchSize)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "fetch-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, io.LimitReader(resp.Body, MaxFetchSize+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if n > MaxFetchSize {
		return fmt.Errorf("over the %d byte limit", MaxFetchSize)
	}
	if err := checkWAVHeader(tmp.Name()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// errNotWAV: we play WAV only (no MP3 decoder).
var errNotWAV = errors.New("not a WAV file (only WAV is played)")

func checkWAVHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var h [12]byte
	if _, err := io.ReadFull(f, h[:]); err != nil || string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" {
		return errNotWAV
	}
	return nil
}
