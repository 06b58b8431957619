package twiml

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bodies to Parse (seed corpus in
// testdata/fuzz/FuzzParse): it must not panic, must refuse with an *Error
// of one of its codes, must return documents that keep its invariants, and
// must read every body as it would with encoding/xml's tokenizer.
func FuzzParse(f *testing.F) {
	recoverPanics = false
	f.Cleanup(func() { recoverPanics = true })
	f.Add(benchDoc)
	f.Add([]byte(`<Response><Gather><Say>a<break/>b</Say><Play digits="1"/></Gather></Response>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := Parse(body)
		if err != nil {
			e, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("error %T %v, want *Error", err, err)
			}
			switch e.Code {
			case CodeTooLarge, CodeParse, CodeVersion, CodeRoot:
			default:
				t.Fatalf("error code %d: %v", e.Code, err)
			}
			if d != nil {
				t.Fatal("document returned with an error")
			}
		} else {
			checkInvariants(t, d)
		}
		checkParity(t, body)
	})
}

func checkInvariants(t *testing.T, d *Document) {
	t.Helper()
	if len(d.Warnings) > MaxWarnings+1 {
		t.Fatalf("%d warnings", len(d.Warnings))
	}
	for _, v := range d.Verbs {
		checkVerb(t, v, false)
	}
}

func checkMethod(t *testing.T, v Verb, m string) {
	t.Helper()
	if m != "GET" && m != "POST" {
		t.Fatalf("%s method %q", v.Name(), m)
	}
}

func checkVerb(t *testing.T, v Verb, nested bool) {
	t.Helper()
	if v == nil {
		t.Fatal("nil verb")
	}
	switch v := v.(type) {
	case *Say:
		if v.Loop < 0 || v.Loop > MaxLoop || strings.TrimSpace(v.Text) != v.Text || strings.Contains(v.Text, "  ") {
			t.Fatalf("%+v", v)
		}
	case *Play:
		if v.Loop < 0 || v.Loop > MaxLoop || (nested && v.Digits != "") || !onlyChars(v.Digits, "0123456789ABCD*#wW") {
			t.Fatalf("%+v", v)
		}
	case *Pause:
		if v.Length < time.Second || v.Length > time.Hour {
			t.Fatalf("%+v", v)
		}
	case *Gather:
		checkMethod(t, v, v.Method)
		if nested || v.Timeout <= 0 || v.NumDigits < 0 || !onlyChars(v.FinishOnKey, "0123456789*#") ||
			(v.Input != "dtmf" && v.Input != "speech" && v.Input != "dtmf speech") || (!v.ActionSet && v.Action != "") {
			t.Fatalf("%+v", v)
		}
		for _, n := range v.Nested {
			switch n.(type) {
			case *Say, *Play, *Pause:
			default:
				t.Fatalf("%T nested in Gather", n)
			}
			checkVerb(t, n, true)
		}
	case *Dial:
		checkMethod(t, v, v.Method)
		if nested || v.Timeout < 5*time.Second || v.Timeout > 600*time.Second || v.TimeLimit <= 0 || v.Record == "" {
			t.Fatalf("%+v", v)
		}
		for _, n := range v.Nouns {
			if n.Value == "" || strings.TrimSpace(n.Value) != n.Value {
				t.Fatalf("noun %+v", n)
			}
			switch n.Kind {
			case "number", "sip", "client", "conference", "queue", "user", "device":
			default:
				t.Fatalf("noun %+v", n)
			}
		}
	case *Record:
		checkMethod(t, v, v.Method)
		if nested || v.Timeout < 0 || v.MaxLength <= 0 || (v.Trim != "trim-silence" && v.Trim != "do-not-trim") {
			t.Fatalf("%+v", v)
		}
	case *Redirect:
		checkMethod(t, v, v.Method)
	case *Reject:
		if v.Reason != "busy" && v.Reason != "rejected" {
			t.Fatalf("%+v", v)
		}
	case *Enqueue:
		checkMethod(t, v, v.Method)
		checkMethod(t, v, v.WaitURLMethod)
	case *Sms:
		checkMethod(t, v, v.Method)
	case *Set:
		for _, x := range v.Variables {
			if x.Key == "" {
				t.Fatalf("%+v", v)
			}
		}
	case *Hangup, *Leave:
	default:
		t.Fatalf("unexpected verb %T", v)
	}
}
