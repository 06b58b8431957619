package pivot

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// Kind says how a webhook answer is to be executed.
type Kind int

const (
	KindUnknown Kind = iota
	KindTwiML        // a TwiML document whose root is <Response>
	KindKazoo        // a JSON object: one Kazoo callflow node
	KindText         // text/plain that is not TwiML: Twilio reads it out, then hangs up
	KindAudio        // audio/*: play it, then hang up
)

func (k Kind) String() string {
	switch k {
	case KindTwiML:
		return "twiml"
	case KindKazoo:
		return "kazoo"
	case KindText:
		return "text"
	case KindAudio:
		return "audio"
	}
	return "unknown"
}

// MediaType returns the lower-cased media type of a Content-Type value,
// without parameters.
func MediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

var bom = []byte("\xef\xbb\xbf")

// Classify decides what a 2xx answer is, by Content-Type first and then by
// sniffing the body:
//
//   - text/xml, application/xml (and */*+xml): TwiML when the first element is
//     <Response> and the document is well-formed, else 12100;
//   - application/json (and */*+json): Kazoo when the body is a JSON object,
//     else 12100;
//   - audio/*: KindAudio;
//   - anything else, including text/html, text/plain, application/octet-stream
//     and a missing type: a body starting (after BOM and white space) with '<'
//     and rooted at <Response> is TwiML, one starting with '{' that is a valid
//     JSON object is Kazoo. Otherwise text/plain is KindText (Twilio reads it
//     out); text/html (which Twilio parses as TwiML) is 12100; other types are
//     12100 when the body looked like XML or JSON but did not parse, 12300
//     when it did not.
//
// An empty body (nothing but white space) is 11770 whatever the type.
func Classify(contentType string, body []byte) (Kind, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(body, bom))
	if len(trimmed) == 0 {
		return KindUnknown, newError(CodeEmptyBody, "empty response body", nil)
	}
	mt := MediaType(contentType)
	switch {
	case mt == "text/xml" || mt == "application/xml" || strings.HasSuffix(mt, "+xml"):
		if err := checkTwiML(trimmed); err != nil {
			return KindUnknown, newError(CodeParse, "document parse failure: "+err.Error(), nil)
		}
		return KindTwiML, nil
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		if err := checkJSONObject(trimmed); err != nil {
			return KindUnknown, newError(CodeParse, "invalid JSON: "+err.Error(), nil)
		}
		return KindKazoo, nil
	case strings.HasPrefix(mt, "audio/"):
		return KindAudio, nil
	}
	var sniffErr error
	switch trimmed[0] {
	case '<':
		if sniffErr = checkTwiML(trimmed); sniffErr == nil {
			return KindTwiML, nil
		}
	case '{':
		if sniffErr = checkJSONObject(trimmed); sniffErr == nil {
			return KindKazoo, nil
		}
	}
	switch {
	case mt == "text/plain":
		if !utf8.Valid(trimmed) {
			return KindUnknown, newError(CodeParse, "text/plain body is not UTF-8", nil)
		}
		return KindText, nil
	case mt == "text/html":
		if sniffErr == nil {
			sniffErr = errors.New("not a TwiML document")
		}
		return KindUnknown, newError(CodeParse, "document parse failure: "+sniffErr.Error(), nil)
	case sniffErr != nil:
		return KindUnknown, newError(CodeParse, "document parse failure: "+sniffErr.Error(), nil)
	}
	if mt == "" {
		mt = "none"
	}
	return KindUnknown, newError(CodeContentType, "invalid content type: "+mt, nil)
}

func checkJSONObject(b []byte) error {
	if b[0] != '{' {
		return errors.New("not a JSON object")
	}
	if !json.Valid(b) {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		return errors.New("invalid JSON")
	}
	return nil
}

// checkTwiML verifies that b is well-formed XML whose root element is
// <Response> (any namespace); the XML declaration, comments, processing
// instructions and a DOCTYPE may precede it. It reads raw tokens and
// matches end tags itself, with Decoder.Token's messages: Token would
// also resolve namespaces, which nothing here needs.
func checkTwiML(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = charsetReader
	root := false
	var open []xml.Name // raw names of the elements not yet closed
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			if !root {
				return errors.New("no root element")
			}
			if len(open) != 0 {
				return syntaxError(d, "unexpected EOF")
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
			} else if len(open) == 0 {
				return errors.New("more than one root element")
			}
			open = append(open, t.Name)
		case xml.EndElement:
			if len(open) == 0 {
				return syntaxError(d, "unexpected end element </"+t.Name.Local+">")
			}
			s := open[len(open)-1]
			switch {
			case t.Name.Local != s.Local:
				return syntaxError(d, "element <"+s.Local+"> closed by </"+t.Name.Local+">")
			case t.Name.Space != s.Space:
				ns := t.Name.Space
				if ns == "" {
					ns = `""`
				}
				return syntaxError(d, "element <"+s.Local+"> in space "+s.Space+" closed by </"+t.Name.Local+"> in space "+ns)
			}
			open = open[:len(open)-1]
		case xml.CharData:
			if len(open) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return errors.New("text outside the root element")
			}
		}
	}
}

// syntaxError is the error Decoder.Token gives for msg at d's position.
func syntaxError(d *xml.Decoder, msg string) error {
	line, _ := d.InputPos()
	return &xml.SyntaxError{Msg: msg, Line: line}
}

// charsetReader accepts the encodings an XML declaration commonly names:
// UTF-8 and ASCII as they are, Latin-1 (and its Windows superset, roughly)
// converted to UTF-8.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "windows-1252", "cp1252":
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
