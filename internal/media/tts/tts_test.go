package tts

import (
	"context"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/media/wav"
)

func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (CI=true requires it)", name)
		}
		t.Skipf("%s is not installed", name)
	}
}

func TestGender(t *testing.T) {
	t.Parallel()
	for voice, want := range map[string]string{
		"man": "male", "Male": "male", "woman": "female", "female": "female", "alice": "female",
		"Polly.Joanna": "female", "Google.en-US-Standard-C": "female", "": "", "robot": "",
	} {
		if got := Gender(voice); got != want {
			t.Errorf("Gender(%q) = %q, want %q", voice, got, want)
		}
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	both := &Engine{name: Flite, bin: "/usr/bin/flite", espeak: "/usr/bin/espeak-ng",
		voices: map[string]bool{"en-us": true, "en-gb": true, "fr-fr": true, "de": true, "es": true, "es-419": true, "pt-br": true, "cmn": true}}
	both.voicesOnce.Do(func() {})
	espeakOnly := &Engine{name: EspeakNG, bin: "/usr/bin/espeak-ng", voices: both.voices}
	espeakOnly.voicesOnce.Do(func() {})
	fliteOnly := &Engine{name: Flite, bin: "/usr/bin/flite"}
	fliteOnly.voicesOnce.Do(func() {})
	tests := []struct {
		e                 *Engine
		voice, lang       string
		engine, wantVoice string
	}{
		{both, "", "", Flite, "slt"},
		{both, "man", "en-US", Flite, "rms"},
		{both, "alice", "en-GB", Flite, "slt"},
		{both, "Polly.Celine", "fr-FR", EspeakNG, "fr-fr+f3"},
		{both, "man", "de-DE", EspeakNG, "de+m3"},
		{both, "", "es-MX", EspeakNG, "es-419"},
		{both, "", "pt-BR", EspeakNG, "pt-br"},
		{both, "", "zh-CN", EspeakNG, "cmn"},
		{both, "martian", "xx-YY", EspeakNG, "en-us"},
		{fliteOnly, "woman", "fr-FR", Flite, "slt"},
		{espeakOnly, "", "", EspeakNG, "en-us"},
		{espeakOnly, "female", "en-US", EspeakNG, "en-us+f3"},
	}
	for _, tt := range tests {
		p := tt.e.plan(Request{Text: "hi", Voice: tt.voice, Language: tt.lang})
		if p.engine != tt.engine || p.voice != tt.wantVoice {
			t.Errorf("%s plan(%q, %q) = %s %s, want %s %s", tt.e.name, tt.voice, tt.lang, p.engine, p.voice, tt.engine, tt.wantVoice)
		}
	}
	long := both.plan(Request{Text: strings.Repeat("é", MaxText+10)})
	if n := len([]rune(long.text)); n != MaxText {
		t.Errorf("text cut to %d characters, want %d", n, MaxText)
	}
	a := both.plan(Request{Text: "hello", Voice: "woman"}).key()
	b := both.plan(Request{Text: "hello", Voice: "alice"}).key()
	c := both.plan(Request{Text: "hello", Voice: "man"}).key()
	if a != b || a == c {
		t.Errorf("cache keys: woman %s alice %s man %s", a, b, c)
	}
}

func TestSpeak(t *testing.T) {
	t.Parallel()
	text := "Welcome to the switchboard. Please enter your account number, followed by the pound key."
	words := len(strings.Fields(text))
	for _, tt := range []struct {
		engine, voice, lang string
	}{
		{Flite, "woman", "en-US"},
		{Flite, "man", "en-US"},
		{EspeakNG, "", "en-US"},
		{EspeakNG, "alice", "fr-FR"},
		{EspeakNG, "Polly.Mystery", "xx-XX"}, // unknown voice and language: the default
	} {
		t.Run(tt.engine+"/"+tt.voice+"/"+tt.lang, func(t *testing.T) {
			requireTool(t, tt.engine)
			e, err := Find(tt.engine, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			path, err := e.Speak(t.Context(), Request{Text: text, Voice: tt.voice, Language: tt.lang})
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			a, err := wav.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			pcm := a.To8kMono()
			// About 150 words a minute; allow a wide band (pauses, engines).
			want := float64(words) / 150 * 60
			if d := float64(len(pcm)) / 8000; d < want*0.5 || d > want*1.8 {
				t.Errorf("speech lasts %.2f s, expected about %.1f s", d, want)
			}
			sum := 0.0
			for _, v := range pcm {
				sum += float64(v) * float64(v)
			}
			if db := 20 * math.Log10(math.Sqrt(sum/float64(len(pcm)))/32767); db < -35 {
				t.Errorf("speech level %.1f dBFS, want well above silence", db)
			}
			// Cached: a second request returns the same file without a run.
			again, err := e.Speak(context.Background(), Request{Text: text, Voice: tt.voice, Language: tt.lang})
			if err != nil || again != path {
				t.Errorf("second Speak = %s, %v; want cached %s", again, err, path)
			}
		})
	}
}

func TestSpeakDashText(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{Flite, EspeakNG} {
		t.Run(engine, func(t *testing.T) {
			requireTool(t, engine)
			dir := t.TempDir()
			e, err := Find(engine, dir)
			if err != nil {
				t.Fatal(err)
			}
			// Text that looks like options stays text.
			path, err := e.Speak(t.Context(), Request{Text: "-w /tmp/owned.wav --help"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(path, dir) {
				t.Errorf("output %s outside the cache", path)
			}
		})
	}
}

func TestFindUnknown(t *testing.T) {
	t.Parallel()
	if _, err := Find("say", t.TempDir()); err == nil {
		t.Error("Find(say) succeeded")
	}
}
