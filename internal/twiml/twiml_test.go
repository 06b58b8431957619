package twiml

import (
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
