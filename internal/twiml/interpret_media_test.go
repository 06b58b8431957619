package twiml_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/twiml"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// codedErr is media that cannot be played, as media.Error reports it.
type codedErr struct{ code int }

func (e codedErr) Error() string   { return "media: unsupported media format" }
func (e codedErr) TwilioCode() int { return e.code }

// badMedia is a call on which every .txt "audio" fails as media does.
type badMedia struct{ call.Channel }

func (b badMedia) Play(ctx context.Context, o call.PlayOptions) error {
	if strings.HasSuffix(o.URL, ".txt") {
		return codedErr{13420}
	}
	return b.Channel.Play(ctx, o)
}

func (b badMedia) Gather(ctx context.Context, o call.GatherOptions) (string, error) {
	for _, p := range o.Prompts {
		if p.Play != nil && strings.HasSuffix(p.Play.URL, ".txt") && o.Result != nil {
			o.Result.PromptErrors = append(o.Result.PromptErrors, codedErr{13420})
		}
	}
	return b.Channel.Gather(ctx, o)
}

func runBadMedia(t *testing.T, body string, local func(string, string) (string, bool)) (*twiml.Request, []call.Event, []call.PlayOptions) {
	t.Helper()
	doc, err := twiml.Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ctx, ch := sim.New(t.Context(), call.Info{ID: "call-1", AccountID: "acct", From: "+15550001111", Request: "100"}, sim.Script{})
	tr := call.NewTrace(ch.Clock(), nil)
	in := &twiml.Interpreter{
		Call: call.Traced(badMedia{ch}, tr), Trace: tr, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Vars: vars{}, Now: ch.Clock().Now, Media: local,
	}
	next, err := in.Run(ctx, doc, docURL)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	var plays []call.PlayOptions
	for _, op := range ch.Ops() {
		if op.Name == "play" {
			plays = append(plays, op.Options.(call.PlayOptions))
		}
	}
	return next, tr.Events(), plays
}

func TestUnplayableMediaIsAnErrorAndTheNextVerbRuns(t *testing.T) {
	_, ev, _ := runBadMedia(t, `<Response><Play>/bad.txt</Play><Say>next</Say></Response>`, nil)
	var ops []string
	for _, e := range ev {
		ops = append(ops, e.Op)
	}
	if got := strings.Join(ops, " "); got != "answer play error say" {
		t.Fatalf("ops %s", got)
	}
	if e := ev[2].Fields; e["code"] != 13420 || e["url"] != "https://customer.example/bad.txt" {
		t.Errorf("error line %v", e)
	}
}

func TestUnplayableGatherPromptIs13325(t *testing.T) {
	_, ev, _ := runBadMedia(t, `<Response><Gather input="dtmf speech"><Play>/bad.txt</Play></Gather><Say>next</Say></Response>`, nil)
	var codes []any
	for _, e := range ev {
		if e.Op == "error" || e.Op == "warning" {
			codes = append(codes, e.Fields["code"])
		}
	}
	// The speech warning first (no recogniser), then the prompt's error.
	if len(codes) != 2 || codes[0] != 13326 || codes[1] != 13325 {
		t.Errorf("codes %v, want [13326 13325]", codes)
	}
}

func TestOwnRecordingsPlayLocally(t *testing.T) {
	local := func(account, u string) (string, bool) {
		if account == "acct" && strings.Contains(u, "/recordings/") {
			return "recording:CA1-1", true
		}
		return "", false
	}
	_, _, plays := runBadMedia(t, `<Response><Play>https://sb.example/v2/accounts/acct/recordings/CA1-1</Play><Play>/other.wav</Play></Response>`, local)
	if len(plays) != 2 || plays[0].URL != "recording:CA1-1" || plays[1].URL != "https://customer.example/other.wav" {
		t.Errorf("plays %+v", plays)
	}
}

// TestEnqueueQueueFull: a caller over maxQueueSize is not queued; the
// action gets QueueResult queue-full with the queue's parameters.
func TestEnqueueQueueFull(t *testing.T) {
	queues := twiml.NewQueues()
	queues.MaxWait = 2 * time.Second
	first := make(chan struct{})
	go func() {
		defer close(first)
		interpret(t, `<Response><Enqueue maxQueueSize="1">sales</Enqueue></Response>`, sim.Script{}, queues)
	}()
	waitfor.True(t, 5*time.Second, "the first caller queued", func() bool { return queues.Size("acct", "sales") == 1 })
	next, tr, _, err := interpret(t, `<Response><Enqueue maxQueueSize="1" action="/full">sales</Enqueue></Response>`, sim.Script{}, queues)
	if err != nil || next == nil {
		t.Fatalf("next %+v, err %v", next, err)
	}
	got := map[string]string{}
	for _, p := range next.Params {
		got[p.Key] = p.Value
	}
	if got["QueueResult"] != "queue-full" || got["CurrentQueueSize"] != "1" || got["MaxQueueSize"] != "1" || got["QueueSid"] == "" {
		t.Errorf("action params %v", got)
	}
	if ev := tr.Events(); len(ev) < 2 || ev[1].Op != "enqueue" || ev[1].Fields["result"] != "queue-full" {
		t.Errorf("trace %v", ev)
	}
	<-first
}
