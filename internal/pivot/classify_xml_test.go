package pivot

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"testing"
	"unicode/utf8"
)

// checkTwiMLToken is checkTwiML as it was written on Decoder.Token: the
// reference the raw-token version must agree with, error text included.
func checkTwiMLToken(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = charsetReader
	root := false
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if !root {
				return errors.New("no root element")
			}
			if depth != 0 {
				return errors.New("unexpected end of document")
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !root {
				if t.Name.Local != "Response" {
					return errors.New("root element is <" + t.Name.Local + ">, not <Response>")
				}
				root = true
			} else if depth == 0 {
				return errors.New("more than one root element")
			}
			depth++
		case xml.EndElement:
			depth--
			if depth < 0 {
				return errors.New("unexpected end element")
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return errors.New("text outside the root element")
			}
		}
	}
}

var twimlCorpus = []string{
	`<Response/>`,
	`<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="alice">Hi</Say></Response>`,
	`<?xml version="1.0" encoding="ISO-8859-1"?><Response><Say>caf` + "\xe9" + `</Say></Response>`,
	`<!-- c --><!DOCTYPE Response><?pi x?><Response><Say><![CDATA[a<b]]></Say></Response>`,
	`<Response><Say>a &amp; b &#233;</Say></Response>`,
	`<Response><Say>a &bogus; b</Say></Response>`,
	`<Response><Say>hi</Response>`,
	`<Response><Say>hi</Play></Response>`,
	`<Response><Say>hi</Say>`,
	`<Response></Response></Response>`,
	`</Response>`,
	`<Response/><Response/>`,
	`<Response/>trailing`,
	`<Other/>`,
	``,
	`   `,
	`<Response xmlns:t="urn:t"><t:Say>hi</t:Say></Response>`,
	`<Response xmlns:t="urn:t"><t:Say>hi</Say></Response>`,
	`<Response xmlns:t="urn:t"><Say>hi</t:Say></Response>`,
	`<t:Response xmlns:t="urn:t"></t:Response>`,
	`<Response><Say a="1" a="2">x</Say></Response>`,
	`<Response><Say a=1>x</Say></Response>`,
	"<Response>\n<Say>\n</Say>\n<Play>\n</Say></Response>",
	"<Response><Say>\xff\xfe</Say></Response>",
	`<Response><Say>x</Say ></Response >`,
	`<Response><1Say/></Response>`,
}

// The raw-token check refuses exactly what Decoder.Token refused, with
// the same message.
func TestCheckTwiMLMatchesToken(t *testing.T) {
	for _, doc := range twimlCorpus {
		compareCheck(t, []byte(doc))
	}
}

func FuzzCheckTwiMLMatchesToken(f *testing.F) {
	for _, doc := range twimlCorpus {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, b []byte) { compareCheck(t, b) })
}

func compareCheck(t *testing.T, b []byte) {
	got, want := fmt.Sprint(checkTwiML(b)), fmt.Sprint(checkTwiMLToken(b))
	if got != want {
		t.Errorf("%q:\n raw   %s\n token %s", b, got, want)
	}
}

// charsetReader is the reference Decoder's CharsetReader: it accepts the encodings an XML declaration commonly names:
// UTF-8 and ASCII as they are, Latin-1 (and its Windows superset, roughly)
// converted to UTF-8.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch {
	case isLatin1(label):
		raw, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(raw)+len(raw)/8)
		for _, c := range raw {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	default:
		return in, nil
	}
}
