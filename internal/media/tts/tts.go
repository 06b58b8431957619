// Package tts turns text into speech with an installed engine, flite or
// espeak-ng, run as a process (never through a shell), and caches the WAV
// files it makes by engine, voice, language and text.
package tts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// ErrNoEngine is returned when no TTS engine is installed.
var ErrNoEngine = errors.New("tts: no engine installed (flite or espeak-ng)")

// MaxText is the longest text spoken, in characters; the rest is cut.
const MaxText = 4000

// The engines we drive.
const (
	Flite    = "flite"
	EspeakNG = "espeak-ng"
)

// runTimeout bounds one engine run.
const runTimeout = 60 * time.Second

// Engine speaks text.
type Engine struct {
	name     string // Flite or EspeakNG
	bin      string
	espeak   string // espeak-ng binary, for languages flite cannot speak; may be ""
	cacheDir string

	voicesOnce sync.Once
	voices     map[string]bool // espeak-ng languages

	mu       sync.Mutex
	inflight map[string]*flight

	hits, misses atomic.Uint64 // Speak found the file cached, or ran the engine (or waited for a run)
}

// CacheStats reports how many Speak calls found their speech cached and how
// many had to synthesize it (or wait for a synthesis): the operator's view
// of whether the cache works.
func (e *Engine) CacheStats() (hits, misses uint64) { return e.hits.Load(), e.misses.Load() }

type flight struct {
	done chan struct{}
	path string
	err  error
}

// Find looks the engine up on PATH: name is Flite, EspeakNG, or "" for the
// first installed (flite first). It returns ErrNoEngine when none is.
func Find(name, cacheDir string) (*Engine, error) {
	e := &Engine{cacheDir: cacheDir, inflight: map[string]*flight{}}
	e.espeak, _ = exec.LookPath(EspeakNG)
	switch name {
	case Flite, EspeakNG:
		bin, err := exec.LookPath(name)
		if err != nil {
			return nil, fmt.Errorf("tts: %s not found: %w", name, err)
		}
		e.name, e.bin = name, bin
	case "":
		for _, n := range []string{Flite, EspeakNG} {
			if bin, err := exec.LookPath(n); err == nil {
				e.name, e.bin = n, bin
				return e, nil
			}
		}
		return nil, ErrNoEngine
	default:
		return nil, fmt.Errorf("tts: unknown engine %q (want %s or %s)", name, Flite, EspeakNG)
	}
	return e, nil
}

// Name is the engine's name.
func (e *Engine) Name() string { return e.name }

// Request is what to say.
type Request struct {
	Text     string
	Voice    string // TwiML/Kazoo voice: man, woman, alice, Polly.Joanna …
	Language string // BCP 47: en-US, fr-FR …
}

// plan is one engine run.
type plan struct {
	engine, bin, voice, lang string
	text                     string
}

// Gender is how a TwiML voice name maps onto engine voices: "male",
// "female", or "" for the engine's default.
func Gender(voice string) string {
	v := strings.ToLower(strings.TrimSpace(voice))
	switch {
	case v == "man" || v == "male":
		return "male"
	case v == "woman" || v == "female" || v == "alice" ||
		strings.HasPrefix(v, "polly.") || strings.HasPrefix(v, "google."):
		return "female"
	}
	return ""
}

func (e *Engine) plan(r Request) plan {
	text := strings.TrimSpace(r.Text)
	if utf8.RuneCountInString(text) > MaxText {
		text = string([]rune(text)[:MaxText])
	}
	gender := Gender(r.Voice)
	lang := strings.ToLower(strings.TrimSpace(r.Language))
	english := lang == "" || lang == "en" || strings.HasPrefix(lang, "en-")
	if e.name == Flite && (english || e.espeak == "") {
		voice := "slt" // US English, female
		if gender == "male" {
			voice = "rms" // US English, male
		}
		return plan{engine: Flite, bin: e.bin, voice: voice, lang: "en", text: text}
	}
	bin := e.bin
	if e.name != EspeakNG {
		bin = e.espeak
	}
	v := e.espeakLanguage(lang)
	voice := v
	switch gender {
	case "male":
		voice += "+m3"
	case "female":
		voice += "+f3"
	}
	return plan{engine: EspeakNG, bin: bin, voice: voice, lang: v, text: text}
}

// espeakAliases are BCP 47 tags whose espeak-ng language has another name.
var espeakAliases = map[string]string{
	"en":    "en-us",
	"en-au": "en-gb",
	"en-ca": "en-us",
	"en-in": "en-gb",
	"en-ie": "en-gb",
	"en-nz": "en-gb",
	"en-za": "en-gb",
	"es-mx": "es-419",
	"es-us": "es-419",
	"zh":    "cmn",
	"zh-cn": "cmn",
	"zh-tw": "cmn",
	"zh-hk": "yue",
	"no":    "nb",
	"nb-no": "nb",
	"iw":    "he",
	"fr-ca": "fr-fr",
	"pt-pt": "pt",
}

// espeakLanguage maps a BCP 47 tag to an installed espeak-ng language
// ("fr-FR" → "fr-fr", "de-DE" → "de"), or "en-us" when none fits.
func (e *Engine) espeakLanguage(lang string) string {
	if lang == "" {
		return "en-us"
	}
	e.voicesOnce.Do(e.loadVoices)
	has := func(v string) bool { return e.voices == nil || e.voices[v] }
	if a, ok := espeakAliases[lang]; ok && has(a) {
		return a
	}
	if e.voices[lang] {
		return lang
	}
	primary, _, _ := strings.Cut(lang, "-")
	if a, ok := espeakAliases[primary]; ok && has(a) {
		return a
	}
	if e.voices[primary] {
		return primary
	}
	for v := range e.voices {
		if strings.HasPrefix(v, primary+"-") {
			return v
		}
	}
	return "en-us"
}

func (e *Engine) loadVoices() {
	bin := e.espeak
	if e.name == EspeakNG {
		bin = e.bin
	}
	if bin == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--voices").Output()
	if err != nil {
		return
	}
	voices := map[string]bool{}
	for i, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 2 {
			continue
		}
		voices[strings.ToLower(f[1])] = true
	}
	e.voices = voices
}

// Key is the cache key of a run: sha256 of engine|voice|language|text.
func (p plan) key() string {
	h := sha256.Sum256([]byte(p.engine + "|" + p.voice + "|" + p.lang + "|" + p.text))
	return hex.EncodeToString(h[:])
}

// Speak returns the path of a WAV file holding r spoken, from the cache
// (cacheDir/<key>.wav) or made now. Concurrent requests for the same
// speech share one run. An unknown voice or language falls back to the
// default; it never fails the request.
func (e *Engine) Speak(ctx context.Context, r Request) (string, error) {
	p := e.plan(r)
	if p.text == "" {
		return "", errors.New("tts: empty text")
	}
	if p.bin == "" {
		return "", ErrNoEngine
	}
	path := filepath.Join(e.cacheDir, p.key()+".wav")
	if fi, err := os.Stat(path); err == nil && fi.Size() > 44 {
		e.hits.Add(1)
		return path, nil
	}
	e.misses.Add(1)
	e.mu.Lock()
	f, ok := e.inflight[path]
	if !ok {
		f = &flight{done: make(chan struct{})}
		e.inflight[path] = f
		go func() { // owned by the flight: it ends when the engine run does
			f.path, f.err = e.run(p, path)
			e.mu.Lock()
			delete(e.inflight, path)
			e.mu.Unlock()
			close(f.done)
		}()
	}
	e.mu.Unlock()
	select {
	case <-f.done:
		return f.path, f.err
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}

// run makes the file. It is not bound to one caller's context: a caller
// that hangs up does not waste a run another caller (or the next call)
// will want; runTimeout bounds it.
func (e *Engine) run(p plan, path string) (string, error) {
	if err := os.MkdirAll(e.cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("tts cache: %w", err)
	}
	tmp, err := os.CreateTemp(e.cacheDir, "tts-*.wav")
	if err != nil {
		return "", fmt.Errorf("tts cache: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName)

	err = e.exec(p, tmpName)
	if err != nil && p.engine == EspeakNG && p.lang != "en-us" {
		// An unknown voice must not fail the call: fall back to the default.
		q := p
		q.voice, q.lang = "en-us", "en-us"
		err = e.exec(q, tmpName)
	}
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(tmpName); err != nil || fi.Size() <= 44 {
		return "", fmt.Errorf("tts: %s wrote no audio", p.engine)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return "", fmt.Errorf("tts cache: %w", err)
	}
	return path, nil
}

func (e *Engine) exec(p plan, out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	var args []string
	switch p.engine {
	case Flite:
		// -t takes the next argument as text, whatever it starts with.
		args = []string{"-voice", p.voice, "-t", p.text, "-o", out}
	default:
		// "--" ends the options: text starting with "-" stays text.
		args = []string{"-v", p.voice, "-w", out, "--", p.text}
	}
	cmd := exec.CommandContext(ctx, p.bin, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("tts: %s: %w: %s", p.engine, err, strings.TrimSpace(string(msg)))
	}
	return nil
}
