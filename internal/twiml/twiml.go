// Package twiml parses Twilio's TwiML (voice) documents into typed,
// defaulted verbs, and interprets them on a call.Channel (Interpreter):
// each verb becomes Channel operations and trace lines, and a document
// ends with the next one to fetch or with the call's end. Fetching is the
// caller's (the pivot action's): nothing here imports the webhook client,
// which is why the wait documents of <Enqueue> come through a WaitFetcher.
//
// Parsing follows Twilio: the root element must be <Response>, element
// and attribute names are case-sensitive, and unknown or misplaced elements
// and attributes are skipped with a Warning rather than failing the
// document. Attribute values of enumerations (method, playBeep, reason …)
// are compared case-insensitively, and a value that cannot be used falls
// back to the attribute's default with a Warning carrying Twilio's code for
// that attribute. Only documents that cannot be read at all fail, with an
// *Error: too large (11750), not well-formed XML or empty (12100), a bad
// version attribute (12101), or a root other than <Response> (12102).
package twiml

import (
	"strconv"
)

// MaxDocumentSize is the largest document accepted (Twilio 11750): 64 KiB.
const MaxDocumentSize = 64 << 10

// MaxDepth is the deepest element nesting accepted, <Response> counting as
// 1. Deeper documents fail with 12100.
const MaxDepth = 32

// MaxLoop caps the loop attribute of <Say> and <Play>, and is the number of
// repetitions that loop="0" (Loop == 0) stands for.
const MaxLoop = 1000

// MaxWarnings is the most warnings kept on a Document; further ones are
// counted in one final warning.
const MaxWarnings = 100

// Twilio error and warning codes used by this package.
const (
	CodeInvalidURL   = 11100 // ResolveURL: not a usable http(s) URL
	CodeTooLarge     = 11750 // body larger than MaxDocumentSize
	CodeParse        = 12100 // not well-formed XML, empty, too deep
	CodeVersion      = 12101 // bad <Response version>
	CodeRoot         = 12102 // root element is not <Response>
	CodeSchema       = 12200 // unknown element or attribute, misplaced text
	CodeDialMethod   = 13210
	CodeDialTimeout  = 13212
	CodeHangupOnStar = 13213
	CodeDialNoun     = 13215 // invalid nested element in <Dial>
	CodeTimeLimit    = 13216
	CodeDialRecord   = 13217
	CodeSequential   = 13218
	CodeAnswerOnBr   = 13219
	CodeFinishOnKey  = 13310 // Gather finishOnKey
	CodeGatherMethod = 13312
	CodeGatherTime   = 13313
	CodeNumDigits    = 13314
	CodeGatherNested = 13320 // invalid nested verb in <Gather>
	CodeNestedLoop   = 13322 // loop of a <Say> nested in <Gather>
	CodeInput        = 13326
	CodeEmptyResult  = 13338 // Gather actionOnEmptyResult
	CodePlayLoop     = 13410
	CodePlayDigits   = 13430
	CodeSayLoop      = 13510
	CodeSayText      = 13520 // empty <Say>
	CodeSayLength    = 13521 // <Say> text too long
	CodeRecordMethod = 13610
	CodeRecordTime   = 13611
	CodeMaxLength    = 13612
	CodeRecordKey    = 13613
	CodeTranscribe   = 13614
	CodePlayBeep     = 13616
	CodeRedirMethod  = 13710
	CodeRejectReason = 13810
	CodePauseLength  = 13910
	CodeSmsBody      = 14103
	CodeSmsMethod    = 14104
	CodeEnqMethod    = 14201
	CodeQueueShort   = 14204
	CodeQueueLong    = 14205
	CodeWaitMethod   = 14206
)

// Error is a document that cannot be used at all (or, from ResolveURL, a
// URL that cannot be used). Code is Twilio's error code.
type Error struct {
	Code    int
	Message string
}

// Error renders "12100: document is not well-formed XML: …".
func (e *Error) Error() string { return strconv.Itoa(e.Code) + ": " + e.Message }

// Warning is something skipped or replaced by a default while parsing: the
// document still runs. Verb is the element concerned (a verb, a noun, or
// "Response"); Attr is the attribute concerned, if any.
type Warning struct {
	Code    int
	Message string
	Verb    string
	Attr    string
}

// String renders the warning for logs.
func (w Warning) String() string { return strconv.Itoa(w.Code) + ": " + w.Message }

// Document is a parsed <Response>: the verbs to run in order, and what was
// skipped or defaulted on the way.
type Document struct {
	Verbs    []Verb
	Warnings []Warning
}

// Verb is one instruction of a document: *Say, *Play, *Pause, *Gather,
// *Dial, *Record, *Redirect, *Hangup, *Reject, *Enqueue, *Leave, *Sms or
// *Set. Name is the TwiML element name ("Say" …).
type Verb interface {
	Name() string
}
