package twiml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/switchboard/switchboard/internal/xmlscan"
)

// recoverPanics turns a panic while parsing into a 12400 error, so that a
// bug here cannot take a call server down. The fuzz test switches it off to
// see panics.
var recoverPanics = true

// Parse reads a TwiML document. Errors are *Error: 11750 when body is larger
// than MaxDocumentSize, 12100 when it is empty, not well-formed XML or
// nested deeper than MaxDepth, 12101 for a <Response version> other than
// 2008-08-01 or 2010-04-01, 12102 when the root element is not <Response>.
// Anything else that is wrong is skipped or defaulted and reported in
// Document.Warnings. (A panic inside the parser, which the fuzz tests say
// does not happen, would be a 12400 error.)
//
// What is well-formed XML is decided exactly as encoding/xml decides it
// (strict mode, the five predefined entities and character references
// only), by a scanner that is verified against encoding/xml and is several
// times faster. The document is UTF-8, or UTF-16 with a byte order mark, or what its XML
// declaration names among ISO-8859-1 and windows-1252 (other encodings are
// read as UTF-8). A byte order mark and whitespace before the declaration
// are accepted. Namespace prefixes are ignored.
func Parse(body []byte) (doc *Document, err error) {
	if len(body) > MaxDocumentSize {
		return nil, &Error{CodeTooLarge, fmt.Sprintf("document is %d bytes, more than the %d-byte limit", len(body), MaxDocumentSize)}
	}
	if recoverPanics {
		defer func() {
			if r := recover(); r != nil {
				doc, err = nil, &Error{12400, fmt.Sprintf("internal failure parsing the document: %v", r)}
			}
		}()
	}
	b, lines, perr := prepare(body)
	if perr != nil {
		return nil, perr
	}
	if len(b) == 0 {
		return nil, &Error{CodeParse, "document is empty"}
	}
	w := workspaces.Get().(*workspace)
	w.s.Reset(b)
	doc, err = parseWith(&w.s, lines, &w.buf)
	w.s.Reset(nil) // keep no reference to the answer
	if cap(w.buf) <= maxPooledBuf {
		workspaces.Put(w)
	}
	return doc, err
}

// workspace is a scanner and a text buffer, reused by one Parse after
// another: nothing of them is in the Document (its strings are copies).
type workspace struct {
	s   xmlscan.Scanner
	buf []byte
}

// maxPooledBuf bounds the text buffer a workspace keeps.
const maxPooledBuf = 16 << 10

var workspaces = sync.Pool{New: func() any {
	w := &workspace{buf: make([]byte, 0, 512)}
	w.s.Names = interned
	return w
}}

// parse reads a prepared document from src.
func parse(src tokenSource, lines int) (*Document, error) {
	buf := make([]byte, 0, 512)
	return parseWith(src, lines, &buf)
}

// parseWith is parse with *buf as the text buffer, left in *buf (emptied,
// perhaps grown) for the next document.
func parseWith(src tokenSource, lines int, buf *[]byte) (*Document, error) {
	p := &parser{src: src, lines: lines,
		doc: &Document{Verbs: make([]Verb, 0, 8)}, buf: (*buf)[:0]}
	defer func() { *buf = p.buf[:0] }()
	if err := p.document(); err != nil {
		return nil, err
	}
	if p.suppressed > 0 {
		p.doc.Warnings = append(p.doc.Warnings, Warning{Code: CodeSchema, Verb: "Response",
			Message: fmt.Sprintf("%d more warnings not listed", p.suppressed)})
	}
	return p.doc, nil
}

type parser struct {
	src        tokenSource
	doc        *Document
	buf        []byte // scratch for text, see textBuf
	lines      int    // lines removed before the decoder's input, for messages
	depth      int    // of the element being read; <Response> is 1
	suppressed int    // warnings beyond MaxWarnings
}

func (p *parser) warn(code int, verb, attr, format string, args ...any) {
	if len(p.doc.Warnings) >= MaxWarnings {
		p.suppressed++
		return
	}
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	p.doc.Warnings = append(p.doc.Warnings, Warning{Code: code, Message: msg, Verb: verb, Attr: attr})
}

func (p *parser) line() int { return p.src.Line() + p.lines }

// malformed is a 12100 error at the decoder's position.
func (p *parser) malformed(format string, args ...any) *Error {
	return &Error{CodeParse, fmt.Sprintf("document is not well-formed XML: line %d: ", p.line()) + fmt.Sprintf(format, args...)}
}

// xmlError converts a decoder error to a 12100 *Error.
func (p *parser) xmlError(err error) *Error {
	if se, ok := errors.AsType[*xml.SyntaxError](err); ok {
		return &Error{CodeParse, fmt.Sprintf("document is not well-formed XML: line %d: %s", se.Line+p.lines, se.Msg)}
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return p.malformed("unexpected end of document")
	}
	return &Error{CodeParse, "document is not well-formed XML: " + err.Error()}
}

// document reads the whole input: one <Response> root, with only
// whitespace, comments, processing instructions and a doctype around it.
func (p *parser) document() error {
	seen := false
	for {
		t, err := p.src.Next()
		if err == io.EOF {
			if !seen {
				return &Error{CodeParse, "document has no root element"}
			}
			return nil
		}
		if err != nil {
			return p.xmlError(err)
		}
		switch t.Kind {
		case tokStart:
			if seen {
				return p.malformed("element <%s> after the root element", qname(t.Name))
			}
			seen = true
			if t.Name.Local != "Response" {
				return &Error{CodeRoot, fmt.Sprintf("the root element must be Response, not <%s>", qname(t.Name))}
			}
			p.depth = 1
			if err := p.response(xml.StartElement{Name: t.Name, Attr: t.Attr}); err != nil {
				return err
			}
		case tokEnd:
			return p.malformed("unexpected end element </%s>", qname(t.Name))
		case tokText:
			if !isSpace(t.Text) {
				if seen {
					return p.malformed("text after the root element")
				}
				return p.malformed("text before the root element")
			}
		}
	}
}

// walk reads the content of el up to and including its end tag. Character
// data (CDATA included) goes to text, which must copy what it keeps; each
// child element goes to elem, which must use its attributes before reading
// on, and read it to its end (skip does). A nil text drops character data;
// a nil elem skips children. Recursion is bounded by MaxDepth.
func (p *parser) walk(el xml.StartElement, text func([]byte), elem func(xml.StartElement) error) error {
	for {
		t, err := p.src.Next()
		if err != nil {
			if err == io.EOF {
				return p.malformed("unexpected end of document: <%s> is not closed", qname(el.Name))
			}
			return p.xmlError(err)
		}
		switch t.Kind {
		case tokStart:
			p.depth++
			if p.depth > MaxDepth {
				return p.malformed("elements nested deeper than %d levels", MaxDepth)
			}
			c := xml.StartElement{Name: t.Name, Attr: t.Attr}
			if elem == nil {
				err = p.skip(c)
			} else {
				err = elem(c)
			}
			if err != nil {
				return err
			}
		case tokEnd:
			if t.Name != el.Name {
				return p.malformed("element <%s> closed by </%s>", qname(el.Name), qname(t.Name))
			}
			p.depth--
			return nil
		case tokText:
			if text != nil {
				text(t.Text)
			}
		}
	}
}

// skip reads el to its end, ignoring everything in it.
func (p *parser) skip(el xml.StartElement) error { return p.walk(el, nil, nil) }

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// response reads the root element.
func (p *parser) response(se xml.StartElement) error {
	for _, a := range se.Attr {
		switch {
		case ignoredAttr(a.Name):
		case a.Name.Space == "" && a.Name.Local == "version":
			switch v := strings.TrimSpace(a.Value); v {
			case "", "2008-08-01", "2010-04-01":
			default:
				return &Error{CodeVersion, fmt.Sprintf("invalid TwiML version %q: <Response version> must be 2010-04-01 or 2008-08-01", v)}
			}
		default:
			p.warn(CodeSchema, "Response", qname(a.Name), "unknown attribute %q on <Response> ignored", qname(a.Name))
		}
	}
	text := func(b []byte) {
		if !isSpace(b) {
			p.warn(CodeSchema, "Response", "", "text %q in <Response> ignored", excerpt(b))
		}
	}
	return p.walk(se, text, p.verb)
}

// verb reads one child of <Response>.
func (p *parser) verb(se xml.StartElement) error {
	var (
		v   Verb
		err error
	)
	switch se.Name.Local {
	case "Say":
		v, err = p.say(se, false)
	case "Play":
		v, err = p.play(se)
	case "Pause":
		v, err = p.pause(se)
	case "Gather":
		v, err = p.gather(se)
	case "Dial":
		v, err = p.dial(se)
	case "Record":
		v, err = p.record(se)
	case "Redirect":
		v, err = p.redirect(se)
	case "Hangup":
		v, err = p.hangup(se)
	case "Reject":
		v, err = p.reject(se)
	case "Enqueue":
		v, err = p.enqueue(se)
	case "Leave":
		v, err = p.leave(se)
	case "Sms":
		v, err = p.sms(se)
	case "Set":
		v, err = p.set(se)
	case "Refer":
		v, err = p.refer(se)
	default:
		p.unknownVerb(se.Name.Local)
		return p.skip(se)
	}
	if err != nil {
		return err
	}
	p.doc.Verbs = append(p.doc.Verbs, v)
	return nil
}

// verbNames are the verbs parsed, for case hints.
var verbNames = []string{"Say", "Play", "Pause", "Gather", "Dial", "Record", "Redirect",
	"Hangup", "Reject", "Enqueue", "Leave", "Sms", "Set", "Refer"}

// unsupported are Twilio verbs (or nouns misplaced at the top) this
// package knows but does not run.
var unsupported = map[string]bool{
	"Connect": true, "Start": true, "Stop": true, "Pay": true,
	"Prompt": true, "Echo": true, "Queue": true, "Number": true, "Client": true,
	"Sip": true, "Conference": true, "Stream": true, "Siprec": true, "Variable": true,
	"Parameter": true, "Response": true,
}

func (p *parser) unknownVerb(name string) {
	if unsupported[name] {
		p.warn(CodeSchema, name, "", "<%s> is not supported here; skipped", name)
		return
	}
	for _, v := range verbNames {
		if strings.EqualFold(v, name) {
			p.warn(CodeSchema, name, "", "unknown verb <%s> skipped (element names are case-sensitive: <%s>)", name, v)
			return
		}
	}
	p.warn(CodeSchema, name, "", "unknown verb <%s> skipped", name)
}

// noContent reads the rest of a verb that takes no text and no children
// (children named in allowed are skipped silently).
func (p *parser) noContent(verb string, se xml.StartElement, allowed ...string) error {
	text := func(b []byte) {
		if !isSpace(b) {
			p.warn(CodeSchema, verb, "", "text %q in <%s> ignored", excerpt(b), verb)
		}
	}
	return p.walk(se, text, func(c xml.StartElement) error {
		p.unexpectedChild(verb, c, allowed...)
		return p.skip(c)
	})
}

// unexpectedChild warns about a child element skipped, unless its name is
// in allowed.
func (p *parser) unexpectedChild(verb string, c xml.StartElement, allowed ...string) {
	for _, a := range allowed {
		if c.Name.Local == a {
			return
		}
	}
	p.warn(CodeSchema, verb, "", "element <%s> in <%s> ignored", c.Name.Local, verb)
}

// textBuf accumulates character data in the parser's scratch buffer, with
// runs of XML whitespace collapsed to one space, leading and trailing
// whitespace dropped. Buffers nest (a child's starts after its parent's
// content and is released before the parent writes again), so one scratch
// buffer serves a whole document.
type textBuf struct {
	p     *parser
	start int
	space bool // whitespace pending before the next non-space byte
}

func (p *parser) textBuf() textBuf { return textBuf{p: p, start: len(p.buf)} }

func (t *textBuf) write(data []byte) {
	b := t.p.buf
	for _, c := range data {
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			t.space = len(b) > t.start
			continue
		}
		if t.space {
			b = append(b, ' ')
			t.space = false
		}
		b = append(b, c)
	}
	t.p.buf = b
}

// sep separates words (a <break>, a paragraph).
func (t *textBuf) sep() { t.space = len(t.p.buf) > t.start }

// done returns the text and releases the buffer.
func (t *textBuf) done() string {
	s := string(t.p.buf[t.start:])
	t.p.buf = t.p.buf[:t.start]
	return s
}

// rawBuf accumulates character data as is, in the parser's scratch buffer
// (see textBuf).
type rawBuf struct {
	p     *parser
	start int
}

func (p *parser) rawBuf() rawBuf { return rawBuf{p: p, start: len(p.buf)} }

func (r *rawBuf) write(data []byte) { r.p.buf = append(r.p.buf, data...) }

func (r *rawBuf) bytes() []byte { return r.p.buf[r.start:] }

// done returns the text with surrounding XML whitespace removed and
// releases the buffer.
func (r *rawBuf) done() string {
	s := string(bytes.Trim(r.p.buf[r.start:], " \t\r\n"))
	r.p.buf = r.p.buf[:r.start]
	return s
}

func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// excerpt shortens text for a message.
func excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 40 {
		i := 40
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i] + "…"
	}
	return s
}
