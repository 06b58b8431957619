package twiml

import (
	"errors"
	"testing"
)

func TestResolveURL(t *testing.T) {
	const base = "http://example.com/ivr/start.xml"
	tests := []struct{ base, ref, want string }{
		// twiml.md §3.7
		{base, "/process_gather.php", "http://example.com/process_gather.php"},
		{base, "../nextInstructions", "http://example.com/nextInstructions"},
		{base, "handle.php?x=1", "http://example.com/ivr/handle.php?x=1"},
		{base, "example.com?id=34&action=hey", "http://example.com/ivr/example.com?id=34&action=hey"},
		// RFC 3986 and friends
		{base, "", "http://example.com/ivr/start.xml"},
		{base, "  \n /next \n", "http://example.com/next"},
		{base, "?a=b", "http://example.com/ivr/start.xml?a=b"},
		{base, "#frag", "http://example.com/ivr/start.xml"},
		{base, "next#frag", "http://example.com/ivr/next"},
		{base, "./", "http://example.com/ivr/"},
		{base, "../../../../x", "http://example.com/x"},
		{base, "//cdn.example.net/a.mp3", "http://cdn.example.net/a.mp3"},
		{base, "https://other.example/x?y=1", "https://other.example/x?y=1"},
		{base, "HTTPS://Other.example/x", "https://Other.example/x"},
		{"https://example.com:8443/a/b?q=1#f", "c", "https://example.com:8443/a/c"},
		{"https://example.com/a/b?q=1", "", "https://example.com/a/b?q=1"},
		{"https://example.com", "x", "https://example.com/x"},
		{"https://u:p@example.com/a/", "b", "https://u:p@example.com/a/b"},
		{base, "my file.mp3", "http://example.com/ivr/my%20file.mp3"},
	}
	for _, tt := range tests {
		got, err := ResolveURL(tt.base, tt.ref)
		if err != nil || got != tt.want {
			t.Errorf("ResolveURL(%q, %q) = %q, %v; want %q", tt.base, tt.ref, got, err, tt.want)
		}
	}
	bad := []struct{ base, ref string }{
		{base, "ftp://example.com/a"},
		{base, "javascript:alert(1)"},
		{base, "mailto:a@b"},
		{base, "http:relative"},
		{base, "http://"},
		{base, "http://[::1"},
		{base, "/a\x00b"},
		{"", "/x"},
		{"/relative/base", "/x"},
		{"ftp://example.com/", "/x"},
		{"http://exa mple.com/", "/x"},
	}
	for _, tt := range bad {
		got, err := ResolveURL(tt.base, tt.ref)
		e, ok := errors.AsType[*Error](err)
		if !ok || e.Code != 11100 {
			t.Errorf("ResolveURL(%q, %q) = %q, %v; want an 11100 *Error", tt.base, tt.ref, got, err)
		}
	}
}
