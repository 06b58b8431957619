package media

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/switchboard/switchboard/internal/media/codec"
)

// The built-in sounds, played as "builtin:<name>": the beep, hold music
// and each country's ringback ("ringback-us" …, see RingbackName).
var builtinSounds = withRingbacks(map[string]func() []int16{
	"beep":       Beep,
	"hold-music": HoldMusic,
})

// builtins synthesizes each built-in sound once per manager.
type builtins struct {
	once sync.Map // name → func() *prompt
}

// BuiltinSounds are the names Play takes as "builtin:<name>".
func BuiltinSounds() []string {
	names := make([]string, 0, len(builtinSounds))
	for n := range builtinSounds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (m *Manager) builtin(name string) (*prompt, error) {
	synth, ok := builtinSounds[name]
	if !ok {
		return nil, fmt.Errorf("%w: builtin:%s (have %s)", ErrNotFound, name, strings.Join(BuiltinSounds(), ", "))
	}
	f, _ := m.builtins.once.LoadOrStore(name, sync.OnceValue(func() *prompt { return newPrompt(synth()) }))
	return f.(func() *prompt)(), nil
}

// Beep is the record beep: 440 Hz for 500 ms at -6 dBFS, 8 kHz.
func Beep() []int16 {
	n := codec.Rate / 2
	out := make([]int16, n)
	fade := codec.Rate / 100 // 10 ms ramps, no clicks
	for i := range out {
		v := 0.5 * math.Sin(2*math.Pi*440*float64(i)/codec.Rate)
		if i < fade {
			v *= float64(i) / float64(fade)
		} else if n-i < fade {
			v *= float64(n-i) / float64(fade)
		}
		out[i] = int16(v * 32767)
	}
	return out
}

// HoldMusic is an 8-second loop at 8 kHz: a soft arpeggio over a bass
// line, C – Am – F – G, eight notes a chord, bell-like notes (a fundamental
// with quiet second and third harmonics) with a gentle decay. One voice at a
// time in the DTMF bands, so the in-band detector never takes it for a key.
func HoldMusic() []int16 {
	const (
		chordLen = codec.Rate * 2 // 2 s a chord
		noteLen  = chordLen / 8
	)
	note := func(semitonesFromA4 int) float64 {
		return 440 * math.Pow(2, float64(semitonesFromA4)/12)
	}
	// Each chord: a bass note and four arpeggio notes (played up and down).
	chords := []struct {
		bass int
		arp  [4]int
	}{
		{-21, [4]int{-9, -5, -2, 3}},    // C: C3; C4 E4 G4 C5
		{-24, [4]int{-12, -9, -5, 0}},   // Am: A2; A3 C4 E4 A4
		{-28, [4]int{-16, -12, -9, -4}}, // F: F2; F3 A3 C4 F4
		{-26, [4]int{-14, -10, -7, -2}}, // G: G2; G3 B3 D4 G4
	}
	order := [8]int{0, 1, 2, 3, 2, 1, 0, 1}
	out := make([]float64, chordLen*len(chords))
	for ci, ch := range chords {
		base := ci * chordLen
		fb := note(ch.bass)
		for i := range chordLen {
			t := float64(i) / codec.Rate
			env := math.Min(1, t*20) * math.Min(1, float64(chordLen-i)/(codec.Rate/20))
			out[base+i] += 0.12 * env * math.Sin(2*math.Pi*fb*t)
		}
		for k, idx := range order {
			f := note(ch.arp[idx])
			start := base + k*noteLen
			for i := range noteLen {
				t := float64(i) / codec.Rate
				env := math.Min(1, t*200) * math.Exp(-3*t) * math.Min(1, float64(noteLen-i)/(codec.Rate/100))
				v := math.Sin(2*math.Pi*f*t) + 0.25*math.Sin(4*math.Pi*f*t) + 0.08*math.Sin(6*math.Pi*f*t)
				out[start+i] += 0.18 * env * v
			}
		}
	}
	pcm := make([]int16, len(out))
	for i, v := range out {
		pcm[i] = int16(math.Max(-1, math.Min(1, v)) * 32767)
	}
	return pcm
}
