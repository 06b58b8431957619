package twiml

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard/switchboard/internal/call"
)

var (
	errNoQueues      = errors.New("<Enqueue>: no queues configured")
	errNoWaitFetcher = errors.New("no wait document fetcher")
)

// Queues are the in-memory call queues of TwiML's <Enqueue>: callers wait
// with music until another call takes them with <Dial><Queue>.
type Queues struct {
	// MaxWait is the longest a caller waits before leaving with
	// QueueResult "leave"; one hour when zero.
	MaxWait time.Duration

	mu     sync.Mutex
	queues map[string]*queue // account/name
}

type queue struct {
	sid     string
	members []*member
}

type member struct {
	callID string
	joined time.Time
	taken  chan string // receives the call id of the call that took it
}

// NewQueues makes an empty set of queues.
func NewQueues() *Queues { return &Queues{queues: map[string]*queue{}} }

func (q *Queues) maxWait() time.Duration {
	if q.MaxWait <= 0 {
		return time.Hour
	}
	return q.MaxWait
}

func (q *Queues) join(account, name, callID string, now time.Time) (m *member, sid string, position int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := account + "/" + name
	qu := q.queues[key]
	if qu == nil {
		qu = &queue{sid: "QU" + shortHash(key)}
		q.queues[key] = qu
	}
	m = &member{callID: callID, joined: now, taken: make(chan string, 1)}
	qu.members = append(qu.members, m)
	return m, qu.sid, len(qu.members)
}

// leave removes a member still waiting; false when it was taken meanwhile.
func (q *Queues) leave(account, name string, m *member) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	qu := q.queues[account+"/"+name]
	if qu == nil {
		return false
	}
	for i, x := range qu.members {
		if x == m {
			qu.members = append(qu.members[:i], qu.members[i+1:]...)
			return true
		}
	}
	return false
}

// take pops the longest-waiting member and tells it who took it.
func (q *Queues) take(account, name, byCallID string) (*member, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	qu := q.queues[account+"/"+name]
	if qu == nil || len(qu.members) == 0 {
		return nil, false
	}
	m := qu.members[0]
	qu.members = qu.members[1:]
	m.taken <- byCallID
	return m, true
}

// Size is how many callers wait in a queue.
func (q *Queues) Size(account, name string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if qu := q.queues[account+"/"+name]; qu != nil {
		return len(qu.members)
	}
	return 0
}

// enqueue puts the caller in a queue with wait music until another call
// takes it, the wait document says <Leave>, the caller hangs up, or MaxWait
// passes. With an action the action gets QueueResult; else the next verb
// runs.
func (in *Interpreter) enqueue(ctx context.Context, v *Enqueue, base string) (*Request, bool, error) {
	if in.Queues == nil {
		return nil, false, errNoQueues
	}
	if err := in.Call.Answer(ctx); err != nil {
		return nil, false, err
	}
	info := in.Call.Info()
	start := in.Now()
	m, sid, pos := in.Queues.join(info.AccountID, v.Queue, info.ID, start)
	in.Trace.Add("enqueue", "queue", v.Queue, "queue_sid", sid, "position", pos)

	waitCtx, stop := context.WithCancel(ctx)
	music := make(chan string, 1)
	go func() { music <- in.waitMusic(waitCtx, v, base, sid, start) }()
	timer := time.NewTimer(in.Queues.maxWait())
	defer timer.Stop()

	result, by := "", ""
	for result == "" {
		select {
		case by = <-m.taken:
			result = "bridged"
		case r := <-music:
			switch r {
			case "leave", "hangup":
				if in.Queues.leave(info.AccountID, v.Queue, m) {
					result = r
				} else {
					by, result = <-m.taken, "bridged"
				}
			}
			music = nil // the music ended by itself: keep waiting in silence
		case <-timer.C:
			if in.Queues.leave(info.AccountID, v.Queue, m) {
				result = "leave"
			}
		case <-ctx.Done():
			in.Queues.leave(info.AccountID, v.Queue, m)
			result = "hangup"
		}
	}
	stop()
	if music != nil {
		<-music
	}
	waited := in.Now().Sub(start)
	in.Trace.Add("dequeue", "queue", v.Queue, "result", result, "by", by, "wait_seconds", int(waited.Seconds()))
	if ctx.Err() != nil {
		return nil, false, ctx.Err()
	}
	if result == "hangup" { // the wait document hung up
		return nil, true, in.Call.Hangup(ctx, "NORMAL_CLEARING")
	}
	if !v.ActionSet {
		return nil, false, nil
	}
	u, err := in.actionURL(base, v.Action, true, "Enqueue")
	if err != nil {
		return nil, false, err
	}
	return &Request{URL: u, Method: v.Method, Params: []Param{
		{Key: "QueueResult", Value: result}, {Key: "QueueSid", Value: sid},
		{Key: "QueueTime", Value: strconv.Itoa(int(waited.Seconds()))},
	}}, false, nil
}

// waitMusic plays the queue's wait document (waitUrl), again and again, or
// hold music when there is none. It returns "leave" or "hangup" when the
// document says so, "" when it stopped otherwise.
func (in *Interpreter) waitMusic(ctx context.Context, v *Enqueue, base, sid string, start time.Time) string {
	ch := in.Call
	if v.WaitURL == "" {
		_ = ch.Play(ctx, call.PlayOptions{URL: "builtin:hold-music", Loop: 0})
		return ""
	}
	u, err := resolve(base, v.WaitURL)
	if err != nil {
		in.Trace.Add("warning", "code", 14205, "message", "waitUrl is not usable: "+err.Error(), "verb", "Enqueue")
		return ""
	}
	for ctx.Err() == nil {
		began := time.Now()
		body, err := in.fetchWait(ctx, Request{URL: u, Method: v.WaitURLMethod, Params: []Param{
			{Key: "QueueSid", Value: sid}, {Key: "QueueTime", Value: strconv.Itoa(int(in.Now().Sub(start).Seconds()))},
			{Key: "QueuePosition", Value: "1"},
		}})
		if err != nil {
			_ = ch.Play(ctx, call.PlayOptions{URL: "builtin:hold-music", Loop: 0})
			return ""
		}
		doc, err := Parse(body)
		if err != nil {
			return ""
		}
		for _, verb := range doc.Verbs {
			switch w := verb.(type) {
			case *Say:
				_ = ch.Say(ctx, call.SayOptions{Text: w.Text, Voice: w.Voice, Language: w.Language, Loop: w.Loop})
			case *Play:
				_ = in.play(ctx, w, u)
			case *Pause:
				_ = ch.Pause(ctx, w.Length)
			case *Leave:
				return "leave"
			case *Hangup:
				return "hangup"
			}
			if ctx.Err() != nil {
				return ""
			}
		}
		// Twilio asks the wait URL again when its document ends; pace the
		// loop in real time so a simulated call does not spin.
		if d := time.Second - time.Since(began); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
	}
	return ""
}

// fetchWait fetches a wait document; none when no fetcher was given.
func (in *Interpreter) fetchWait(ctx context.Context, r Request) ([]byte, error) {
	if in.Wait == nil {
		return nil, errNoWaitFetcher
	}
	return in.Wait.FetchWait(ctx, r)
}

// dequeue takes the longest-waiting caller of a queue (<Dial><Queue>) and
// bridges to it.
func (in *Interpreter) dequeue(ctx context.Context, v *Dial, n Noun) (call.DialResult, error) {
	info := in.Call.Info()
	res := call.DialResult{Status: "no-answer"}
	if in.Queues != nil {
		if m, ok := in.Queues.take(info.AccountID, n.Value, info.ID); ok {
			res = call.DialResult{Status: "completed", CallID: m.callID}
		}
	}
	in.Trace.Add("dial", "targets", []call.Target{{Kind: "queue", Value: n.Value}},
		"timeout", v.Timeout.Seconds(), "caller_id", v.CallerID, "status", res.Status, "call_id", res.CallID)
	return res, nil
}
