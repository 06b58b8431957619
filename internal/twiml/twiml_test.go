package twiml

import (
	"bytes"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// parseOK parses body, failing the test on an error.
func parseOK(t *testing.T, body string) *Document {
	t.Helper()
	d, err := Parse([]byte(body))
	if err != nil {
		t.Fatalf("Parse(%q): %v", body, err)
	}
	return d
}

// one parses <Response>verb</Response> and returns its only verb.
func one[V Verb](t *testing.T, verb string) (V, *Document) {
	t.Helper()
	d := parseOK(t, "<Response>"+verb+"</Response>")
	var zero V
	if len(d.Verbs) != 1 {
		t.Fatalf("%s: %d verbs, want 1 (warnings %v)", verb, len(d.Verbs), d.Warnings)
	}
	v, ok := d.Verbs[0].(V)
	if !ok {
		t.Fatalf("%s: verb is %T, want %T", verb, d.Verbs[0], zero)
	}
	return v, d
}

// codes lists the codes of d's warnings.
func codes(d *Document) []int {
	var c []int
	for _, w := range d.Warnings {
		c = append(c, w.Code)
	}
	return c
}

// wantCodes fails unless d's warnings have exactly these codes, in order.
func wantCodes(t *testing.T, what string, d *Document, want ...int) {
	t.Helper()
	if got := codes(d); !reflect.DeepEqual(got, want) && (len(got) != 0 || len(want) != 0) {
		t.Errorf("%s: warning codes %v, want %v (%v)", what, got, want, d.Warnings)
	}
}

func wantError(t *testing.T, name string, body []byte, code int) {
	t.Helper()
	d, err := Parse(body)
	if err == nil {
		t.Errorf("%s: no error, want %d (verbs %v)", name, code, d.Verbs)
		return
	}
	e, ok := errors.AsType[*Error](err)
	if !ok {
		t.Errorf("%s: error %T %v, want *Error", name, err, err)
		return
	}
	if e.Code != code {
		t.Errorf("%s: error %v, want code %d", name, err, code)
	}
	if d != nil {
		t.Errorf("%s: document returned with the error", name)
	}
	if !strings.HasPrefix(err.Error(), strconv.Itoa(code)+": ") {
		t.Errorf("%s: message %q does not start with the code", name, err.Error())
	}
}

func nest(depth int) string {
	return "<Response>" + strings.Repeat("<Say>", depth-1) + "x" + strings.Repeat("</Say>", depth-1) + "</Response>"
}

func TestErrors(t *testing.T) {
	big := "<Response><Say>" + strings.Repeat("a", MaxDocumentSize) + "</Say></Response>"
	tests := []struct {
		name string
		body string
		code int
	}{
		{"empty", "", 12100},
		{"whitespace", " \r\n\t ", 12100},
		{"BOM only", "\xEF\xBB\xBF", 12100},
		{"declaration only", `<?xml version="1.0"?>`, 12100},
		{"comment only", `<!-- nothing -->`, 12100},
		{"plain text", "Hello world", 12100},
		{"JSON", `{"say":"hi"}`, 12100},
		{"HTML error page", "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>", 12102},
		{"HTML entity", "<Response><Say>caf&eacute;</Say></Response>", 12100},
		{"bare ampersand", "<Response><Say>Tom & Jerry</Say></Response>", 12100},
		{"wrong root", "<Foo><Say>x</Say></Foo>", 12102},
		{"lower-case root", "<response><Say>x</Say></response>", 12102},
		{"unclosed root", "<Response><Say>x</Say>", 12100},
		{"unclosed verb", "<Response><Say>x</Response>", 12100},
		{"mismatched tags", "<Response><Say>x</Play></Response>", 12100},
		{"stray end tag", "</Response>", 12100},
		{"two roots", "<Response/><Response/>", 12100},
		{"text after root", "<Response/>trailing", 12100},
		{"text before root", "oops<Response/>", 12100},
		{"unquoted attribute", "<Response><Say loop=2>x</Say></Response>", 12100},
		{"attribute without value on the root", "<Dial hangupOnStar>1</Dial>", 12100},
		{"attribute without value in Response", "<Response><Dial hangupOnStar>1</Dial></Response>", 12100},
		{"invalid UTF-8", "<Response><Say>\xff</Say></Response>", 12100},
		{"control character", "<Response><Say>\x01</Say></Response>", 12100},
		{"NUL reference", "<Response><Say>&#0;</Say></Response>", 12100},
		{"unterminated declaration", `<?xml version="1.0"`, 12100},
		{"unterminated comment", `<Response><!-- </Response>`, 12100},
		{"unterminated CDATA", `<Response><Say><![CDATA[x</Say></Response>`, 12100},
		{"double dash in comment", `<Response><!-- a -- b --></Response>`, 12100},
		{"too large", big, 11750},
		{"too deep", nest(MaxDepth + 1), 12100},
		{"far too deep", nest(20000), 11750},
		{"deep inside an unknown verb", "<Response><Foo>" + strings.Repeat("<a>", MaxDepth) + strings.Repeat("</a>", MaxDepth) + "</Foo></Response>", 12100},
		{"bad version", `<Response version="2.0"><Say>x</Say></Response>`, 12101},
		{"odd UTF-16", "\xFF\xFE<\x00R", 12100},
	}
	for _, tt := range tests {
		wantError(t, tt.name, []byte(tt.body), tt.code)
	}
	// Deep nesting within 64 KiB must be an error, not a stack overflow.
	deep := "<Response>" + strings.Repeat("<a>", 15000) + strings.Repeat("</a>", 1000)
	wantError(t, "15000 levels", []byte(deep), 12100)
}

func TestLimits(t *testing.T) {
	// Exactly at the size limit is accepted.
	head, tail := "<Response><Say>", "</Say></Response>"
	body := head + strings.Repeat("a", MaxDocumentSize-len(head)-len(tail)) + tail
	if len(body) != MaxDocumentSize {
		t.Fatal(len(body))
	}
	parseOK(t, body)
	// MaxDepth levels are accepted.
	d := parseOK(t, "<Response>"+strings.Repeat("<Say>", MaxDepth-1)+"x"+strings.Repeat("</Say>", MaxDepth-1)+"</Response>")
	if len(d.Verbs) != 1 {
		t.Errorf("verbs %v", d.Verbs)
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Code: 12100, Message: "document is not well-formed XML: x"}
	if e.Error() != "12100: document is not well-formed XML: x" {
		t.Error(e.Error())
	}
	_, err := Parse([]byte("<Response><Say>x</Play></Response>"))
	if !strings.HasPrefix(err.Error(), "12100: document is not well-formed XML: line 1: ") {
		t.Error(err)
	}
	_, err = Parse([]byte("<Response>\n<Say>\n&bogus;</Say></Response>"))
	if !strings.Contains(err.Error(), "line 3") {
		t.Errorf("want the line: %v", err)
	}
	_, err = Parse([]byte("<?xml version=\"1.0\"?>\n<Response>\n<Say>\n&bogus;</Say></Response>"))
	if !strings.Contains(err.Error(), "line 4") {
		t.Errorf("want the line counting the declaration: %v", err)
	}
	if w := (Warning{Code: 12200, Message: "m"}); w.String() != "12200: m" {
		t.Error(w.String())
	}
}

func utf16Bytes(s string, bigEndian, bom bool) []byte {
	var b []byte
	u := utf16.Encode([]rune(s))
	if bom {
		u = append([]uint16{0xFEFF}, u...)
	}
	for _, c := range u {
		if bigEndian {
			b = append(b, byte(c>>8), byte(c))
		} else {
			b = append(b, byte(c), byte(c>>8))
		}
	}
	return b
}

func TestXMLHandling(t *testing.T) {
	const doc = `<Response><Say>Café ☎</Say></Response>`
	tests := []struct {
		name string
		body []byte
		text string
	}{
		{"plain", []byte(doc), "Café ☎"},
		{"declaration", []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + doc), "Café ☎"},
		{"declaration 1.1", []byte(`<?xml version="1.1"?>` + doc), "Café ☎"},
		{"whitespace before declaration", []byte("\r\n  \t<?xml version=\"1.0\"?>" + doc), "Café ☎"},
		{"BOM", []byte("\xEF\xBB\xBF" + doc), "Café ☎"},
		{"BOM and declaration", []byte("\xEF\xBB\xBF<?xml version='1.0' encoding='utf-8' ?>" + doc), "Café ☎"},
		{"whitespace and BOM", []byte("\n\xEF\xBB\xBF\n<?xml version='1.0'?>" + doc), "Café ☎"},
		{"surrounding whitespace", []byte("\n\n  " + doc + "\n\n  "), "Café ☎"},
		{"UTF-16LE with BOM", utf16Bytes(`<?xml version="1.0" encoding="UTF-16"?>`+doc, false, true), "Café ☎"},
		{"UTF-16BE with BOM", utf16Bytes(`<?xml version="1.0" encoding="UTF-16"?>`+doc, true, true), "Café ☎"},
		{"UTF-16LE without BOM", utf16Bytes(doc, false, false), "Café ☎"},
		{"ISO-8859-1", []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Response><Say>Caf\xe9 \x80</Say></Response>"), "Café €"},
		{"unknown encoding read as UTF-8", []byte(`<?xml version="1.0" encoding="x-unknown"?>` + doc), "Café ☎"},
		{"entities", []byte(`<Response><Say>&lt;a&gt; &amp; &apos;b&apos; &quot;c&quot; &#65;&#x42;&#x1F600;</Say></Response>`), `<a> & 'b' "c" AB😀`},
		{"CDATA", []byte(`<Response><Say>a <![CDATA[<b> & ]]> c</Say></Response>`), "a <b> & c"},
		{"comments", []byte(`<!-- top --><Response><!-- c --><Say>a<!-- inner -->b</Say><!-- c --></Response><!-- end -->`), "ab"},
		{"processing instructions", []byte(`<?xml-stylesheet href="x"?><Response><?pi data?><Say>a</Say></Response>`), "a"},
		{"doctype", []byte(`<!DOCTYPE Response><Response><Say>a</Say></Response>`), "a"},
		{"CRLF", []byte("<Response>\r\n<Say>a\r\nb</Say>\r\n</Response>"), "a b"},
		{"namespace declaration", []byte(`<Response xmlns="http://www.twilio.com/twiml"><Say>a</Say></Response>`), "a"},
		{"namespace prefixes", []byte(`<tw:Response xmlns:tw="urn:x"><tw:Say xml:lang="en">a</tw:Say></tw:Response>`), "a"},
		{"single quotes", []byte(`<Response><Say voice='alice'>a</Say></Response>`), "a"},
		{"self-closing tag with space", []byte(`<Response><Say>a</Say><Hangup /></Response>`), "a"},
	}
	for _, tt := range tests {
		d, err := Parse(tt.body)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if len(d.Verbs) == 0 {
			t.Errorf("%s: no verbs", tt.name)
			continue
		}
		if s, ok := d.Verbs[0].(*Say); !ok || s.Text != tt.text {
			t.Errorf("%s: first verb %#v, want Say %q", tt.name, d.Verbs[0], tt.text)
		}
		if len(d.Warnings) != 0 {
			t.Errorf("%s: warnings %v", tt.name, d.Warnings)
		}
	}
}

func TestEmptyResponse(t *testing.T) {
	for _, body := range []string{"<Response/>", "<Response></Response>", "<Response>\n  \n</Response>", `<Response version="2010-04-01"/>`, `<Response version="2008-08-01"/>`} {
		d := parseOK(t, body)
		if len(d.Verbs) != 0 || len(d.Warnings) != 0 {
			t.Errorf("%s: %v %v", body, d.Verbs, d.Warnings)
		}
	}
}

func TestSay(t *testing.T) {
	tests := []struct {
		verb  string
		want  Say
		codes []int
	}{
		{`<Say>Hello</Say>`, Say{Text: "Hello", Loop: 1}, nil},
		{"<Say>\n    Hello,\n\t\tworld.   How   are\r\n you?\n</Say>", Say{Text: "Hello, world. How are you?", Loop: 1}, nil},
		{`<Say voice="alice" language="en-GB" loop="3">Hi</Say>`, Say{Text: "Hi", Voice: "alice", Language: "en-GB", Loop: 3}, nil},
		{`<Say voice=" Polly.Joanna-Neural ">Hi</Say>`, Say{Text: "Hi", Voice: "Polly.Joanna-Neural", Loop: 1}, nil},
		{`<Say loop="0">Hi</Say>`, Say{Text: "Hi", Loop: 0}, nil},
		{`<Say loop="1000">Hi</Say>`, Say{Text: "Hi", Loop: 1000}, nil},
		{`<Say loop="5000">Hi</Say>`, Say{Text: "Hi", Loop: MaxLoop}, []int{13510}},
		{`<Say loop="99999999999999999999999">Hi</Say>`, Say{Text: "Hi", Loop: MaxLoop}, []int{13510}},
		{`<Say loop="-1">Hi</Say>`, Say{Text: "Hi", Loop: 1}, []int{13510}},
		{`<Say loop="two">Hi</Say>`, Say{Text: "Hi", Loop: 1}, []int{13510}},
		{`<Say loop="1.5">Hi</Say>`, Say{Text: "Hi", Loop: 1}, []int{13510}},
		{`<Say loop="">Hi</Say>`, Say{Text: "Hi", Loop: 1}, nil},
		{`<Say loop=" 2 ">Hi</Say>`, Say{Text: "Hi", Loop: 2}, nil},
		{`<Say></Say>`, Say{Loop: 1}, []int{13520}},
		{`<Say>   </Say>`, Say{Loop: 1}, []int{13520}},
		{`<Say/>`, Say{Loop: 1}, []int{13520}},
		{`<Say Voice="alice">Hi</Say>`, Say{Text: "Hi", Loop: 1}, []int{12200}},
		// SSML
		{`<Say>Hello <break time="1s"/>world</Say>`, Say{Text: "Hello world", Loop: 1, SSML: true}, nil},
		{`<Say>Hello<break strength="x-weak"/>world</Say>`, Say{Text: "Hello world", Loop: 1, SSML: true}, nil},
		{`<Say>It is <emphasis level="strong">very</emphasis> <prosody rate="slow">important</prosody>.</Say>`, Say{Text: "It is very important.", Loop: 1, SSML: true}, nil},
		{`<Say><p>One.</p><p>Two.</p><s>Three</s><s>four</s></Say>`, Say{Text: "One. Two. Three four", Loop: 1, SSML: true}, nil},
		{`<Say>Call <say-as interpret-as="telephone">4155550100</say-as> or <sub alias="World Wide Web Consortium">W3C</sub></Say>`, Say{Text: "Call 4155550100 or World Wide Web Consortium", Loop: 1, SSML: true}, nil},
		{`<Say><sub>plain</sub></Say>`, Say{Text: "plain", Loop: 1, SSML: true}, nil},
		{`<Say><lang xml:lang="fr-FR">Bonjour</lang> <phoneme alphabet="ipa" ph="təmɑːtəʊ">tomato</phoneme> <w role="amazon:VB">read</w></Say>`, Say{Text: "Bonjour tomato read", Loop: 1, SSML: true}, nil},
		{`<Say><amazon:effect name="whispered">secret</amazon:effect></Say>`, Say{Text: "secret", Loop: 1, SSML: true}, nil},
		{`<Say><speak>wrapped</speak></Say>`, Say{Text: "wrapped", Loop: 1, SSML: true}, nil},
		{`<Say><prosody><emphasis>deep</emphasis>er</prosody></Say>`, Say{Text: "deeper", Loop: 1, SSML: true}, nil},
		{`<Say>Hi <Pause length="2"/>there</Say>`, Say{Text: "Hi there", Loop: 1}, []int{12200}},
		{`<Say>Hi <foo>hidden</foo>there</Say>`, Say{Text: "Hi there", Loop: 1}, []int{12200}},
		{`<Say>a&amp;b <![CDATA[ & c ]]></Say>`, Say{Text: "a&b & c", Loop: 1}, nil},
	}
	for _, tt := range tests {
		v, d := one[*Say](t, tt.verb)
		v.Attrs = nil
		if !reflect.DeepEqual(*v, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.verb, *v, tt.want)
		}
		wantCodes(t, tt.verb, d, tt.codes...)
	}
	// Attrs keeps everything as written.
	v, _ := one[*Say](t, `<Say voice="alice" loop="x" foo="bar">Hi</Say>`)
	if !reflect.DeepEqual(v.Attrs, map[string]string{"voice": "alice", "loop": "x", "foo": "bar"}) {
		t.Errorf("Attrs %v", v.Attrs)
	}
	// Warnings name the verb and the attribute.
	_, d := one[*Say](t, `<Say loop="x" foo="bar">Hi</Say>`)
	if len(d.Warnings) != 2 || d.Warnings[0].Verb != "Say" || d.Warnings[0].Attr != "foo" || d.Warnings[0].Code != 12200 ||
		d.Warnings[1].Attr != "loop" || d.Warnings[1].Code != 13510 {
		t.Errorf("warnings %+v", d.Warnings)
	}
	// Long text warns 13521.
	_, d = one[*Say](t, "<Say>"+strings.Repeat("é", 4097)+"</Say>")
	wantCodes(t, "long Say", d, 13521)
}

func TestPlay(t *testing.T) {
	tests := []struct {
		verb  string
		want  Play
		codes []int
	}{
		{`<Play>https://example.com/a.mp3</Play>`, Play{URL: "https://example.com/a.mp3", Loop: 1}, nil},
		{"<Play>\n   /media/hello.wav?x=1&amp;y=2\n</Play>", Play{URL: "/media/hello.wav?x=1&y=2", Loop: 1}, nil},
		{`<Play loop="0">a.mp3</Play>`, Play{URL: "a.mp3", Loop: 0}, nil},
		{`<Play loop="10">a.mp3</Play>`, Play{URL: "a.mp3", Loop: 10}, nil},
		{`<Play loop="-3">a.mp3</Play>`, Play{URL: "a.mp3", Loop: 1}, []int{13410}},
		{`<Play loop="x">a.mp3</Play>`, Play{URL: "a.mp3", Loop: 1}, []int{13410}},
		{`<Play loop="1001">a.mp3</Play>`, Play{URL: "a.mp3", Loop: 1000}, []int{13410}},
		{`<Play digits="wwww3"></Play>`, Play{Digits: "wwww3", Loop: 1}, nil},
		{`<Play digits="1234#*wW"/>`, Play{Digits: "1234#*wW", Loop: 1}, nil},
		{`<Play digits="abcd"/>`, Play{Digits: "ABCD", Loop: 1}, nil},
		{`<Play digits=" 12 "/>`, Play{Digits: "12", Loop: 1}, nil},
		{`<Play digits="12x"/>`, Play{Loop: 1}, []int{13430}},
		{`<Play digits="1 2"/>`, Play{Loop: 1}, []int{13430}},
		{`<Play digits="">a.mp3</Play>`, Play{URL: "a.mp3", Loop: 1}, nil},
		{`<Play>a.mp3<b/></Play>`, Play{URL: "a.mp3", Loop: 1}, []int{12200}},
		{`<Play url="a.mp3"/>`, Play{Loop: 1}, []int{12200}},
	}
	for _, tt := range tests {
		v, d := one[*Play](t, tt.verb)
		v.Attrs = nil
		if !reflect.DeepEqual(*v, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.verb, *v, tt.want)
		}
		wantCodes(t, tt.verb, d, tt.codes...)
	}
}

func TestPause(t *testing.T) {
	tests := []struct {
		verb  string
		want  time.Duration
		codes []int
	}{
		{`<Pause/>`, time.Second, nil},
		{`<Pause length="5"/>`, 5 * time.Second, nil},
		{`<Pause length="3600"/>`, time.Hour, nil},
		{`<Pause length="3601"/>`, time.Hour, []int{13910}},
		{`<Pause length="99999999999999999999"/>`, time.Hour, []int{13910}},
		{`<Pause length="0"/>`, time.Second, []int{13910}},
		{`<Pause length="-2"/>`, time.Second, []int{13910}},
		{`<Pause length="abc"/>`, time.Second, []int{13910}},
		{`<Pause length="2s"/>`, time.Second, []int{13910}},
		{`<Pause length=""/>`, time.Second, nil},
		{`<Pause length="2">text</Pause>`, 2 * time.Second, []int{12200}},
		{`<Pause len="2"/>`, time.Second, []int{12200}},
	}
	for _, tt := range tests {
		v, d := one[*Pause](t, tt.verb)
		if v.Length != tt.want {
			t.Errorf("%s: length %v, want %v", tt.verb, v.Length, tt.want)
		}
		wantCodes(t, tt.verb, d, tt.codes...)
	}
}

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

func TestUnknownElements(t *testing.T) {
	d := parseOK(t, `<Response foo="1">
		<Connect><Stream url="wss://x"/></Connect>
		<Start><Stream url="wss://x"/></Start>
		<say>lower case</say>
		<Refer><Sip>sip:x@y</Sip></Refer>
		<Pay/>
		<Echo/>
		<Frobnicate/>
		text between verbs
		<Say>kept</Say>
		<Hangup/>
	</Response>`)
	if len(d.Verbs) != 2 {
		t.Fatalf("verbs %v", d.Verbs)
	}
	if s := d.Verbs[0].(*Say); s.Text != "kept" {
		t.Error(s)
	}
	wantCodes(t, "unknown", d, 12200, 12200, 12200, 12200, 12200, 12200, 12200, 12200, 12200)
	wantVerbs := []string{"Response", "Connect", "Start", "say", "Refer", "Pay", "Echo", "Frobnicate", "Response"}
	for i, w := range d.Warnings {
		if w.Verb != wantVerbs[i] {
			t.Errorf("warning %d: %+v, want verb %s", i, w, wantVerbs[i])
		}
	}
	if d.Warnings[0].Attr != "foo" {
		t.Errorf("%+v", d.Warnings[0])
	}
	if !strings.Contains(d.Warnings[3].Message, "<Say>") {
		t.Errorf("want a case hint: %s", d.Warnings[3].Message)
	}
	// Repeated attributes: the first wins.
	v, d2 := one[*Say](t, `<Say loop="2" loop="3">x</Say>`)
	if v.Loop != 2 {
		t.Error(v.Loop)
	}
	wantCodes(t, "repeated", d2, 12200)
}

func TestWarningsCapped(t *testing.T) {
	d := parseOK(t, "<Response>"+strings.Repeat("<Foo/>", 250)+"<Say>x</Say></Response>")
	if len(d.Warnings) != MaxWarnings+1 {
		t.Fatalf("%d warnings", len(d.Warnings))
	}
	if last := d.Warnings[MaxWarnings]; !strings.Contains(last.Message, "150 more") {
		t.Error(last)
	}
	if len(d.Verbs) != 1 {
		t.Error(d.Verbs)
	}
}

// TestTypicalDocument parses the benchmark document.
func TestTypicalDocument(t *testing.T) {
	d, err := Parse(benchDoc)
	if err != nil {
		t.Fatal(err)
	}
	wantCodes(t, "typical", d)
	if len(d.Verbs) != 4 {
		t.Fatalf("verbs %v", d.Verbs)
	}
	g := d.Verbs[0].(*Gather)
	if g.Action != "/ivr/menu-choice" || g.NumDigits != 1 || g.Timeout != 7*time.Second || len(g.Nested) != 1 {
		t.Errorf("%+v", g)
	}
	if s := g.Nested[0].(*Say); !strings.HasPrefix(s.Text, "Thank you for calling Example Plumbing & Heating. For sales, press 1.") || s.Voice != "Polly.Joanna" {
		t.Errorf("%+v", s)
	}
	dial := d.Verbs[2].(*Dial)
	if len(dial.Nouns) != 2 || dial.Nouns[1].Value != "+14155550124" || dial.Record != "record-from-answer" || dial.TimeLimit != time.Hour {
		t.Errorf("%+v", dial)
	}
	if r := d.Verbs[3].(*Redirect); r.URL != "https://example.com/ivr/voicemail?reason=no-answer&attempt=1" {
		t.Errorf("%+v", r)
	}
}

// TestScannerParity parses every test document through encoding/xml too:
// the result must be the same.
func TestScannerParity(t *testing.T) {
	for _, s := range append(scannerSeeds, string(benchDoc), nest(MaxDepth+1)) {
		checkParity(t, []byte(s))
		checkParity(t, []byte("<Response>"+s+"</Response>"))
	}
}

func checkParity(t *testing.T, body []byte) {
	t.Helper()
	got, gerr := Parse(body)
	b, lines, perr := prepare(body)
	if perr != nil || len(b) == 0 || len(body) > MaxDocumentSize {
		return // refused before tokenizing
	}
	want, werr := parse(newXMLSource(b), lines)
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("%q: scanner: %v; encoding/xml: %v", body, gerr, werr)
	}
	if gerr != nil {
		ge, _ := errors.AsType[*Error](gerr)
		we, _ := errors.AsType[*Error](werr)
		if ge == nil || we == nil || ge.Code != we.Code {
			t.Fatalf("%q: scanner: %v; encoding/xml: %v", body, gerr, werr)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: documents differ:\nscanner      %#v\nencoding/xml %#v", body, got, want)
	}
}

func TestPrepare(t *testing.T) {
	tests := []struct{ in, out string }{
		{"<a/>", "<a/>"},
		{"  \n<a/>", "<a/>"},
		{"\xEF\xBB\xBF<a/>", "<a/>"},
		{"<?xml version='1.0'?><a/>", "<a/>"},
		{"<?xml\tversion='1.0'?>\n<a/>", "\n<a/>"},
		{"<?xml?><a/>", "<a/>"},
		{"<?xml-stylesheet x?><a/>", "<?xml-stylesheet x?><a/>"},
		{"<?xml version='1.0' encoding='windows-1252'?><a>\x93q\x94</a>", "<a>\u201cq\u201d</a>"},
		{"<?xml version='1.0' encoding = \"latin1\"?><a>\xe9</a>", "<a>é</a>"},
		{"<?xml version='1.0' encoding='utf-8'?><a>\xc3\xa9</a>", "<a>é</a>"},
	}
	for _, tt := range tests {
		got, _, err := prepare([]byte(tt.in))
		if err != nil || !bytes.Equal(got, []byte(tt.out)) {
			t.Errorf("prepare(%q) = %q, %v; want %q", tt.in, got, err, tt.out)
		}
	}
}

func TestVerbNames(t *testing.T) {
	d := parseOK(t, `<Response><Say>a</Say><Play>a</Play><Pause/><Gather/><Dial>1</Dial><Record/>
		<Redirect/><Hangup/><Reject/><Enqueue>q</Enqueue><Leave/><Sms>b</Sms><Set/></Response>`)
	var got []string
	for _, v := range d.Verbs {
		got = append(got, v.Name())
	}
	if !reflect.DeepEqual(got, verbNames) {
		t.Errorf("names %v, want %v", got, verbNames)
	}
}

func TestLongTextInWarning(t *testing.T) {
	d := parseOK(t, "<Response>"+strings.Repeat("é", 100)+"</Response>")
	if len(d.Warnings) != 1 || !strings.HasSuffix(d.Warnings[0].Message, "…\" in <Response> ignored") {
		t.Errorf("%v", d.Warnings)
	}
}
