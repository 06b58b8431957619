package twiml

import "time"

// Every verb keeps its attributes as written in Attrs (attribute name →
// value; nil when there were none), unknown ones included, for logging and
// for the attributes that have no typed field. URLs are kept as written
// (trimmed): resolve them against the document's URL with ResolveURL.

// Say speaks text. Text is the XML-decoded content with runs of whitespace
// collapsed to one space and trimmed; SSML elements inside contribute their
// text (<sub alias> its alias, <break> nothing; <break>, <p> and <s>
// separate words).
type Say struct {
	Text     string
	Voice    string // as written; "" = the default voice
	Language string // as written; "" = the default (en-US)
	// Loop is how many times to speak: default 1, at most MaxLoop.
	// 0 = repeat up to the cap (MaxLoop times) or until the call ends.
	Loop int
	// SSML is true when the text contained SSML elements.
	SSML  bool
	Attrs map[string]string
}

// Play plays audio from URL, or sends Digits as DTMF when Digits is set.
type Play struct {
	URL string // trimmed; may be relative
	// Loop is how many times to play: default 1, at most MaxLoop.
	// 0 = repeat up to the cap (MaxLoop times) or until the call ends.
	Loop int
	// Digits are DTMF to send (0-9 A-D * # w W; w waits 0.5 s, W 1 s).
	Digits string
	Attrs  map[string]string
}

// Pause waits. As the first verb it delays answering.
type Pause struct {
	Length time.Duration // default 1 s, 1 s … 3600 s
	Attrs  map[string]string
}

// Gather collects digits while playing its nested Say, Play and Pause.
type Gather struct {
	Action    string // trimmed; "" with !ActionSet = the current document URL
	ActionSet bool   // whether the action attribute was given
	Method    string // GET or POST (default)
	Timeout   time.Duration
	// FinishOnKey is the key that ends input: default "#"; "" = none
	// (finishOnKey=""). Normally one key; several are kept as given.
	FinishOnKey string
	NumDigits   int // 0 = unlimited
	// ActionOnEmptyResult requests the action even with no input.
	ActionOnEmptyResult bool
	Input               string // "dtmf" (default), "speech" or "dtmf speech"
	// Nested holds only *Say, *Play (without Digits) and *Pause.
	Nested []Verb
	Attrs  map[string]string
}

// Dial calls other parties and bridges the first to answer.
type Dial struct {
	Action    string // trimmed; "" with !ActionSet = continue with the next verb
	ActionSet bool
	Method    string        // GET or POST (default)
	Timeout   time.Duration // ring time: default 30 s, 5 s … 600 s
	CallerID  string        // trimmed; "" = the caller's
	TimeLimit time.Duration // default 14400 s
	// HangupOnStar lets the caller drop the called party with '*'.
	HangupOnStar bool
	// Record is do-not-record (default), record-from-answer,
	// record-from-ringing, record-from-answer-dual or
	// record-from-ringing-dual ("true" and "false" are mapped).
	Record         string
	AnswerOnBridge bool
	Sequential     bool // dial the nouns one after another
	Nouns          []Noun
	Attrs          map[string]string
}

// Noun is one party a Dial rings.
type Noun struct {
	// Kind is number, sip, client, conference, queue, or the Kazoo
	// extensions user and device.
	Kind string
	// Value is the trimmed text: the number, SIP URI, client identity,
	// conference room or queue name.
	Value string
	Attrs map[string]string
	// Parameters are nested <Parameter name value/> (Client).
	Parameters []Variable
}

// Record records the caller.
type Record struct {
	Action    string // trimmed; "" with !ActionSet = the current document URL
	ActionSet bool
	Method    string        // GET or POST (default)
	Timeout   time.Duration // silence that ends it: default 5 s; 0 = never
	// FinishOnKey are the keys that end it: default "1234567890*#";
	// "" = none.
	FinishOnKey string
	MaxLength   time.Duration // default 3600 s
	PlayBeep    bool          // default true
	Trim        string        // trim-silence (default) or do-not-trim
	Transcribe  bool
	// RecordingStatusCallback is trimmed; may be relative.
	RecordingStatusCallback string
	Attrs                   map[string]string
}

// Redirect fetches another document: URL "" means the current document.
type Redirect struct {
	URL       string // trimmed; may be relative
	Method    string // GET or POST (default)
	Variables []Variable
	Attrs     map[string]string
}

// Hangup ends the call.
type Hangup struct {
	Attrs map[string]string
}

// Reject refuses the call: Reason is "rejected" (default) or "busy".
type Reject struct {
	Reason string
	Attrs  map[string]string
}

// Enqueue puts the caller in the queue named Queue.
type Enqueue struct {
	Queue         string // trimmed
	Action        string // trimmed; "" with !ActionSet = continue with the next verb
	ActionSet     bool
	Method        string // GET or POST (default)
	WaitURL       string // trimmed; may be relative
	WaitURLMethod string // GET or POST (default)
	Attrs         map[string]string
}

// Leave takes the caller out of the queue (in a waitUrl document).
type Leave struct {
	Attrs map[string]string
}

// Sms sends a text message during the call (legacy).
type Sms struct {
	To, From  string
	Body      string // trimmed
	Action    string
	ActionSet bool
	Method    string // GET or POST (default)
	// StatusCallback is trimmed; may be relative.
	StatusCallback string
	Attrs          map[string]string
}

// Set stores variables sent with later requests (Kazoo:
// <Set><Variable key="" value=""/></Set>).
type Set struct {
	Variables []Variable
	Attrs     map[string]string
}

// Variable is a Kazoo <Variable key value/>, or a <Parameter name value/>.
type Variable struct {
	Key, Value string
}

// Name returns "Say".
func (*Say) Name() string { return "Say" }

// Name returns "Play".
func (*Play) Name() string { return "Play" }

// Name returns "Pause".
func (*Pause) Name() string { return "Pause" }

// Name returns "Gather".
func (*Gather) Name() string { return "Gather" }

// Name returns "Dial".
func (*Dial) Name() string { return "Dial" }

// Name returns "Record".
func (*Record) Name() string { return "Record" }

// Name returns "Redirect".
func (*Redirect) Name() string { return "Redirect" }

// Name returns "Hangup".
func (*Hangup) Name() string { return "Hangup" }

// Name returns "Reject".
func (*Reject) Name() string { return "Reject" }

// Name returns "Enqueue".
func (*Enqueue) Name() string { return "Enqueue" }

// Name returns "Leave".
func (*Leave) Name() string { return "Leave" }

// Name returns "Sms".
func (*Sms) Name() string { return "Sms" }

// Name returns "Set".
func (*Set) Name() string { return "Set" }
