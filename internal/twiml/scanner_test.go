package twiml

import (
	"bytes"
	"io"
	"slices"
	"testing"
)

// scannerSeeds are inputs at the edges of XML syntax.
var scannerSeeds = []string{
	`<Response><Say>Hi &amp; bye &lt;&gt;&apos;&quot; &#65;&#x42;&#X43;</Say></Response>`,
	`<a x="1" y='2'>t</a>`,
	`<a x = "1"/>`,
	`<a x="1"y="2"/>`,
	`<a x=1/>`,
	`<a x/>`,
	`<a x="<"/>`,
	`<a x="]]>"/>`,
	`<a x="&#0;"/>`,
	`<a x="&#xD800;"/>`,
	`<a x="&#x110000;"/>`,
	`<a x="&#99999999999999999999;"/>`,
	"<a x=\"\r\n\r\t\"/>",
	"<a>\r\n\r</a>",
	"<a>]]></a>",
	"<a>]]]></a>",
	"<a>]] ></a>",
	"<a><![CDATA[x]]]]><![CDATA[>]]></a>",
	"<a><![CDATA[a\r\nb]]]></a>",
	"<a><![CDATA[]]></a>",
	"<a><![CDATA[x</a>",
	"<a><![CDAT[x]]></a>",
	"<a><!-- c --></a>",
	"<a><!-- c -- --></a>",
	"<a><!----></a>",
	"<a><!---></a>",
	"<a><!- x --></a>",
	"<?xml version=\"1.0\"?><a/>",
	"<?xml version=\"1.1\"?><a/>",
	"<?xml encoding='latin1'?><a/>",
	"<?xml encoding='UTF-8'?><a/>",
	"<?pi?><a/>",
	"<? pi?><a/>",
	"<?pi x",
	"<!DOCTYPE a [<!ENTITY e \"x\"> <!-- c > --> ]><a/>",
	"<!DOCTYPE a '>' \">\"><a/>",
	"<!DOCTYPE a <b<c>>><a/>",
	"<!DOCTYPE",
	"<a>&e;</a>",
	"<a>&;</a>",
	"<a>& </a>",
	"<a>&#;</a>",
	"<a>&#x;</a>",
	"<a>&#12</a>",
	"<a>&amp</a>",
	"<a>&",
	"<a>&#",
	"<a>&#x",
	"<a>&#x4",
	"<a>&am",
	"<a>\x01</a>",
	"<a>\xff</a>",
	"<a>\xef\xbf\xbe</a>",
	"<a>é ☎ 😀</a>",
	"<é/>",
	"<a:b:c/>",
	"<:a/>",
	"<a:/>",
	"<x:a y:b='1' xmlns:x='u'/>",
	"<1a/>",
	"<-a/>",
	"<a.b-c_d/>",
	"<a\xcc\x80/>",
	"<a\x80/>",
	"<a></a >",
	"<a></ a>",
	"<a></a x>",
	"</a>",
	"<a/ >",
	"<a",
	"<a x",
	"<a x=",
	"<a x=\"",
	"<",
	"<>",
	"< a/>",
	"text",
	"",
	"<a>text",
}

func tokens(t *testing.T, src tokenSource) ([]tok, error) {
	var out []tok
	for range 100000 {
		tk, err := src.next()
		if err != nil {
			return out, err
		}
		tk.text = bytes.Clone(tk.text)
		tk.attr = slices.Clone(tk.attr)
		out = append(out, tk)
	}
	t.Fatal("too many tokens")
	return nil, nil
}

// checkSameTokens fails unless the scanner reads b as encoding/xml does:
// the same tokens, and an error (other than io.EOF) after the same ones.
func checkSameTokens(t *testing.T, b []byte) {
	t.Helper()
	got, gerr := tokens(t, newScanner(b))
	want, werr := tokens(t, newXMLSource(b))
	if (gerr == io.EOF) != (werr == io.EOF) {
		t.Fatalf("%q: scanner ends with %v, encoding/xml with %v", b, gerr, werr)
	}
	if len(got) != len(want) {
		t.Fatalf("%q: scanner read %d tokens (%v), encoding/xml %d (%v)\n got: %+v\nwant: %+v", b, len(got), gerr, len(want), werr, got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.kind != w.kind || g.name != w.name || !bytes.Equal(g.text, w.text) || !slices.Equal(g.attr, w.attr) {
			t.Fatalf("%q: token %d: scanner %+v, encoding/xml %+v", b, i, g, w)
		}
	}
}

func TestScannerMatchesEncodingXML(t *testing.T) {
	for _, s := range scannerSeeds {
		checkSameTokens(t, []byte(s))
	}
	checkSameTokens(t, benchDoc)
}

// FuzzScannerMatchesEncodingXML checks that the scanner is a faithful
// replacement for encoding/xml's RawToken.
func FuzzScannerMatchesEncodingXML(f *testing.F) {
	for _, s := range scannerSeeds {
		f.Add([]byte(s))
	}
	f.Add(benchDoc)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSameTokens(t, b)
	})
}
