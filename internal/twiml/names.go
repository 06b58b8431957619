package twiml

import "github.com/switchboard/switchboard/internal/xmlscan"

// interned are the element and attribute names TwiML documents use, so
// that reading them allocates nothing.
var interned = func() map[string]string {
	m := map[string]string{}
	add := func(list ...string) {
		for _, n := range list {
			m[n] = n
		}
	}
	add("Response", "version", "xmlns", "xml", "Variable", "Parameter", "Identity", "Uri",
		"key", "value", "name", "alias", "Task", "amazon", "time", "strength", "level")
	add(verbNames...)
	for n := range ssmlInline {
		add(n)
	}
	add("break", "p", "s", "sub")
	for _, set := range []names{sayAttrs, playAttrs, pauseAttrs, gatherAttrs, dialAttrs, recordAttrs,
		redirectAttrs, rejectAttrs, enqueueAttrs, smsAttrs, referAttrs} {
		for n := range set {
			add(n)
		}
	}
	for n, set := range nounAttrs {
		add(n)
		for a := range set {
			add(a)
		}
	}
	for n := range unsupported {
		add(n)
	}
	for n := range unsupportedNouns {
		add(n)
	}
	return m
}()

// tokenSource is where the parser reads tokens: an xmlscan.Scanner in
// production, an encoding/xml Decoder in the differential tests.
type tokenSource interface {
	// Next returns the next token, io.EOF after the last one. A token's
	// text and attribute slice are only valid until the next call.
	Next() (tok, error)
	// Line is the current line, for messages.
	Line() int
}

type tok = xmlscan.Token

const (
	tokText  = xmlscan.Text
	tokStart = xmlscan.Start
	tokEnd   = xmlscan.End
	tokOther = xmlscan.Other
)
