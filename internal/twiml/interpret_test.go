package twiml_test

// The interpreter on its own: a parsed document on a simulated call, with
// no webhook client. What it asks for next is its whole answer.

import (
	"errors"
	"io"
	"log/slog"
	"reflect"
	"testing"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/twiml"
)

// vars records <Set> and <Redirect> variables.
type vars map[string]string

func (v vars) Set(key, value string) { v[key] = value }

const docURL = "https://customer.example/ivr/start"

// interpret runs body on a simulated call.
func interpret(t *testing.T, body string, script sim.Script, queues *twiml.Queues) (*twiml.Request, *call.Trace, vars, error) {
	t.Helper()
	doc, err := twiml.Parse([]byte(body))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	ctx, ch := sim.New(t.Context(), call.Info{ID: "call-1", AccountID: "acct", From: "+15550001111", Request: "100"}, script)
	tr := call.NewTrace(ch.Clock(), nil)
	v := vars{}
	in := &twiml.Interpreter{
		Call: call.Traced(ch, tr), Trace: tr, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Vars: v, Now: ch.Clock().Now, Queues: queues,
	}
	next, err := in.Run(ctx, doc, docURL)
	return next, tr, v, err
}

func TestInterpreterNext(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		script sim.Script
		want   *twiml.Request
		ops    []string
	}{
		{
			name:   "Gather with digits asks for its action",
			body:   `<Response><Gather numDigits="2" action="menu?x=1" method="GET"><Say>Two digits</Say></Gather><Say>never</Say></Response>`,
			script: sim.Script{Inputs: []string{"42"}},
			want: &twiml.Request{URL: "https://customer.example/ivr/menu?x=1", Method: "GET",
				Params: []twiml.Param{{Key: "Digits", Value: "42"}, {Key: "FinishedOnKey", Value: ""}}},
			ops: []string{"answer", "gather"},
		},
		{
			name: "Gather without input goes on to the next verb",
			body: `<Response><Gather/><Say>after</Say></Response>`,
			ops:  []string{"answer", "gather", "say"},
		},
		{
			name: "Redirect with no URL asks for the document again",
			body: `<Response><Redirect/></Response>`,
			want: &twiml.Request{URL: docURL, Method: "POST"},
			ops:  []string{"redirect"},
		},
		{
			name:   "Record after the caller hung up: the action, answer ignored",
			body:   `<Response><Record action="/rec"/></Response>`,
			script: sim.Script{Inputs: []string{"hangup"}},
			ops:    []string{"answer", "record"}, // the caller's hangup line is the engine's
		},
		{
			name: "a document that runs out ends the call",
			body: `<Response><Say>bye</Say></Response>`,
			ops:  []string{"answer", "say"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next, tr, _, err := interpret(t, tc.body, tc.script, twiml.NewQueues())
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if next != nil && next.AfterHangup {
				if next.URL != "https://customer.example/rec" || next.Params[len(next.Params)-1] != (twiml.Param{Key: "CallStatus", Value: "completed"}) {
					t.Errorf("after-hangup request %+v", next)
				}
				next = nil
			}
			if !reflect.DeepEqual(next, tc.want) {
				t.Errorf("next %+v, want %+v", next, tc.want)
			}
			sim.AssertOps(t, tr, tc.ops...)
		})
	}
}

func TestInterpreterSetAndWarnings(t *testing.T) {
	next, tr, v, err := interpret(t, `<Response><Set><Variable key="k" value="v"/></Set><Bogus/></Response>`, sim.Script{}, nil)
	if next != nil || err != nil {
		t.Fatalf("next %+v err %v", next, err)
	}
	if v["k"] != "v" {
		t.Errorf("vars %v", v)
	}
	sim.AssertOps(t, tr, "warning", "set")
}

func TestInterpreterEnqueueWithoutQueues(t *testing.T) {
	_, _, _, err := interpret(t, `<Response><Enqueue>sales</Enqueue></Response>`, sim.Script{}, nil)
	var te *twiml.Error
	if err == nil || errors.As(err, &te) {
		t.Errorf("err %v, want a failure that is not a document error", err)
	}
}
