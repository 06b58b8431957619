package actions_test

// <Enqueue>, <Leave> and <Dial><Queue>: in-memory queues, with calls that
// run concurrently.

import (
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/actions"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
)

var queueID = regexp.MustCompile(`^QU[0-9a-f]{32}$`)

// queuedCall is a call running in its own goroutine, whose trace the test
// watches.
type queuedCall struct {
	done chan callRun
	mu   sync.Mutex
	tr   *call.Trace
}

// startQueued runs run in a goroutine; run passes onStart to runCall.
func startQueued(wg *sync.WaitGroup, run func(onStart func(*sim.Channel, *call.Trace)) callRun) *queuedCall {
	q := &queuedCall{done: make(chan callRun, 1)}
	wg.Add(1)
	go func() {
		defer wg.Done()
		q.done <- run(q.traceOf)
	}()
	return q
}

// waitFor polls cond until it holds, failing after a deadline or when the
// call ends first.
func waitFor(t *testing.T, what string, q *queuedCall, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case r := <-q.done:
			q.done <- r
			t.Fatalf("the call ended before %s:\n%s", what, r.tr.JSONL())
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func (q *queuedCall) result(t *testing.T) callRun {
	t.Helper()
	select {
	case r := <-q.done:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for the queued call to end")
		return callRun{}
	}
}

// traceOf keeps a call's trace, for another goroutine to watch.
func (q *queuedCall) traceOf(_ *sim.Channel, tr *call.Trace) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tr = tr
}

// has reports whether the call's trace has a line with op yet.
func (q *queuedCall) has(op string) bool {
	q.mu.Lock()
	tr := q.tr
	q.mu.Unlock()
	return tr != nil && count(tr, op) > 0
}

func TestQueueEnqueueThenDialQueue(t *testing.T) {
	t.Parallel()
	queues := actions.NewQueues()
	c := newCustomer(t, map[string][]reply{
		"/a":      {doc(`<Say>Please wait</Say><Enqueue action="/a-done">support</Enqueue><Say>never</Say>`)},
		"/a-done": {doc(`<Say>Thank you for waiting</Say>`)},
		"/b":      {doc(`<Dial action="/b-done" timeout="20"><Queue>support</Queue></Dial><Say>never</Say>`)},
		"/b-done": {doc(`<Hangup/>`)},
	})
	pivotTo := func(path string) map[string]any {
		return pivotNode(map[string]any{"voice_url": c.URL + path, "method": "POST", "req_format": "twiml"}, nil)
	}
	rootA, rootB := compileFlow(t, pivotTo("/a")), compileFlow(t, pivotTo("/b"))
	infoA, infoB := testInfo(), testInfo()
	infoA.ID, infoB.ID, infoB.From = "call-A", "call-B", "+15550004444"

	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	a := startQueued(&wg, func(onStart func(*sim.Channel, *call.Trace)) callRun {
		return runCall(t, rootA, runOpt{info: &infoA, queues: queues, onStart: onStart})
	})
	// A waits in the queue, its hold music played out (simulated time).
	waitFor(t, "call A to wait in the queue", a, func() bool {
		return queues.Size(testAccount, "support") == 1 && a.has("play")
	})
	if n := queues.Size("other-account", "support"); n != 0 {
		t.Errorf("another account's queue has %d callers", n)
	}

	rb := runCall(t, rootB, runOpt{info: &infoB, queues: queues})
	ra := a.result(t)

	// B took A from the queue.
	sim.AssertOps(t, rb.tr, "module", "webhook", "answer", "dial", "webhook", "hangup")
	wantFields(t, line(t, rb.tr, "dial", 0), map[string]any{
		"targets": []map[string]any{{"kind": "queue", "value": "support"}},
		"status":  "completed", "call_id": "call-A", "timeout": 20, "caller_id": "",
	})
	bDone := c.request(t, "/b-done", 0)
	wantParams(t, bDone, map[string]string{
		"CallSid": "call-B", "From": "+15550004444", "CallStatus": "in-progress",
		"DialCallStatus": "completed", "DialCallSid": "call-A", "DialCallDuration": "0",
	})

	// A left the queue bridged to B; its action says so.
	sim.AssertOps(t, ra.tr, "module", "webhook", "answer", "say", "enqueue", "play", "dequeue", "webhook", "say", "hangup")
	enq := line(t, ra.tr, "enqueue", 0)
	wantFields(t, enq, map[string]any{"queue": "support", "position": 1})
	sid, _ := enq["queue_sid"].(string)
	if !queueID.MatchString(sid) {
		t.Errorf("queue_sid %q", sid)
	}
	wantFields(t, line(t, ra.tr, "play", 0), map[string]any{"url": "builtin:hold-music", "loop": 0, "error": noField{}})
	wantFields(t, line(t, ra.tr, "dequeue", 0), map[string]any{"queue": "support", "result": "bridged", "by": "call-B"})
	aDone := c.request(t, "/a-done", 0)
	want := twimlBase("in-progress")
	want["CallSid"], want["QueueResult"], want["QueueSid"] = "call-A", "bridged", sid
	wantExactly(t, aDone, want, "QueueTime")
	if qt, err := strconv.Atoi(aDone.Param("QueueTime")); err != nil || qt < 1 {
		t.Errorf("QueueTime %q, want the seconds waited (the music lasted 1 s)", aDone.Param("QueueTime"))
	}
	wantFields(t, line(t, ra.tr, "say", 1), map[string]any{"text": "Thank you for waiting"})
	if n := queues.Size(testAccount, "support"); n != 0 {
		t.Errorf("%d callers left in the queue", n)
	}
	for _, r := range []callRun{ra, rb} {
		if r.res.By != "switchboard" || r.res.Cause != "NORMAL_CLEARING" || r.res.Err != nil {
			t.Errorf("result %+v", r.res)
		}
	}
}

func TestQueueLongestWaitingFirst(t *testing.T) {
	t.Parallel()
	queues := actions.NewQueues()
	c := newCustomer(t, map[string][]reply{
		"/wait": {doc(`<Enqueue>sales</Enqueue><Say>after the queue</Say>`)},
		"/take": {doc(`<Dial><Queue>sales</Queue></Dial>`)},
	})
	pivotTo := func(path string) map[string]any {
		return pivotNode(map[string]any{"voice_url": c.URL + path, "method": "POST", "req_format": "twiml"}, nil)
	}
	wait, take := compileFlow(t, pivotTo("/wait")), compileFlow(t, pivotTo("/take"))

	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	callers := make([]*queuedCall, 2)
	for i := range callers {
		info := testInfo()
		info.ID = "waiting-" + strconv.Itoa(i+1)
		q := startQueued(&wg, func(onStart func(*sim.Channel, *call.Trace)) callRun {
			return runCall(t, wait, runOpt{info: &info, queues: queues, onStart: onStart})
		})
		callers[i] = q
		waitFor(t, info.ID+" to wait", q, func() bool { return queues.Size(testAccount, "sales") == i+1 && q.has("play") })
	}
	if p := line(t, callers[1].tr, "enqueue", 0)["position"]; p != float64(2) {
		t.Errorf("second caller's position %v", p)
	}
	for i, q := range callers {
		agent := testInfo()
		agent.ID = "agent-" + strconv.Itoa(i+1)
		rb := runCall(t, take, runOpt{info: &agent, queues: queues})
		// no action: the next verb; none, the call ends
		sim.AssertOps(t, rb.tr, "module", "webhook", "answer", "dial", "hangup")
		wantFields(t, line(t, rb.tr, "dial", 0), map[string]any{"status": "completed", "call_id": "waiting-" + strconv.Itoa(i+1)})
		ra := q.result(t)
		sim.AssertOps(t, ra.tr, "module", "webhook", "answer", "enqueue", "play", "dequeue", "say", "hangup")
		wantFields(t, line(t, ra.tr, "dequeue", 0), map[string]any{"result": "bridged", "by": agent.ID})
		wantFields(t, line(t, ra.tr, "say", 0), map[string]any{"text": "after the queue"})
		if n := queues.Size(testAccount, "sales"); n != 1-i {
			t.Errorf("after agent %d: %d in the queue", i+1, n)
		}
	}
}

func TestQueueSingleCall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		docs     map[string][]reply
		maxWait  time.Duration
		noQueues bool
		ops      []string
		check    func(t *testing.T, r callRun, c *customer)
	}{
		{
			name: "Dial Queue on an empty queue: no-answer",
			docs: map[string][]reply{
				"/start": {doc(`<Dial action="/after"><Queue>nobody</Queue></Dial>`)},
				"/after": {doc(`<Say>No one is waiting</Say>`)},
			},
			ops: []string{"module", "webhook", "answer", "dial", "webhook", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "dial", 0), map[string]any{"status": "no-answer", "call_id": ""})
				wantParams(t, c.request(t, "/after", 0), map[string]string{"DialCallStatus": "no-answer", "DialCallSid": "", "DialCallDuration": "0"})
			},
		},
		{
			name: "the wait document's Leave: the next verb",
			docs: map[string][]reply{
				"/start":          {doc(`<Enqueue waitUrl="hold/music.xml" waitUrlMethod="get">sales</Enqueue><Say>You left the queue</Say>`)},
				"/hold/music.xml": {doc(`<Say>All agents are busy</Say><Leave/><Say>never</Say>`)},
			},
			ops: []string{"module", "webhook", "answer", "enqueue", "webhook", "say", "dequeue", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wait := c.request(t, "/hold/music.xml", 0)
				if wait.Method != "GET" {
					t.Errorf("wait document asked by %s", wait.Method)
				}
				want := twimlBase("in-progress")
				want["QueuePosition"], want["QueueTime"] = "1", "0"
				wantExactly(t, wait, want, "QueueSid")
				if !queueID.MatchString(wait.Param("QueueSid")) {
					t.Errorf("QueueSid %q", wait.Param("QueueSid"))
				}
				wantFields(t, line(t, r.tr, "webhook", 1), map[string]any{"purpose": "wait", "method": "GET", "status": 200})
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": "All agents are busy"})
				wantFields(t, line(t, r.tr, "dequeue", 0), map[string]any{"queue": "sales", "result": "leave", "by": ""})
				wantFields(t, line(t, r.tr, "say", 1), map[string]any{"text": "You left the queue"})
			},
		},
		{
			name: "Leave with an action: QueueResult leave",
			docs: map[string][]reply{
				"/start": {doc(`<Enqueue action="/left" waitUrl="/wait">sales</Enqueue><Say>never</Say>`)},
				"/wait":  {doc(`<Leave/>`)},
				"/left":  {doc(`<Hangup/>`)},
			},
			ops: []string{"module", "webhook", "answer", "enqueue", "webhook", "dequeue", "webhook", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantRequests(t, c, "POST /start", "POST /wait", "POST /left")
				got := c.request(t, "/left", 0)
				want := twimlBase("in-progress")
				want["QueueResult"], want["QueueTime"] = "leave", "0"
				wantExactly(t, got, want, "QueueSid")
				if got.Param("QueueSid") != c.request(t, "/wait", 0).Param("QueueSid") {
					t.Errorf("QueueSid %q, the wait document got %q", got.Param("QueueSid"), c.request(t, "/wait", 0).Param("QueueSid"))
				}
			},
		},
		{
			name: "the wait document's Hangup ends the call",
			docs: map[string][]reply{
				"/start": {doc(`<Enqueue action="/never" waitUrl="/wait">sales</Enqueue>`)},
				"/wait":  {doc(`<Say>Goodbye</Say><Hangup/>`)},
			},
			ops: []string{"module", "webhook", "answer", "enqueue", "webhook", "say", "dequeue", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "dequeue", 0), map[string]any{"result": "hangup"})
				wantHangup(t, r, "NORMAL_CLEARING", "switchboard")
				wantRequests(t, c, "POST /start", "POST /wait")
			},
		},
		{
			name:    "MaxWait: the caller leaves the queue",
			maxWait: 20 * time.Millisecond,
			docs: map[string][]reply{
				"/start": {doc(`<Enqueue action="/left">sales</Enqueue>`)},
				"/left":  {doc(`<Say>Please call back later</Say>`)},
			},
			ops: []string{"module", "webhook", "answer", "enqueue", "play", "dequeue", "webhook", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "dequeue", 0), map[string]any{"result": "leave"})
				wantParams(t, c.request(t, "/left", 0), map[string]string{"QueueResult": "leave"})
			},
		},
		{
			name:    "an unusable wait document: hold music",
			maxWait: 20 * time.Millisecond,
			docs: map[string][]reply{
				"/start": {doc(`<Enqueue waitUrl="/wait">sales</Enqueue><Say>after</Say>`)},
				"/wait":  {{Status: 500, Body: "down"}},
			},
			ops: []string{"module", "webhook", "answer", "enqueue", "webhook", "play", "dequeue", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "webhook", 1), map[string]any{"purpose": "wait", "status": 500})
				wantFields(t, line(t, r.tr, "play", 0), map[string]any{"url": "builtin:hold-music"})
				wantFields(t, line(t, r.tr, "dequeue", 0), map[string]any{"result": "leave"})
			},
		},
		{
			name:     "no queue service: a clean failure",
			noQueues: true,
			docs:     map[string][]reply{"/start": {doc(`<Enqueue>sales</Enqueue>`)}},
			ops:      []string{"module", "webhook", "error", "say", "hangup"},
			check: func(t *testing.T, r callRun, c *customer) {
				wantFields(t, line(t, r.tr, "error", 0), map[string]any{"code": 12400})
				wantFields(t, line(t, r.tr, "say", 0), map[string]any{"text": apology})
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			queues := actions.NewQueues()
			queues.MaxWait = tc.maxWait
			if tc.maxWait == 0 {
				queues.MaxWait = time.Minute // a test that waits for it has failed
			}
			r, c := runPivot(t, tc.docs, map[string]any{"voice_url": "{{base}}/start", "method": "POST", "req_format": "twiml"}, nil,
				runOpt{queues: queues, noQueues: tc.noQueues})
			sim.AssertOps(t, r.tr, tc.ops...)
			if tc.check != nil {
				tc.check(t, r, c)
			}
			if n := queues.Size(testAccount, "sales"); n != 0 {
				t.Errorf("%d callers left in the queue", n)
			}
		})
	}
}
