package xmlscan

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/switchboard/switchboard/internal/xmlscan/xmlscantest"
)

func tokens(t *testing.T, next func() (Token, error)) ([]Token, error) {
	var out []Token
	for range 100000 {
		tk, err := next()
		if err != nil {
			return out, err
		}
		tk.Text = bytes.Clone(tk.Text)
		tk.Attr = slices.Clone(tk.Attr)
		out = append(out, tk)
	}
	t.Fatal("too many tokens")
	return nil, nil
}

// checkSameTokens fails unless the scanner reads b as encoding/xml does:
// the same tokens, and an error (other than io.EOF) after the same ones.
func checkSameTokens(t *testing.T, b []byte) {
	t.Helper()
	checkSameTokensCharset(t, b, false)
	checkSameTokensCharset(t, b, true)
}

// checkSameTokensCharset is checkSameTokens with or without a charset
// (Scanner.Charset, Decoder.CharsetReader) that reads "latin1" as
// ISO-8859-1 and any other label as UTF-8.
func checkSameTokensCharset(t *testing.T, b []byte, charset bool) {
	t.Helper()
	s := New(b)
	var reader func(string, io.Reader) (io.Reader, error)
	if charset {
		s.Charset = func(label string, rest []byte) []byte {
			if label != "latin1" {
				return rest
			}
			var out []byte
			for _, c := range rest {
				out = utf8.AppendRune(out, rune(c))
			}
			return out
		}
		reader = func(label string, in io.Reader) (io.Reader, error) {
			raw, err := io.ReadAll(in)
			if err != nil {
				return nil, err
			}
			return bytes.NewReader(s.Charset(label, raw)), nil
		}
	}
	orig := bytes.Clone(b)
	got, gerr := tokens(t, s.Next)
	want, werr := tokens(t, xmlTokens(b, reader))
	if !bytes.Equal(b, orig) {
		t.Fatalf("%q: the scanner changed its input", orig)
	}
	if fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Fatalf("%q: scanner ends with %v, encoding/xml with %v", b, gerr, werr)
	}
	if len(got) != len(want) {
		t.Fatalf("%q: scanner read %d tokens (%v), encoding/xml %d (%v)\n got: %+v\nwant: %+v", b, len(got), gerr, len(want), werr, got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Kind != w.Kind || g.Name != w.Name || !bytes.Equal(g.Text, w.Text) || !slices.Equal(g.Attr, w.Attr) {
			t.Fatalf("%q: token %d: scanner %+v, encoding/xml %+v", b, i, g, w)
		}
	}
}

func TestScannerMatchesEncodingXML(t *testing.T) {
	for _, s := range xmlscantest.Seeds(t) {
		checkSameTokens(t, []byte(s))
	}
}

// FuzzScannerMatchesEncodingXML checks that the scanner is a faithful
// replacement for encoding/xml's RawToken.
func FuzzScannerMatchesEncodingXML(f *testing.F) {
	for _, s := range xmlscantest.Seeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSameTokens(t, b)
	})
}

// xmlTokens reads b's tokens with encoding/xml's RawToken, the reference
// the Scanner must match; charset is the Decoder's CharsetReader.
func xmlTokens(b []byte, charset func(string, io.Reader) (io.Reader, error)) func() (Token, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = charset
	return func() (Token, error) {
		t, err := d.RawToken()
		if err != nil {
			return Token{}, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			return Token{Kind: Start, Name: t.Name, Attr: t.Attr}, nil
		case xml.EndElement:
			return Token{Kind: End, Name: t.Name}, nil
		case xml.CharData:
			return Token{Kind: Text, Text: t}, nil
		}
		return Token{Kind: Other}, nil
	}
}
