package twiml

import (
	"context"
	"errors"
	"strconv"
	"strings"
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
	// served and waited count the callers taken and their total wait,
	// for AvgQueueTime.
	served int
	waited time.Duration
	max    int // maxQueueSize of the last <Enqueue>; 0 = Twilio's 100
}

// stats are the queue parameters Twilio sends on wait and action
// requests.
type stats struct {
	sid       string
	position  int
	size      int
	avgWait   time.Duration
	maxSize   int
	waitSoFar time.Duration
}

func (st stats) params() []Param {
	return []Param{
		{Key: "QueueSid", Value: st.sid},
		{Key: "QueueTime", Value: strconv.Itoa(int(st.waitSoFar.Seconds()))},
		{Key: "QueuePosition", Value: strconv.Itoa(st.position)},
		{Key: "AvgQueueTime", Value: strconv.Itoa(int(st.avgWait.Seconds()))},
		{Key: "CurrentQueueSize", Value: strconv.Itoa(st.size)},
		{Key: "MaxQueueSize", Value: strconv.Itoa(st.maxSize)},
	}
}

// defaultMaxQueueSize is Twilio's default maxQueueSize.
const defaultMaxQueueSize = 100

// stats describes m's queue now (position 0 when m is not in it).
func (q *Queues) stats(account, name string, m *member, now time.Time) stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	st := stats{maxSize: defaultMaxQueueSize}
	if m != nil {
		st.waitSoFar = now.Sub(m.joined)
	}
	qu := q.queues[account+"/"+name]
	if qu == nil {
		return st
	}
	st.sid, st.size = qu.sid, len(qu.members)
	if qu.max > 0 {
		st.maxSize = qu.max
	}
	if qu.served > 0 {
		st.avgWait = qu.waited / time.Duration(qu.served)
	}
	for i, x := range qu.members {
		if x == m {
			st.position = i + 1
		}
	}
	return st
}

type member struct {
	callID string
	ch     call.Channel // the waiting call (traced)
	joined time.Time
	taken  chan string // receives the call id of the call that took it
	// ready is closed by the waiting call once its wait music stopped:
	// the taker may then use ch.
	ready chan struct{}
	// done is closed by the taker once the bridge ended.
	done chan struct{}
}

// NewQueues makes an empty set of queues.
func NewQueues() *Queues { return &Queues{queues: map[string]*queue{}} }

func (q *Queues) maxWait() time.Duration {
	if q.MaxWait <= 0 {
		return time.Hour
	}
	return q.MaxWait
}

// join adds a caller; nil (and the queue's sid) when the queue holds
// maxSize callers already.
func (q *Queues) join(account, name string, ch call.Channel, maxSize int, now time.Time) (m *member, sid string, position int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := account + "/" + name
	qu := q.queues[key]
	if qu == nil {
		qu = &queue{sid: "QU" + shortHash(key)}
		q.queues[key] = qu
	}
	if maxSize > 0 {
		qu.max = maxSize
	}
	limit := qu.max
	if limit <= 0 {
		limit = defaultMaxQueueSize
	}
	if len(qu.members) >= limit {
		return nil, qu.sid, 0
	}
	m = &member{callID: ch.Info().ID, ch: ch, joined: now, taken: make(chan string, 1),
		ready: make(chan struct{}), done: make(chan struct{})}
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

// served counts a caller taken after waiting d (its own call's clock),
// for AvgQueueTime.
func (q *Queues) served(account, name string, d time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if qu := q.queues[account+"/"+name]; qu != nil {
		qu.served++
		qu.waited += d
	}
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
// takes it (then the two are bridged until one hangs up), the wait
// document says <Leave>, the caller hangs up, or MaxWait passes. With an
// action the action gets QueueResult; else the next verb runs.
func (in *Interpreter) enqueue(ctx context.Context, v *Enqueue, base string) (*Request, bool, error) {
	if in.Queues == nil {
		return nil, false, errNoQueues
	}
	if err := in.Call.Answer(ctx); err != nil {
		return nil, false, err
	}
	info := in.Call.Info()
	start := in.Now()
	maxSize, _ := strconv.Atoi(v.Attrs["maxQueueSize"])
	m, sid, pos := in.Queues.join(info.AccountID, v.Queue, in.Call, maxSize, start)
	var result, by string
	if m == nil {
		in.Trace.Add("enqueue", "queue", v.Queue, "queue_sid", sid, "position", 0, "result", "queue-full")
		result = "queue-full"
	} else {
		in.Trace.Add("enqueue", "queue", v.Queue, "queue_sid", sid, "position", pos)
		result, by = in.wait(ctx, v, base, m)
	}
	waited := in.Now().Sub(start)
	if result == "bridged" {
		in.Queues.served(info.AccountID, v.Queue, waited)
	}
	if m != nil {
		in.Trace.Add("dequeue", "queue", v.Queue, "result", result, "by", by, "wait_seconds", int(waited.Seconds()))
	}
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
	st := in.Queues.stats(info.AccountID, v.Queue, nil, in.Now())
	st.waitSoFar = waited
	return &Request{URL: u, Method: v.Method, Params: append([]Param{{Key: "QueueResult", Value: result}}, st.params()...)}, false, nil
}

// wait plays the wait music until m is taken or leaves, and returns the
// queue result and who took it. A taken caller stops its music, lets the
// taker have the call (ready) and waits for the bridge to end (done).
func (in *Interpreter) wait(ctx context.Context, v *Enqueue, base string, m *member) (result, by string) {
	info := in.Call.Info()
	waitCtx, stop := context.WithCancel(ctx)
	music := make(chan string, 1)
	go func() { music <- in.waitMusic(waitCtx, v, base, m) }()
	timer := time.NewTimer(in.Queues.maxWait())
	defer timer.Stop()
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
			if !in.Queues.leave(info.AccountID, v.Queue, m) {
				by = <-m.taken // taken as the caller hung up: let the taker go on
				close(m.ready)
			}
			stop()
			if music != nil {
				<-music
			}
			return "hangup", by
		}
	}
	stop()
	if music != nil {
		<-music
	}
	if result == "bridged" {
		close(m.ready)
		select {
		case <-m.done:
		case <-ctx.Done():
		}
	}
	return result, by
}

// waitMusic plays the queue's wait document (waitUrl), again and again, or
// hold music when there is none or it cannot be played (never silence).
// It returns "leave" or "hangup" when the document says so, "" when it
// stopped otherwise.
func (in *Interpreter) waitMusic(ctx context.Context, v *Enqueue, base string, m *member) string {
	ch := in.Call
	hold := func() string {
		_ = ch.Play(ctx, call.PlayOptions{URL: "builtin:hold-music", Loop: 0})
		return ""
	}
	if v.WaitURL == "" {
		return hold()
	}
	u, err := resolve(base, v.WaitURL)
	if err != nil {
		in.Trace.Add("warning", "code", 14205, "message", "waitUrl is not usable: "+err.Error(), "verb", "Enqueue")
		return hold()
	}
	info := in.Call.Info()
	for ctx.Err() == nil {
		began := time.Now()
		st := in.Queues.stats(info.AccountID, v.Queue, m, in.Now())
		body, err := in.fetchWait(ctx, Request{URL: u, Method: v.WaitURLMethod, Params: st.params()})
		if err != nil {
			return hold()
		}
		doc, err := Parse(body)
		if err != nil {
			return hold()
		}
		played := false
		for _, verb := range doc.Verbs {
			var perr error
			switch w := verb.(type) {
			case *Say:
				perr = ch.Say(ctx, call.SayOptions{Text: w.Text, Voice: w.Voice, Language: w.Language, Loop: w.Loop})
			case *Play:
				var bad bool
				if bad, perr = in.playReport(ctx, w, u); perr == nil && bad {
					perr = errWaitMedia // traced once: hold music from here on
				}
			case *Pause:
				perr = ch.Pause(ctx, w.Length)
			case *Leave:
				return "leave"
			case *Hangup:
				return "hangup"
			default:
				continue
			}
			if ctx.Err() != nil {
				return ""
			}
			if perr != nil {
				return hold()
			}
			played = true
		}
		if !played {
			return hold() // nothing to hear: never a silent refetch loop
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

var errWaitMedia = errors.New("wait music cannot be played")

// fetchWait fetches a wait document; none when no fetcher was given.
func (in *Interpreter) fetchWait(ctx context.Context, r Request) ([]byte, error) {
	if in.Wait == nil {
		return nil, errNoWaitFetcher
	}
	return in.Wait.FetchWait(ctx, r)
}

// dequeue takes the longest-waiting caller of a queue (<Dial><Queue>),
// plays it the <Queue url> document, and bridges the two calls until one
// hangs up (on channels that can: the SIP leg). It returns the queue
// parameters for the Dial action.
func (in *Interpreter) dequeue(ctx context.Context, v *Dial, n Noun, base string) (call.DialResult, []Param, error) {
	info := in.Call.Info()
	res := call.DialResult{Status: "no-answer"}
	trace := func() {
		in.Trace.Add("dial", "targets", []call.Target{{Kind: "queue", Value: n.Value}},
			"timeout", v.Timeout.Seconds(), "caller_id", v.CallerID, "status", res.Status, "call_id", res.CallID,
			"duration", res.Duration.Seconds())
	}
	if in.Queues == nil {
		trace()
		return res, nil, nil
	}
	m, ok := in.Queues.take(info.AccountID, n.Value, info.ID)
	if !ok {
		trace()
		return res, nil, nil
	}
	st := in.Queues.stats(info.AccountID, n.Value, m, in.Now())
	defer close(m.done)
	select {
	case <-m.ready:
	case <-ctx.Done():
		res.Status = "canceled"
		trace()
		return res, st.params(), ctx.Err()
	}
	res = call.DialResult{Status: "completed", CallID: m.callID}
	if u := n.Attrs["url"]; u != "" {
		in.queueURL(ctx, m, u, n.Attrs["method"], base, st)
	}
	start := time.Now()
	if b, ok := call.As[call.Bridger](in.Call); ok {
		if err := b.BridgeCall(ctx, m.ch); err != nil && ctx.Err() == nil {
			res.Status = "failed"
			in.Log.Warn("queue bridge failed", "queue", n.Value, "err", err)
		}
	}
	res.Duration = time.Since(start)
	trace()
	return res, st.params(), nil
}

// queueURL runs <Queue url>'s document (Say, Play, Pause) on the dequeued
// caller before the bridge, as Twilio does.
func (in *Interpreter) queueURL(ctx context.Context, m *member, ref, method, base string, st stats) {
	u, err := resolve(base, ref)
	if err != nil {
		in.Trace.Add("warning", "code", 14210, "message", "<Queue url> is not usable: "+err.Error(), "verb", "Queue")
		return
	}
	if !strings.EqualFold(method, "GET") {
		method = "POST"
	}
	body, err := in.fetchWait(ctx, Request{URL: u, Method: strings.ToUpper(method), Params: append(st.params(),
		Param{Key: "DequeingCallSid", Value: in.Call.Info().ID}, Param{Key: "QueueCallSid", Value: m.callID})})
	if err != nil {
		in.Trace.Add("warning", "code", 14210, "message", "<Queue url> failed: "+err.Error(), "verb", "Queue")
		return
	}
	doc, err := Parse(body)
	if err != nil {
		in.Trace.Add("warning", "code", 12100, "message", "<Queue url> document: "+err.Error(), "verb", "Queue")
		return
	}
	other := &Interpreter{Call: m.ch, Trace: in.Trace, Log: in.Log, Now: in.Now}
	for _, verb := range doc.Verbs {
		switch w := verb.(type) {
		case *Say:
			_ = m.ch.Say(ctx, call.SayOptions{Text: w.Text, Voice: w.Voice, Language: w.Language, Loop: w.Loop})
		case *Play:
			_ = other.play(ctx, w, u)
		case *Pause:
			_ = m.ch.Pause(ctx, w.Length)
		}
		if ctx.Err() != nil {
			return
		}
	}
}
