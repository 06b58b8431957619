package twiml_test

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"testing"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/twiml"
)

// referrer is a simulated call that can be referred: it answers every
// REFER with res and keeps the targets.
type referrer struct {
	call.Channel
	res     call.ReferResult
	targets []string
}

func (r *referrer) Refer(_ context.Context, o call.ReferOptions) (call.ReferResult, error) {
	r.targets = append(r.targets, o.Target)
	return r.res, nil
}

func (r *referrer) Unwrap() call.Channel { return r.Channel }

// runRefer runs body on a simulated call, referrable when res is set.
func runRefer(t *testing.T, body string, res *call.ReferResult) (*twiml.Request, *call.Trace, *referrer) {
	t.Helper()
	doc, err := twiml.Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ctx, sc := sim.New(t.Context(), call.Info{ID: "call-1", AccountID: "acct", Request: "100"}, sim.Script{})
	tr := call.NewTrace(sc.Clock(), nil)
	var ch call.Channel = sc
	r := &referrer{Channel: sc}
	if res != nil {
		r.res = *res
		ch = r
	}
	in := &twiml.Interpreter{Call: call.Traced(ch, tr), Trace: tr, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Vars: vars{}, Now: sc.Clock().Now}
	next, err := in.Run(ctx, doc, docURL)
	if err != nil {
		t.Fatal(err)
	}
	return next, tr, r
}

// TestReferVerb: <Refer> sends its <Sip> target and asks for its action
// with Twilio's Refer parameters; without action the next verb runs; on
// a call that cannot be referred it is error 13801 and the action hears
// failed.
func TestReferVerb(t *testing.T) {
	body := `<Response><Refer action="/done" method="GET"><Sip>sip:alice@pbx.example.com?X-Case=7</Sip></Refer><Say>never</Say></Response>`
	next, tr, r := runRefer(t, body, &call.ReferResult{Status: "in-progress", ReferCode: 202, NotifyCode: 200})
	want := &twiml.Request{URL: "https://customer.example/done", Method: "GET", Params: []twiml.Param{
		{Key: "ReferCallStatus", Value: "in-progress"}, {Key: "ReferSipResponseCode", Value: "202"}, {Key: "NotifySipResponseCode", Value: "200"}}}
	if !reflect.DeepEqual(next, want) {
		t.Errorf("next %+v, want %+v", next, want)
	}
	if !reflect.DeepEqual(r.targets, []string{"sip:alice@pbx.example.com?X-Case=7"}) {
		t.Errorf("targets %v", r.targets)
	}
	sim.AssertOps(t, tr, "answer", "refer")

	next, tr, _ = runRefer(t, `<Response><Refer><Sip>sip:a@b</Sip></Refer><Say>after</Say></Response>`,
		&call.ReferResult{Status: "busy", ReferCode: 202, NotifyCode: 486})
	if next != nil {
		t.Errorf("without action: next %+v", next)
	}
	sim.AssertOps(t, tr, "answer", "refer", "say")

	next, tr, _ = runRefer(t, `<Response><Refer action="/done"><Sip>sip:a@b</Sip></Refer></Response>`, nil)
	if next == nil || !reflect.DeepEqual(next.Params, []twiml.Param{{Key: "ReferCallStatus", Value: "failed"}}) {
		t.Errorf("not a SIP call: next %+v", next)
	}
	sim.AssertOps(t, tr, "error")
	if l := tr.Events()[0]; l.Fields["code"] != twiml.CodeReferSIP {
		t.Errorf("error line %+v", l)
	}
}

// TestReferParse: the target is the first <Sip>; no target or other
// content is warned about.
func TestReferParse(t *testing.T) {
	for _, tc := range []struct {
		body, target string
		codes        int
	}{
		{`<Response><Refer><Sip> sip:x@y </Sip></Refer></Response>`, "sip:x@y", 0},
		{`<Response><Refer/></Response>`, "", 1},
		{`<Response><Refer>text<Number>1</Number><Sip>sip:x@y</Sip><Sip>sip:z@y</Sip></Refer></Response>`, "sip:x@y", 3},
	} {
		d, err := twiml.Parse([]byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		v, ok := d.Verbs[0].(*twiml.Refer)
		if !ok || v.Target != tc.target || len(d.Warnings) != tc.codes {
			t.Errorf("%s: %+v warnings %+v", tc.body, d.Verbs[0], d.Warnings)
		}
	}
}
