package twiml

import (
	"encoding/xml"
	"strings"
	"time"
	"unicode/utf8"
)

// Attribute names each element knows, as Twilio (or Kazoo) spells them.
// Known attributes without a typed field stay readable in Attrs.
var (
	sayAttrs    = nameSet("voice", "language", "loop")
	playAttrs   = nameSet("loop", "digits")
	pauseAttrs  = nameSet("length")
	gatherAttrs = nameSet("action", "method", "timeout", "finishOnKey", "numDigits", "input",
		"actionOnEmptyResult", "speechTimeout", "language", "hints", "speechModel",
		"profanityFilter", "enhanced", "partialResultCallback", "partialResultCallbackMethod",
		"bargeIn", "debug", "maxSpeechTime")
	dialAttrs = nameSet("action", "method", "timeout", "timeLimit", "callerId", "hangupOnStar",
		"record", "recordingStatusCallback", "recordingStatusCallbackMethod",
		"recordingStatusCallbackEvent", "recordingTrack", "trim", "answerOnBridge", "ringTone",
		"sequential", "referUrl", "referMethod", "callReason", "events", "recordingConfigurationId",
		// Kazoo
		"strategy", "hangupOn", "continueOnFail")
	recordAttrs = nameSet("action", "method", "timeout", "finishOnKey", "maxLength", "playBeep",
		"trim", "recordingStatusCallback", "recordingStatusCallbackMethod",
		"recordingStatusCallbackEvent", "transcribe", "transcribeCallback",
		// Kazoo
		"recordingUrl")
	redirectAttrs = nameSet("method")
	rejectAttrs   = nameSet("reason", "prompt" /* Kazoo */)
	enqueueAttrs  = nameSet("action", "method", "waitUrl", "waitUrlMethod", "maxQueueSize", "workflowSid")
	smsAttrs      = nameSet("to", "from", "action", "method", "statusCallback")
	noAttrs       = nameSet()
	variableAttrs = nameSet("key", "value")
	paramAttrs    = nameSet("name", "value")

	callbackAttrs = []string{"url", "method", "statusCallbackEvent", "statusCallback", "statusCallbackMethod"}
	amdAttrs      = []string{"machineDetection", "machineDetectionTimeout", "machineDetectionSpeechThreshold",
		"machineDetectionSpeechEndThreshold", "machineDetectionSilenceTimeout", "amdStatusCallback",
		"amdStatusCallbackMethod", "asyncAmd", "asyncAmdStatusCallback", "asyncAmdStatusCallbackMethod"}
	nounAttrs = map[string]names{
		"Number": nameSet(append(append([]string{"sendDigits", "byoc"}, callbackAttrs...), amdAttrs...)...),
		// sendDigits on Sip, Client, User and Device is Switchboard's:
		// Twilio has it on Number only.
		"Sip":    nameSet(append(append([]string{"username", "password", "sendDigits"}, callbackAttrs...), amdAttrs...)...),
		"Client": nameSet(append([]string{"sendDigits"}, callbackAttrs...)...),
		"Conference": nameSet("muted", "beep", "startConferenceOnEnter", "endConferenceOnExit",
			"waitUrl", "waitMethod", "maxParticipants", "record", "region", "trim", "coach",
			"callSidToCoach", "statusCallbackEvent", "statusCallback", "statusCallbackMethod",
			"recordingStatusCallback", "recordingStatusCallbackMethod", "recordingStatusCallbackEvent",
			"eventCallbackUrl", "jitterBufferSize", "participantLabel"),
		"Queue":  nameSet("url", "method", "reservationSid", "postWorkActivitySid"),
		"User":   nameSet("sendDigits"),
		"Device": nameSet("sendDigits"),
	}
	nounKinds = map[string]string{"Number": "number", "Sip": "sip", "Client": "client",
		"Conference": "conference", "Queue": "queue", "User": "user", "Device": "device"}
	// unsupportedNouns are Twilio Dial nouns this package does not dial.
	unsupportedNouns = map[string]bool{"Application": true, "Sim": true, "WhatsApp": true}
)

func (p *parser) say(se xml.StartElement, inGather bool) (*Say, error) {
	a := p.attrs("Say", se, sayAttrs)
	loopCode := CodeSayLoop
	if inGather {
		loopCode = CodeNestedLoop
	}
	v := &Say{Voice: a.str("voice"), Language: a.str("language"), Loop: a.loop(loopCode), Attrs: a.m}
	t := p.textBuf()
	var elem func(xml.StartElement) error
	elem = func(c xml.StartElement) error { return p.ssml(c, &t, v, elem) }
	if err := p.walk(se, t.write, elem); err != nil {
		return nil, err
	}
	v.Text = t.done()
	if v.Text == "" {
		p.warn(CodeSayText, "Say", "", "<Say> has no text")
	} else if n := utf8.RuneCountInString(v.Text); n > 4096 {
		p.warn(CodeSayLength, "Say", "", "<Say> text is %d characters, more than 4096", n)
	}
	return v, nil
}

// ssmlInline are SSML elements whose text is spoken as part of the
// sentence.
var ssmlInline = nameSet("emphasis", "lang", "phoneme", "prosody", "say-as", "w", "speak")

// ssml reads an element inside <Say>: SSML contributes its text, anything
// else is skipped with a warning.
func (p *parser) ssml(c xml.StartElement, t *textBuf, v *Say, elem func(xml.StartElement) error) error {
	name := c.Name.Local
	_, inline := ssmlInline[name]
	if c.Name.Space != "" {
		// <amazon:effect>, <amazon:domain> (Polly)
		inline = c.Name.Space == "amazon" && (name == "effect" || name == "domain")
	}
	switch {
	case inline:
		v.SSML = true
		return p.walk(c, t.write, elem)
	case c.Name.Space != "":
	case name == "break":
		v.SSML = true
		t.sep()
		return p.skip(c)
	case name == "p" || name == "s":
		v.SSML = true
		t.sep()
		err := p.walk(c, t.write, elem)
		t.sep()
		return err
	case name == "sub":
		v.SSML = true
		for _, at := range c.Attr {
			if at.Name.Space == "" && at.Name.Local == "alias" {
				t.write([]byte(at.Value))
				return p.skip(c)
			}
		}
		return p.walk(c, t.write, elem)
	}
	p.warn(CodeSchema, "Say", "", "element <%s> in <Say> ignored", qname(c.Name))
	return p.skip(c)
}

func (p *parser) play(se xml.StartElement) (*Play, error) {
	a := p.attrs("Play", se, playAttrs)
	v := &Play{Loop: a.loop(CodePlayLoop), Attrs: a.m}
	if d := a.str("digits"); d != "" {
		if onlyChars(d, "0123456789ABCDabcd*#wW") {
			v.Digits = strings.Map(func(r rune) rune {
				if r >= 'a' && r <= 'd' {
					return r - 'a' + 'A'
				}
				return r
			}, d)
		} else {
			a.warn(CodePlayDigits, "digits", "invalid digits %q on <Play>: DTMF is 0-9, A-D, *, #, w and W; ignored", d)
		}
	}
	raw := p.rawBuf()
	err := p.walk(se, raw.write, func(c xml.StartElement) error {
		p.unexpectedChild("Play", c)
		return p.skip(c)
	})
	if err != nil {
		return nil, err
	}
	v.URL = raw.done()
	return v, nil
}

func (p *parser) pause(se xml.StartElement) (*Pause, error) {
	a := p.attrs("Pause", se, pauseAttrs)
	v := &Pause{Length: a.seconds("length", 1, 1, 3600, CodePauseLength), Attrs: a.m}
	return v, p.noContent("Pause", se)
}

func (p *parser) gather(se xml.StartElement) (*Gather, error) {
	a := p.attrs("Gather", se, gatherAttrs)
	v := &Gather{
		Method:              a.method("method", CodeGatherMethod),
		FinishOnKey:         a.keys("finishOnKey", "#", CodeFinishOnKey),
		NumDigits:           a.integer("numDigits", 0, 0, int(^uint(0)>>1), CodeNumDigits),
		ActionOnEmptyResult: a.boolean("actionOnEmptyResult", false, CodeEmptyResult),
		Input:               gatherInput(a),
		Attrs:               a.m,
	}
	v.Action, v.ActionSet = a.value("action")
	if len(v.FinishOnKey) > 1 {
		a.warn(CodeFinishOnKey, "finishOnKey", "finishOnKey %q on <Gather> should be a single key; any of them will end the input", v.FinishOnKey)
	}
	if t := a.str("timeout"); strings.EqualFold(t, "auto") {
		v.Timeout = 5 * time.Second
	} else {
		v.Timeout = a.seconds("timeout", 5, 1, 3600, CodeGatherTime)
	}
	text := func(b []byte) {
		if !isSpace(b) {
			p.warn(CodeSchema, "Gather", "", "text %q in <Gather> ignored", excerpt(b))
		}
	}
	err := p.walk(se, text, func(c xml.StartElement) error {
		switch c.Name.Local {
		case "Say":
			s, err := p.say(c, true)
			if err == nil {
				v.Nested = append(v.Nested, s)
			}
			return err
		case "Play":
			pl, err := p.play(c)
			if err == nil {
				if pl.Digits != "" {
					p.warn(CodeGatherNested, "Play", "digits", "<Play digits> is not allowed in <Gather>; dropped")
				} else {
					v.Nested = append(v.Nested, pl)
				}
			}
			return err
		case "Pause":
			pa, err := p.pause(c)
			if err == nil {
				v.Nested = append(v.Nested, pa)
			}
			return err
		}
		p.warn(CodeGatherNested, c.Name.Local, "", "<%s> is not allowed in <Gather> (only Say, Play and Pause); dropped", c.Name.Local)
		return p.skip(c)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// gatherInput normalises input to "dtmf", "speech" or "dtmf speech".
func gatherInput(a attrs) string {
	v := a.str("input")
	if v == "" {
		return "dtmf"
	}
	var dtmf, speech, bad bool
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' }) {
		switch {
		case strings.EqualFold(f, "dtmf"):
			dtmf = true
		case strings.EqualFold(f, "speech"):
			speech = true
		default:
			bad = true
		}
	}
	if bad {
		a.warn(CodeInput, "input", "invalid input %q on <Gather>: must be dtmf, speech or both", v)
	}
	switch {
	case dtmf && speech:
		return "dtmf speech"
	case speech:
		return "speech"
	}
	return "dtmf"
}

func (p *parser) dial(se xml.StartElement) (*Dial, error) {
	a := p.attrs("Dial", se, dialAttrs)
	v := &Dial{
		Method:         a.method("method", CodeDialMethod),
		Timeout:        a.seconds("timeout", 30, 5, 600, CodeDialTimeout),
		CallerID:       a.str("callerId"),
		TimeLimit:      a.seconds("timeLimit", 14400, 1, 86400, CodeTimeLimit),
		HangupOnStar:   a.boolean("hangupOnStar", false, CodeHangupOnStar),
		Record:         dialRecord(a),
		AnswerOnBridge: a.boolean("answerOnBridge", false, CodeAnswerOnBr),
		Sequential:     a.boolean("sequential", false, CodeSequential),
		Attrs:          a.m,
	}
	v.Action, v.ActionSet = a.value("action")
	if strings.EqualFold(a.str("strategy"), "single") { // Kazoo
		v.Sequential = true
	}
	raw := p.rawBuf()
	err := p.walk(se, raw.write, func(c xml.StartElement) error {
		name := c.Name.Local
		kind, ok := nounKinds[name]
		if !ok {
			if unsupportedNouns[name] {
				p.warn(CodeDialNoun, name, "", "<%s> in <Dial> is not supported; skipped", name)
			} else {
				p.warn(CodeDialNoun, name, "", "invalid element <%s> in <Dial> skipped", name)
			}
			return p.skip(c)
		}
		n, err := p.noun(c, kind)
		if err == nil {
			if n.Value == "" {
				p.warn(CodeDialNoun, name, "", "empty <%s> in <Dial> skipped", name)
			} else {
				v.Nouns = append(v.Nouns, n)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	textBytes := raw.bytes()
	text := raw.done()
	switch {
	case text != "" && len(v.Nouns) == 0:
		v.Nouns = []Noun{{Kind: "number", Value: text}}
	case text != "":
		p.warn(CodeDialNoun, "Dial", "", "text %q in <Dial> beside nouns ignored", excerpt(textBytes))
	case len(v.Nouns) == 0:
		p.warn(CodeDialNoun, "Dial", "", "<Dial> has nothing to dial")
	}
	return v, nil
}

// dialRecord normalises Dial's record attribute.
func dialRecord(a attrs) string {
	v := a.str("record")
	switch {
	case v == "":
		return "do-not-record"
	case strings.EqualFold(v, "true"):
		return "record-from-answer"
	case strings.EqualFold(v, "false"):
		return "do-not-record"
	}
	return a.enum("record", "do-not-record", CodeDialRecord, "do-not-record", "record-from-answer",
		"record-from-ringing", "record-from-answer-dual", "record-from-ringing-dual")
}

// noun reads a Dial noun. Client takes its identity from the text or from
// <Identity>; Sip from the text or <Uri>; <Parameter> children are kept.
func (p *parser) noun(se xml.StartElement, kind string) (Noun, error) {
	name := se.Name.Local
	a := p.attrs(name, se, nounAttrs[name])
	n := Noun{Kind: kind, Attrs: a.m}
	raw := p.rawBuf()
	var inner string
	err := p.walk(se, raw.write, func(c xml.StartElement) error {
		switch cn := c.Name.Local; {
		case cn == "Parameter":
			pv, ok, err := p.variable(c, name, "name", paramAttrs)
			if ok {
				n.Parameters = append(n.Parameters, pv)
			}
			return err
		case (kind == "client" && cn == "Identity") || (kind == "sip" && cn == "Uri"):
			rb := p.rawBuf()
			err := p.walk(c, rb.write, func(cc xml.StartElement) error {
				p.unexpectedChild(cn, cc)
				return p.skip(cc)
			})
			if s := rb.done(); inner == "" {
				inner = s
			}
			return err
		}
		p.unexpectedChild(name, c)
		return p.skip(c)
	})
	n.Value = raw.done()
	if n.Value == "" {
		n.Value = inner
	}
	return n, err
}

// variable reads a <Variable key value/> (keyAttr "key") or a <Parameter
// name value/> (keyAttr "name"); ok is false when it has no key.
func (p *parser) variable(se xml.StartElement, parent, keyAttr string, known names) (v Variable, ok bool, err error) {
	name := se.Name.Local
	a := p.attrs(name, se, known)
	if err := p.noContent(name, se); err != nil {
		return v, false, err
	}
	v.Key = a.str(keyAttr)
	if v.Key == "" {
		p.warn(CodeSchema, name, keyAttr, "<%s> in <%s> without %s ignored", name, parent, keyAttr)
		return v, false, nil
	}
	v.Value = a.m["value"]
	return v, true, nil
}

// variables reads the <Variable> children of se (and its text, into raw
// when raw is not nil).
func (p *parser) variables(se xml.StartElement, raw *rawBuf) ([]Variable, error) {
	verb := se.Name.Local
	var vars []Variable
	text := func(b []byte) {
		if raw != nil {
			raw.write(b)
		} else if !isSpace(b) {
			p.warn(CodeSchema, verb, "", "text %q in <%s> ignored", excerpt(b), verb)
		}
	}
	err := p.walk(se, text, func(c xml.StartElement) error {
		if c.Name.Local != "Variable" {
			p.unexpectedChild(verb, c)
			return p.skip(c)
		}
		v, ok, err := p.variable(c, verb, "key", variableAttrs)
		if ok {
			vars = append(vars, v)
		}
		return err
	})
	return vars, err
}

func (p *parser) record(se xml.StartElement) (*Record, error) {
	a := p.attrs("Record", se, recordAttrs)
	v := &Record{
		Method:                  a.method("method", CodeRecordMethod),
		Timeout:                 a.seconds("timeout", 5, 0, 3600, CodeRecordTime),
		FinishOnKey:             a.keys("finishOnKey", "1234567890*#", CodeRecordKey),
		MaxLength:               a.seconds("maxLength", 3600, 1, 86400, CodeMaxLength),
		PlayBeep:                a.boolean("playBeep", true, CodePlayBeep),
		Trim:                    a.enum("trim", "trim-silence", CodeSchema, "trim-silence", "do-not-trim"),
		Transcribe:              a.boolean("transcribe", false, CodeTranscribe),
		RecordingStatusCallback: a.str("recordingStatusCallback"),
		Attrs:                   a.m,
	}
	v.Action, v.ActionSet = a.value("action")
	return v, p.noContent("Record", se)
}

func (p *parser) redirect(se xml.StartElement) (*Redirect, error) {
	a := p.attrs("Redirect", se, redirectAttrs)
	v := &Redirect{Method: a.method("method", CodeRedirMethod), Attrs: a.m}
	raw := p.rawBuf()
	vars, err := p.variables(se, &raw)
	if err != nil {
		return nil, err
	}
	v.URL, v.Variables = raw.done(), vars
	return v, nil
}

func (p *parser) hangup(se xml.StartElement) (*Hangup, error) {
	a := p.attrs("Hangup", se, noAttrs)
	return &Hangup{Attrs: a.m}, p.noContent("Hangup", se, "Parameter")
}

func (p *parser) reject(se xml.StartElement) (*Reject, error) {
	a := p.attrs("Reject", se, rejectAttrs)
	v := &Reject{Reason: a.enum("reason", "rejected", CodeRejectReason, "rejected", "busy"), Attrs: a.m}
	return v, p.noContent("Reject", se, "Parameter")
}

func (p *parser) enqueue(se xml.StartElement) (*Enqueue, error) {
	a := p.attrs("Enqueue", se, enqueueAttrs)
	v := &Enqueue{
		Method:        a.method("method", CodeEnqMethod),
		WaitURL:       a.str("waitUrl"),
		WaitURLMethod: a.method("waitUrlMethod", CodeWaitMethod),
		Attrs:         a.m,
	}
	v.Action, v.ActionSet = a.value("action")
	raw := p.rawBuf()
	err := p.walk(se, raw.write, func(c xml.StartElement) error {
		if c.Name.Local == "Task" {
			p.warn(CodeSchema, "Task", "", "<Task> (TaskRouter) in <Enqueue> is not supported; ignored")
		} else {
			p.unexpectedChild("Enqueue", c)
		}
		return p.skip(c)
	})
	if err != nil {
		return nil, err
	}
	v.Queue = raw.done()
	if v.Queue == "" {
		p.warn(CodeQueueShort, "Enqueue", "", "<Enqueue> has no queue name")
	} else if n := utf8.RuneCountInString(v.Queue); n > 64 {
		p.warn(CodeQueueLong, "Enqueue", "", "queue name is %d characters, more than 64", n)
	}
	return v, nil
}

func (p *parser) leave(se xml.StartElement) (*Leave, error) {
	a := p.attrs("Leave", se, noAttrs)
	return &Leave{Attrs: a.m}, p.noContent("Leave", se)
}

func (p *parser) sms(se xml.StartElement) (*Sms, error) {
	a := p.attrs("Sms", se, smsAttrs)
	v := &Sms{
		To:             a.str("to"),
		From:           a.str("from"),
		Method:         a.method("method", CodeSmsMethod),
		StatusCallback: a.str("statusCallback"),
		Attrs:          a.m,
	}
	v.Action, v.ActionSet = a.value("action")
	raw := p.rawBuf()
	err := p.walk(se, raw.write, func(c xml.StartElement) error {
		p.unexpectedChild("Sms", c)
		return p.skip(c)
	})
	if err != nil {
		return nil, err
	}
	v.Body = raw.done()
	if v.Body == "" {
		p.warn(CodeSmsBody, "Sms", "", "<Sms> has no body")
	}
	return v, nil
}

func (p *parser) set(se xml.StartElement) (*Set, error) {
	a := p.attrs("Set", se, noAttrs)
	vars, err := p.variables(se, nil)
	if err != nil {
		return nil, err
	}
	return &Set{Variables: vars, Attrs: a.m}, nil
}
