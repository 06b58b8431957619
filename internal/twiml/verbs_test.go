package twiml

// Parsing of the verbs with attributes and nouns: Gather to Set.

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestGatherAttributes(t *testing.T) {
	def := Gather{Method: "POST", Timeout: 5 * time.Second, FinishOnKey: "#", Input: "dtmf"}
	with := func(f func(g *Gather)) Gather { g := def; f(&g); return g }
	tests := []struct {
		verb  string
		want  Gather
		codes []int
	}{
		{`<Gather/>`, def, nil},
		{`<Gather action="/menu" method="GET" timeout="10" finishOnKey="*" numDigits="4" actionOnEmptyResult="true" input="dtmf speech"/>`,
			Gather{Action: "/menu", ActionSet: true, Method: "GET", Timeout: 10 * time.Second, FinishOnKey: "*", NumDigits: 4, ActionOnEmptyResult: true, Input: "dtmf speech"}, nil},
		{`<Gather action=""/>`, with(func(g *Gather) { g.ActionSet = true }), nil},
		{`<Gather action="  https://x.test/a  "/>`, with(func(g *Gather) { g.Action, g.ActionSet = "https://x.test/a", true }), nil},
		{`<Gather method="get"/>`, with(func(g *Gather) { g.Method = "GET" }), nil},
		{`<Gather method="Post"/>`, def, nil},
		{`<Gather method="PUT"/>`, def, []int{13312}},
		{`<Gather finishOnKey=""/>`, with(func(g *Gather) { g.FinishOnKey = "" }), nil},
		{`<Gather finishOnKey="5"/>`, with(func(g *Gather) { g.FinishOnKey = "5" }), nil},
		{`<Gather finishOnKey="#*"/>`, with(func(g *Gather) { g.FinishOnKey = "#*" }), []int{13310}},
		{`<Gather finishOnKey="x"/>`, def, []int{13310}},
		{`<Gather numDigits="0"/>`, def, nil},
		{`<Gather numDigits="1"/>`, with(func(g *Gather) { g.NumDigits = 1 }), nil},
		{`<Gather numDigits="-1"/>`, def, []int{13314}},
		{`<Gather numDigits="one"/>`, def, []int{13314}},
		{`<Gather timeout="auto"/>`, def, nil},
		{`<Gather timeout="0"/>`, with(func(g *Gather) { g.Timeout = time.Second }), []int{13313}},
		{`<Gather timeout="x"/>`, def, []int{13313}},
		{`<Gather timeout="-5"/>`, def, []int{13313}},
		{`<Gather timeout="7200"/>`, with(func(g *Gather) { g.Timeout = time.Hour }), []int{13313}},
		{`<Gather actionOnEmptyResult="TRUE"/>`, with(func(g *Gather) { g.ActionOnEmptyResult = true }), nil},
		{`<Gather actionOnEmptyResult="yes"/>`, def, []int{13338}},
		{`<Gather input="speech"/>`, with(func(g *Gather) { g.Input = "speech" }), nil},
		{`<Gather input="Speech DTMF"/>`, with(func(g *Gather) { g.Input = "dtmf speech" }), nil},
		{`<Gather input="dtmf,speech"/>`, with(func(g *Gather) { g.Input = "dtmf speech" }), nil},
		{`<Gather input="voice"/>`, def, []int{13326}},
		{`<Gather speechTimeout="auto" language="fr-FR" hints="a,b" bargeIn="true"/>`, def, nil},
		{`<Gather finishonkey="*"/>`, def, []int{12200}},
	}
	for _, tt := range tests {
		v, d := one[*Gather](t, tt.verb)
		v.Attrs = nil
		if !reflect.DeepEqual(*v, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.verb, *v, tt.want)
		}
		wantCodes(t, tt.verb, d, tt.codes...)
	}
}

func TestGatherNested(t *testing.T) {
	v, d := one[*Gather](t, `<Gather action="/g" numDigits="1">
		<Say loop="2">Press 1</Say>
		<Play>beep.mp3</Play>
		<Pause length="2"/>
		<Play digits="123"/>
		<Dial>+15550100</Dial>
		<Gather/>
		<Redirect>/x</Redirect>
		<say>lower</say>
		stray text
		<Say loop="x">again</Say>
	</Gather>`)
	want := []Verb{
		&Say{Text: "Press 1", Loop: 2, Attrs: map[string]string{"loop": "2"}},
		&Play{URL: "beep.mp3", Loop: 1},
		&Pause{Length: 2 * time.Second, Attrs: map[string]string{"length": "2"}},
		&Say{Text: "again", Loop: 1, Attrs: map[string]string{"loop": "x"}},
	}
	if !reflect.DeepEqual(v.Nested, want) {
		t.Errorf("nested %#v", v.Nested)
	}
	wantCodes(t, "nested", d, 13320, 13320, 13320, 13320, 13320, 12200, 13322)
	if d.Warnings[0].Verb != "Play" || d.Warnings[1].Verb != "Dial" || d.Warnings[4].Verb != "say" {
		t.Errorf("warnings %+v", d.Warnings)
	}
	// Verbs after the Gather are still there.
	d = parseOK(t, `<Response><Gather><Say>a</Say></Gather><Say>b</Say><Redirect/></Response>`)
	if len(d.Verbs) != 3 {
		t.Errorf("verbs %v", d.Verbs)
	}
}

func TestDialAttributes(t *testing.T) {
	def := Dial{Method: "POST", Timeout: 30 * time.Second, TimeLimit: 14400 * time.Second, Record: "do-not-record",
		Nouns: []Noun{{Kind: "number", Value: "+15550100"}}}
	with := func(f func(g *Dial)) Dial { g := def; f(&g); return g }
	tests := []struct {
		attrs string
		want  Dial
		codes []int
	}{
		{``, def, nil},
		{`action="/done" method="GET" timeout="20" callerId=" +15550199 " timeLimit="60" hangupOnStar="true" record="record-from-answer" answerOnBridge="true" sequential="true"`,
			Dial{Action: "/done", ActionSet: true, Method: "GET", Timeout: 20 * time.Second, CallerID: "+15550199", TimeLimit: time.Minute,
				HangupOnStar: true, Record: "record-from-answer", AnswerOnBridge: true, Sequential: true, Nouns: def.Nouns}, nil},
		{`method="get"`, with(func(g *Dial) { g.Method = "GET" }), nil},
		{`method="DELETE"`, def, []int{13210}},
		{`timeout="2"`, with(func(g *Dial) { g.Timeout = 5 * time.Second }), []int{13212}},
		{`timeout="601"`, with(func(g *Dial) { g.Timeout = 600 * time.Second }), []int{13212}},
		{`timeout="soon"`, def, []int{13212}},
		{`timeLimit="x"`, def, []int{13216}},
		{`timeLimit="-1"`, def, []int{13216}},
		{`hangupOnStar="TRUE"`, with(func(g *Dial) { g.HangupOnStar = true }), nil},
		{`hangupOnStar="1"`, def, []int{13213}},
		{`answerOnBridge="maybe"`, def, []int{13219}},
		{`sequential="x"`, def, []int{13218}},
		{`strategy="single"`, with(func(g *Dial) { g.Sequential = true }), nil},
		{`record="true"`, with(func(g *Dial) { g.Record = "record-from-answer" }), nil},
		{`record="FALSE"`, def, nil},
		{`record="Record-From-Ringing-Dual"`, with(func(g *Dial) { g.Record = "record-from-ringing-dual" }), nil},
		{`record="always"`, def, []int{13217}},
		{`ringTone="uk" recordingStatusCallback="/r" trim="do-not-trim"`, def, nil},
		{`callerID="+1"`, def, []int{12200}},
	}
	for _, tt := range tests {
		verb := "<Dial " + tt.attrs + "> +15550100 </Dial>"
		v, d := one[*Dial](t, verb)
		v.Attrs = nil
		if !reflect.DeepEqual(*v, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", verb, *v, tt.want)
		}
		wantCodes(t, verb, d, tt.codes...)
	}
}

func TestDialNouns(t *testing.T) {
	tests := []struct {
		verb  string
		want  []Noun
		codes []int
	}{
		{"<Dial>\n    415-555-1212\n</Dial>", []Noun{{Kind: "number", Value: "415-555-1212"}}, nil},
		{"<Dial><!-- c -->(415) 555-1212</Dial>", []Noun{{Kind: "number", Value: "(415) 555-1212"}}, nil},
		{`<Dial>
			<Number sendDigits="wwww1928">+14155550100</Number>
			<Number url="/screen" method="GET">
				+14155550101
			</Number>
		</Dial>`, []Noun{
			{Kind: "number", Value: "+14155550100", Attrs: map[string]string{"sendDigits": "wwww1928"}},
			{Kind: "number", Value: "+14155550101", Attrs: map[string]string{"url": "/screen", "method": "GET"}},
		}, nil},
		{"<Dial><Sip username=\"u\" password=\"p\">\n  sip:alice@example.com;transport=tcp?X-Id=1&amp;X-B=2\n</Sip></Dial>", []Noun{
			{Kind: "sip", Value: "sip:alice@example.com;transport=tcp?X-Id=1&X-B=2", Attrs: map[string]string{"username": "u", "password": "p"}},
		}, nil},
		{"<Dial><Sip><Uri> sip:b@example.com </Uri></Sip></Dial>", []Noun{{Kind: "sip", Value: "sip:b@example.com"}}, nil},
		{"<Dial><Client>joey</Client></Dial>", []Noun{{Kind: "client", Value: "joey"}}, nil},
		{`<Dial><Client><Identity> user_jane </Identity><Parameter name="FirstName" value="Jane"/><Parameter name="" value="x"/></Client></Dial>`, []Noun{
			{Kind: "client", Value: "user_jane", Parameters: []Variable{{Key: "FirstName", Value: "Jane"}}},
		}, []int{12200}},
		{`<Dial><Conference startConferenceOnEnter="false" waitUrl="">Room 1234</Conference></Dial>`, []Noun{
			{Kind: "conference", Value: "Room 1234", Attrs: map[string]string{"startConferenceOnEnter": "false", "waitUrl": ""}},
		}, nil},
		{`<Dial><Queue url="about_to_connect.xml">support</Queue></Dial>`, []Noun{
			{Kind: "queue", Value: "support", Attrs: map[string]string{"url": "about_to_connect.xml"}},
		}, nil},
		{`<Dial><User>u1</User><Device>d1</Device></Dial>`, []Noun{{Kind: "user", Value: "u1"}, {Kind: "device", Value: "d1"}}, nil},
		{`<Dial><Number>+1</Number><Sip>sip:x@y</Sip></Dial>`, []Noun{{Kind: "number", Value: "+1"}, {Kind: "sip", Value: "sip:x@y"}}, nil},
		{`<Dial><Application>AP123</Application><Number>+1</Number></Dial>`, []Noun{{Kind: "number", Value: "+1"}}, []int{13215}},
		{`<Dial><number>+1</number><Number>+2</Number></Dial>`, []Noun{{Kind: "number", Value: "+2"}}, []int{13215}},
		{`<Dial><Number> </Number></Dial>`, nil, []int{13215, 13215}},
		{`<Dial></Dial>`, nil, []int{13215}},
		{`<Dial/>`, nil, []int{13215}},
		{`<Dial>+1<Number>+2</Number></Dial>`, []Noun{{Kind: "number", Value: "+2"}}, []int{13215}},
		{`<Dial><Number foo="x">+1</Number></Dial>`, []Noun{{Kind: "number", Value: "+1", Attrs: map[string]string{"foo": "x"}}}, []int{12200}},
		{`<Dial><Number>+1<b/></Number></Dial>`, []Noun{{Kind: "number", Value: "+1"}}, []int{12200}},
	}
	for _, tt := range tests {
		v, d := one[*Dial](t, tt.verb)
		if !reflect.DeepEqual(v.Nouns, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.verb, v.Nouns, tt.want)
		}
		wantCodes(t, tt.verb, d, tt.codes...)
	}
}

func TestRecord(t *testing.T) {
	def := Record{Method: "POST", Timeout: 5 * time.Second, FinishOnKey: "1234567890*#", MaxLength: time.Hour, PlayBeep: true, Trim: "trim-silence"}
	with := func(f func(g *Record)) Record { g := def; f(&g); return g }
	tests := []struct {
		verb  string
		want  Record
		codes []int
	}{
		{`<Record/>`, def, nil},
		{`<Record action="/vm" method="GET" timeout="10" finishOnKey="#" maxLength="30" playBeep="false" trim="do-not-trim" transcribe="true" recordingStatusCallback=" /cb "/>`,
			Record{Action: "/vm", ActionSet: true, Method: "GET", Timeout: 10 * time.Second, FinishOnKey: "#", MaxLength: 30 * time.Second,
				Trim: "do-not-trim", Transcribe: true, RecordingStatusCallback: "/cb"}, nil},
		{`<Record timeout="0"/>`, with(func(g *Record) { g.Timeout = 0 }), nil},
		{`<Record timeout="x"/>`, def, []int{13611}},
		{`<Record maxLength="x"/>`, def, []int{13612}},
		{`<Record maxLength="0"/>`, with(func(g *Record) { g.MaxLength = time.Second }), []int{13612}},
		{`<Record maxLength="14400"/>`, with(func(g *Record) { g.MaxLength = 4 * time.Hour }), nil},
		{`<Record maxLength="100000"/>`, with(func(g *Record) { g.MaxLength = 24 * time.Hour }), []int{13612}},
		{`<Record finishOnKey=""/>`, with(func(g *Record) { g.FinishOnKey = "" }), nil},
		{`<Record finishOnKey="*#"/>`, with(func(g *Record) { g.FinishOnKey = "*#" }), nil},
		{`<Record finishOnKey="abc"/>`, def, []int{13613}},
		{`<Record playBeep="FALSE"/>`, with(func(g *Record) { g.PlayBeep = false }), nil},
		{`<Record playBeep="no"/>`, def, []int{13616}},
		{`<Record trim="Do-Not-Trim"/>`, with(func(g *Record) { g.Trim = "do-not-trim" }), nil},
		{`<Record trim="x"/>`, def, []int{12200}},
		{`<Record transcribe="x"/>`, def, []int{13614}},
		{`<Record method="head"/>`, def, []int{13610}},
		{`<Record>text</Record>`, def, []int{12200}},
	}
	for _, tt := range tests {
		v, d := one[*Record](t, tt.verb)
		v.Attrs = nil
		if !reflect.DeepEqual(*v, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.verb, *v, tt.want)
		}
		wantCodes(t, tt.verb, d, tt.codes...)
	}
}

func TestRedirect(t *testing.T) {
	tests := []struct {
		verb  string
		want  Redirect
		codes []int
	}{
		{`<Redirect>https://example.com/next</Redirect>`, Redirect{URL: "https://example.com/next", Method: "POST"}, nil},
		{"<Redirect method=\"get\">\n   ../nextInstructions\n</Redirect>", Redirect{URL: "../nextInstructions", Method: "GET"}, nil},
		{`<Redirect></Redirect>`, Redirect{Method: "POST"}, nil},
		{`<Redirect/>`, Redirect{Method: "POST"}, nil},
		{`<Redirect method="PATCH">/x</Redirect>`, Redirect{URL: "/x", Method: "POST"}, []int{13710}},
		{`<Redirect>/x?a=1&amp;b=2</Redirect>`, Redirect{URL: "/x?a=1&b=2", Method: "POST"}, nil},
		{`<Redirect>/next<Variable key="k1" value="v1"/><Variable key="k2"/></Redirect>`,
			Redirect{URL: "/next", Method: "POST", Variables: []Variable{{"k1", "v1"}, {"k2", ""}}}, nil},
		{`<Redirect>/next<Variable value="v"/><Other/></Redirect>`, Redirect{URL: "/next", Method: "POST"}, []int{12200, 12200}},
	}
	for _, tt := range tests {
		v, d := one[*Redirect](t, tt.verb)
		v.Attrs = nil
		if !reflect.DeepEqual(*v, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.verb, *v, tt.want)
		}
		wantCodes(t, tt.verb, d, tt.codes...)
	}
}

func TestHangupReject(t *testing.T) {
	h, d := one[*Hangup](t, `<Hangup/>`)
	wantCodes(t, "Hangup", d)
	if h.Attrs != nil {
		t.Error(h.Attrs)
	}
	h, d = one[*Hangup](t, `<Hangup reason="rejected"/>`)
	wantCodes(t, "Hangup reason", d, 12200)
	if h.Attrs["reason"] != "rejected" {
		t.Error(h.Attrs)
	}
	_, d = one[*Hangup](t, `<Hangup><Parameter name="a" value="b"/></Hangup>`)
	wantCodes(t, "Hangup Parameter", d)

	tests := []struct {
		verb  string
		want  string
		codes []int
	}{
		{`<Reject/>`, "rejected", nil},
		{`<Reject reason="busy"/>`, "busy", nil},
		{`<Reject reason="Busy"/>`, "busy", nil},
		{`<Reject reason="REJECTED"/>`, "rejected", nil},
		{`<Reject reason=""/>`, "rejected", nil},
		{`<Reject reason="no-answer"/>`, "rejected", []int{13810}},
		{`<Reject reason="busy" prompt="x.mp3"/>`, "busy", nil},
	}
	for _, tt := range tests {
		v, d := one[*Reject](t, tt.verb)
		if v.Reason != tt.want {
			t.Errorf("%s: reason %q, want %q", tt.verb, v.Reason, tt.want)
		}
		wantCodes(t, tt.verb, d, tt.codes...)
	}
}

func TestEnqueueLeaveSmsSet(t *testing.T) {
	e, d := one[*Enqueue](t, `<Enqueue action="/done" method="get" waitUrl=" /wait " waitUrlMethod="GET" maxQueueSize="5"> support </Enqueue>`)
	e.Attrs = nil
	if !reflect.DeepEqual(*e, Enqueue{Queue: "support", Action: "/done", ActionSet: true, Method: "GET", WaitURL: "/wait", WaitURLMethod: "GET"}) {
		t.Errorf("%+v", *e)
	}
	wantCodes(t, "Enqueue", d)
	e, d = one[*Enqueue](t, `<Enqueue method="x" waitUrlMethod="y"></Enqueue>`)
	if e.Method != "POST" || e.WaitURLMethod != "POST" || e.ActionSet {
		t.Errorf("%+v", *e)
	}
	wantCodes(t, "Enqueue bad", d, 14201, 14206, 14204)
	_, d = one[*Enqueue](t, "<Enqueue>"+strings.Repeat("q", 65)+"</Enqueue>")
	wantCodes(t, "Enqueue long", d, 14205)
	_, d = one[*Enqueue](t, `<Enqueue workflowSid="WW1"><Task>{"a":1}</Task></Enqueue>`)
	wantCodes(t, "Enqueue Task", d, 12200, 14204)

	_, d = one[*Leave](t, `<Leave/>`)
	wantCodes(t, "Leave", d)

	s, d := one[*Sms](t, `<Sms to="+1555" from="+1666" action="/sms" method="GET" statusCallback="/st">  Hello &amp; bye  </Sms>`)
	s.Attrs = nil
	if !reflect.DeepEqual(*s, Sms{To: "+1555", From: "+1666", Body: "Hello & bye", Action: "/sms", ActionSet: true, Method: "GET", StatusCallback: "/st"}) {
		t.Errorf("%+v", *s)
	}
	wantCodes(t, "Sms", d)
	_, d = one[*Sms](t, `<Sms method="x"/>`)
	wantCodes(t, "Sms empty", d, 14104, 14103)

	st, d := one[*Set](t, `<Set><Variable key="plan" value="gold"/> <Variable key=" tier " value=" 2 "/></Set>`)
	if !reflect.DeepEqual(st.Variables, []Variable{{"plan", "gold"}, {"tier", " 2 "}}) {
		t.Errorf("%+v", st.Variables)
	}
	wantCodes(t, "Set", d)
	st, d = one[*Set](t, `<Set>text<Variable/><Var key="x"/><Variable key="k" value="v" extra="1">t</Variable></Set>`)
	if !reflect.DeepEqual(st.Variables, []Variable{{"k", "v"}}) {
		t.Errorf("%+v", st.Variables)
	}
	wantCodes(t, "Set bad", d, 12200, 12200, 12200, 12200, 12200)
}
