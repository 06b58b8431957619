package routing

import (
	"math/rand"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"4155551234", "+14155551234"},
		{"14155551234", "+14155551234"},
		{"+14155551234", "+14155551234"},
		{"+1 (415) 555-1234", "+14155551234"},
		{" 415.555.1234 ", "+14155551234"},
		{"1000", "1000"},
		{"*72", "*72"},
		{"*72 1000", "*72 1000"},
		{"no_match", "no_match"},
		{"sip:alice@example.com", "sip:alice@example.com"},
		{"011442079460000", "+442079460000"},
		{"00442079460000", "+442079460000"},
		{"442079460000", "+442079460000"},
		{"+442079460000", "+442079460000"},
		{"+", "+"},
		{"++1", "++1"},
		{"1234567", "1234567"},
		{"12345678", "12345678"},
		{"0123456789", "0123456789"},
		{"1415555123", "1415555123"},
		{"4151551234", "+4151551234"}, // exchange starting with 1: not NANP, taken as international
		{"23456789", "+23456789"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := string(appendNormalized(nil, strings.TrimSpace(tt.in))); got != tt.want {
			t.Errorf("appendNormalized(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The router's allocation-free copy of Normalize must agree with it.
func TestNormalizeMirror(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const alphabet = "0123456789000111+ -.()*#a"
	for i := 0; i < 200000; i++ {
		b := make([]byte, rng.Intn(16))
		for j := range b {
			b[j] = alphabet[rng.Intn(len(alphabet))]
		}
		s := strings.TrimSpace(string(b))
		if got, want := string(appendNormalized([]byte("x"), s)), "x"+Normalize(s); got != want {
			t.Fatalf("appendNormalized(%q) = %q, Normalize = %q", s, got[1:], want[1:])
		}
	}
	long := "+1 415 555 1234 5678 9012 3456 7890 1234 5678 9012 3456 7890 1234 5678 9012"
	if got := string(appendNormalized(nil, long)); got != Normalize(long) {
		t.Fatalf("long: %q vs %q", got, Normalize(long))
	}
}

func FuzzNormalizeMirror(f *testing.F) {
	for _, s := range []string{"4155551234", "+1 (415) 555-1234", "*72", "0114420", "no_match"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		s = strings.TrimSpace(s) // as RouteWith does
		if got, want := string(appendNormalized(nil, s)), Normalize(s); got != want {
			t.Fatalf("appendNormalized(%q) = %q, Normalize = %q", s, got, want)
		}
	})
}
