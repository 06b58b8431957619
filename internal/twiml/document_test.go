package twiml

// Whole documents: unknown elements, warnings, the scanner's parity with
// encoding/xml, and preparation.

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/xmlscan/xmlscantest"
)

func TestUnknownElements(t *testing.T) {
	d := parseOK(t, `<Response foo="1">
		<Connect><Stream url="wss://x"/></Connect>
		<Start><Stream url="wss://x"/></Start>
		<say>lower case</say>
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
	wantCodes(t, "unknown", d, 12200, 12200, 12200, 12200, 12200, 12200, 12200, 12200)
	wantVerbs := []string{"Response", "Connect", "Start", "say", "Pay", "Echo", "Frobnicate", "Response"}
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
	for _, s := range append(xmlscantest.Seeds(t), string(benchDoc), nest(MaxDepth+1)) {
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
		<Redirect/><Hangup/><Reject/><Enqueue>q</Enqueue><Leave/><Sms>b</Sms><Set/><Refer><Sip>sip:a@b</Sip></Refer></Response>`)
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
