package pivot

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/switchboard/switchboard/internal/xmlscan"
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
// instructions and a DOCTYPE may precede it. It reads tokens with
// xmlscan (what encoding/xml's Decoder.RawToken reads, without its
// allocations) and matches end tags itself, with Decoder.Token's
// messages: Token would also resolve namespaces, which nothing here
// needs. FuzzCheckTwiMLMatchesToken holds it to the Decoder.Token check.
func checkTwiML(b []byte) error {
	c := checkers.Get().(*checker)
	err := c.check(b)
	c.s.Reset(nil) // keep no reference to the answer
	c.open = c.open[:0]
	checkers.Put(c)
	return err
}

// checker is a pooled scanner and its stack of open elements.
type checker struct {
	s    *xmlscan.Scanner
	open []xml.Name // raw names of the elements not yet closed
}

var checkers = sync.Pool{New: func() any {
	s := xmlscan.New(nil)
	s.Charset, s.Names = latin1, twimlNames
	return &checker{s: s, open: make([]xml.Name, 0, 8)}
}}

func (c *checker) check(b []byte) error {
	s := c.s
	s.Reset(b)
	root := false
	for {
		tok, err := s.Next()
		if err == io.EOF {
			if !root {
				return errors.New("no root element")
			}
			if len(c.open) != 0 {
				return syntaxError(s, "unexpected EOF")
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch tok.Kind {
		case xmlscan.Start:
			if !root {
				if tok.Name.Local != "Response" {
					return errors.New("root element is <" + tok.Name.Local + ">, not <Response>")
				}
				root = true
			} else if len(c.open) == 0 {
				return errors.New("more than one root element")
			}
			c.open = append(c.open, tok.Name)
		case xmlscan.End:
			if len(c.open) == 0 {
				return syntaxError(s, "unexpected end element </"+tok.Name.Local+">")
			}
			o := c.open[len(c.open)-1]
			switch {
			case tok.Name.Local != o.Local:
				return syntaxError(s, "element <"+o.Local+"> closed by </"+tok.Name.Local+">")
			case tok.Name.Space != o.Space:
				ns := tok.Name.Space
				if ns == "" {
					ns = `""`
				}
				return syntaxError(s, "element <"+o.Local+"> in space "+o.Space+" closed by </"+tok.Name.Local+"> in space "+ns)
			}
			c.open = c.open[:len(c.open)-1]
		case xmlscan.Text:
			if len(c.open) == 0 && len(bytes.TrimSpace(tok.Text)) > 0 {
				return errors.New("text outside the root element")
			}
		}
	}
}

// syntaxError is the error Decoder.Token gives for msg at s's position.
func syntaxError(s *xmlscan.Scanner, msg string) error {
	return &xml.SyntaxError{Msg: msg, Line: s.Line()}
}

// twimlNames are the TwiML names most answers use: the scanner returns
// these without allocating (any other name costs one string).
var twimlNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"Response", "Say", "Play", "Pause", "Gather", "Dial", "Number", "Sip", "Client",
		"Conference", "Queue", "Enqueue", "Leave", "Hangup", "Redirect", "Reject", "Record", "Refer", "Sms",
		"Message", "Connect", "Stream", "Start", "Stop", "Parameter", "Pay", "Prompt",
		"voice", "language", "loop", "method", "action", "url", "digits", "length", "numDigits", "timeout",
		"finishOnKey", "input", "callerId", "reason", "maxLength", "playBeep", "transcribe", "version", "xmlns"} {
		m[n] = n
	}
	return m
}()

// latin1 is the scanner's charset: the encodings an XML declaration
// commonly names, as charsetReader reads them.
func latin1(label string, rest []byte) []byte {
	if !isLatin1(label) {
		return rest
	}
	out := make([]byte, 0, len(rest)+len(rest)/8)
	for _, c := range rest {
		out = utf8.AppendRune(out, rune(c))
	}
	return out
}

func isLatin1(label string) bool {
	switch strings.ToLower(label) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "windows-1252", "cp1252":
		return true
	}
	return false
}
