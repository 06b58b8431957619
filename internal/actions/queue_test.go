package actions_test

// <Enqueue>, <Leave> and <Dial><Queue>: in-memory queues, with calls that
// run concurrently.

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/actions"
	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/twiml"
)

var queueID = regexp.MustCompile(`^QU[0-9a-f]{32}$`)

// queueDeps are complete dependencies with queues (none when noQueues).
func queueDeps(queues *twiml.Queues, noQueues bool) *actions.Deps {
	d := actionstest.Deps()
	d.Queues = queues
	if noQueues {
		d.Queues = nil
	}
	return d
}

// startQueued starts a call of info to root in its own goroutine.
func startQueued(t *testing.T, root *engine.Node, info call.Info, queues *twiml.Queues) *actionstest.Running {
	t.Helper()
	return actionstest.Start(t, root, actionstest.Options{Info: info, Deps: queueDeps(queues, false)})
}

func TestQueueEnqueueThenDialQueue(t *testing.T) {
	t.Parallel()
	queues := twiml.NewQueues()
	c := actionstest.NewCustomer(t, map[string][]actionstest.Reply{
		"/a":      {actionstest.Doc(`<Say>Please wait</Say><Enqueue action="/a-done">support</Enqueue><Say>never</Say>`)},
		"/a-done": {actionstest.Doc(`<Say>Thank you for waiting</Say>`)},
		"/b":      {actionstest.Doc(`<Dial action="/b-done" timeout="20"><Queue>support</Queue></Dial><Say>never</Say>`)},
		"/b-done": {actionstest.Doc(`<Hangup/>`)},
	})
	pivotTo := func(path string) map[string]any {
		return pivotNode(map[string]any{"voice_url": c.URL + path, "method": "POST", "req_format": "twiml"}, nil)
	}
	rootA, rootB := compileFlow(t, pivotTo("/a")), compileFlow(t, pivotTo("/b"))
	infoA, infoB := testInfo(), testInfo()
	infoA.ID, infoB.ID, infoB.From = "call-A", "call-B", "+15550004444"

	a := startQueued(t, rootA, infoA, queues)
	// A waits in the queue, its hold music played out (simulated time).
	a.WaitFor(t, "call A to wait in the queue", func() bool {
		return queues.Size(testAccount, "support") == 1 && a.Has("play")
	})
	if n := queues.Size("other-account", "support"); n != 0 {
		t.Errorf("another account's queue has %d callers", n)
	}

	rb := runCall(t, rootB, actionstest.Options{Info: infoB, Deps: queueDeps(queues, false)})
	ra := a.Wait(t)

	// B took A from the queue.
	sim.AssertOps(t, rb.Trace, "module", "webhook", "answer", "dial", "webhook", "hangup")
	actionstest.WantFields(t, rb.Line(t, "dial", 0), map[string]any{
		"targets": []map[string]any{{"kind": "queue", "value": "support"}},
		"status":  "completed", "call_id": "call-A", "timeout": 20, "caller_id": "",
	})
	bDone := c.Request(t, "/b-done", 0)
	actionstest.WantParams(t, bDone, map[string]string{
		"CallSid": "call-B", "From": "+15550004444", "CallStatus": "in-progress",
		"DialCallStatus": "completed", "DialCallSid": "call-A", "DialCallDuration": "0",
	})

	// A left the queue bridged to B; its action says so.
	sim.AssertOps(t, ra.Trace, "module", "webhook", "answer", "say", "enqueue", "play", "dequeue", "webhook", "say", "hangup")
	enq := ra.Line(t, "enqueue", 0)
	actionstest.WantFields(t, enq, map[string]any{"queue": "support", "position": 1})
	sid, _ := enq["queue_sid"].(string)
	if !queueID.MatchString(sid) {
		t.Errorf("queue_sid %q", sid)
	}
	actionstest.WantFields(t, ra.Line(t, "play", 0), map[string]any{"url": "builtin:hold-music", "loop": 0, "error": actionstest.NoField{}})
	actionstest.WantFields(t, ra.Line(t, "dequeue", 0), map[string]any{"queue": "support", "result": "bridged", "by": "call-B"})
	aDone := c.Request(t, "/a-done", 0)
	want := twimlBase("in-progress")
	want["CallSid"], want["QueueResult"], want["QueueSid"] = "call-A", "bridged", sid
	want["QueuePosition"], want["CurrentQueueSize"], want["MaxQueueSize"] = "0", "0", "100"
	want["AvgQueueTime"] = aDone.Param("QueueTime")
	actionstest.WantExactly(t, aDone, want, "QueueTime")
	if qt, err := strconv.Atoi(aDone.Param("QueueTime")); err != nil || qt < 1 {
		t.Errorf("QueueTime %q, want the seconds waited (the music lasted 1 s)", aDone.Param("QueueTime"))
	}
	actionstest.WantFields(t, ra.Line(t, "say", 1), map[string]any{"text": "Thank you for waiting"})
	if n := queues.Size(testAccount, "support"); n != 0 {
		t.Errorf("%d callers left in the queue", n)
	}
	for _, r := range []*actionstest.Call{ra, rb} {
		if r.Result.By != "switchboard" || r.Result.Cause != "NORMAL_CLEARING" || r.Result.Err != nil {
			t.Errorf("result %+v", r.Result)
		}
	}
}

func TestQueueLongestWaitingFirst(t *testing.T) {
	t.Parallel()
	queues := twiml.NewQueues()
	c := actionstest.NewCustomer(t, map[string][]actionstest.Reply{
		"/wait": {actionstest.Doc(`<Enqueue>sales</Enqueue><Say>after the queue</Say>`)},
		"/take": {actionstest.Doc(`<Dial><Queue>sales</Queue></Dial>`)},
	})
	pivotTo := func(path string) map[string]any {
		return pivotNode(map[string]any{"voice_url": c.URL + path, "method": "POST", "req_format": "twiml"}, nil)
	}
	wait, take := compileFlow(t, pivotTo("/wait")), compileFlow(t, pivotTo("/take"))

	callers := make([]*actionstest.Running, 2)
	for i := range callers {
		info := testInfo()
		info.ID = "waiting-" + strconv.Itoa(i+1)
		q := startQueued(t, wait, info, queues)
		callers[i] = q
		q.WaitFor(t, info.ID+" to wait", func() bool { return queues.Size(testAccount, "sales") == i+1 && q.Has("play") })
	}
	if p := actionstest.Line(t, callers[1].Trace(), "enqueue", 0)["position"]; p != float64(2) {
		t.Errorf("second caller's position %v", p)
	}
	for i, q := range callers {
		agent := testInfo()
		agent.ID = "agent-" + strconv.Itoa(i+1)
		rb := runCall(t, take, actionstest.Options{Info: agent, Deps: queueDeps(queues, false)})
		// no action: the next verb; none, the call ends
		sim.AssertOps(t, rb.Trace, "module", "webhook", "answer", "dial", "hangup")
		actionstest.WantFields(t, rb.Line(t, "dial", 0), map[string]any{"status": "completed", "call_id": "waiting-" + strconv.Itoa(i+1)})
		ra := q.Wait(t)
		sim.AssertOps(t, ra.Trace, "module", "webhook", "answer", "enqueue", "play", "dequeue", "say", "hangup")
		actionstest.WantFields(t, ra.Line(t, "dequeue", 0), map[string]any{"result": "bridged", "by": agent.ID})
		actionstest.WantFields(t, ra.Line(t, "say", 0), map[string]any{"text": "after the queue"})
		if n := queues.Size(testAccount, "sales"); n != 1-i {
			t.Errorf("after agent %d: %d in the queue", i+1, n)
		}
	}
}

func TestQueueSingleCall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		docs     map[string][]actionstest.Reply
		maxWait  time.Duration
		noQueues bool
		ops      []string
		check    func(t *testing.T, r *actionstest.Call, c *actionstest.Customer)
	}{
		{
			name: "Dial Queue on an empty queue: no-answer",
			docs: map[string][]actionstest.Reply{
				"/start": {actionstest.Doc(`<Dial action="/after"><Queue>nobody</Queue></Dial>`)},
				"/after": {actionstest.Doc(`<Say>No one is waiting</Say>`)},
			},
			ops: []string{"module", "webhook", "answer", "dial", "webhook", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "dial", 0), map[string]any{"status": "no-answer", "call_id": ""})
				actionstest.WantParams(t, c.Request(t, "/after", 0), map[string]string{"DialCallStatus": "no-answer", "DialCallSid": "", "DialCallDuration": "0"})
			},
		},
		{
			name: "the wait document's Leave: the next verb",
			docs: map[string][]actionstest.Reply{
				"/start":          {actionstest.Doc(`<Enqueue waitUrl="hold/music.xml" waitUrlMethod="get">sales</Enqueue><Say>You left the queue</Say>`)},
				"/hold/music.xml": {actionstest.Doc(`<Say>All agents are busy</Say><Leave/><Say>never</Say>`)},
			},
			ops: []string{"module", "webhook", "answer", "enqueue", "webhook", "say", "dequeue", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				wait := c.Request(t, "/hold/music.xml", 0)
				if wait.Method != "GET" {
					t.Errorf("wait document asked by %s", wait.Method)
				}
				want := twimlBase("in-progress")
				want["QueuePosition"], want["QueueTime"] = "1", "0"
				want["AvgQueueTime"], want["CurrentQueueSize"], want["MaxQueueSize"] = "0", "1", "100"
				actionstest.WantExactly(t, wait, want, "QueueSid")
				if !queueID.MatchString(wait.Param("QueueSid")) {
					t.Errorf("QueueSid %q", wait.Param("QueueSid"))
				}
				actionstest.WantFields(t, r.Line(t, "webhook", 1), map[string]any{"purpose": "wait", "method": "GET", "status": 200})
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": "All agents are busy"})
				actionstest.WantFields(t, r.Line(t, "dequeue", 0), map[string]any{"queue": "sales", "result": "leave", "by": ""})
				actionstest.WantFields(t, r.Line(t, "say", 1), map[string]any{"text": "You left the queue"})
			},
		},
		{
			name: "Leave with an action: QueueResult leave",
			docs: map[string][]actionstest.Reply{
				"/start": {actionstest.Doc(`<Enqueue action="/left" waitUrl="/wait">sales</Enqueue><Say>never</Say>`)},
				"/wait":  {actionstest.Doc(`<Leave/>`)},
				"/left":  {actionstest.Doc(`<Hangup/>`)},
			},
			ops: []string{"module", "webhook", "answer", "enqueue", "webhook", "dequeue", "webhook", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				c.WantPaths(t, "POST /start", "POST /wait", "POST /left")
				got := c.Request(t, "/left", 0)
				want := twimlBase("in-progress")
				want["QueueResult"], want["QueueTime"] = "leave", "0"
				want["QueuePosition"], want["AvgQueueTime"], want["CurrentQueueSize"], want["MaxQueueSize"] = "0", "0", "0", "100"
				actionstest.WantExactly(t, got, want, "QueueSid")
				if got.Param("QueueSid") != c.Request(t, "/wait", 0).Param("QueueSid") {
					t.Errorf("QueueSid %q, the wait document got %q", got.Param("QueueSid"), c.Request(t, "/wait", 0).Param("QueueSid"))
				}
			},
		},
		{
			name: "the wait document's Hangup ends the call",
			docs: map[string][]actionstest.Reply{
				"/start": {actionstest.Doc(`<Enqueue action="/never" waitUrl="/wait">sales</Enqueue>`)},
				"/wait":  {actionstest.Doc(`<Say>Goodbye</Say><Hangup/>`)},
			},
			ops: []string{"module", "webhook", "answer", "enqueue", "webhook", "say", "dequeue", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "dequeue", 0), map[string]any{"result": "hangup"})
				r.WantHangup(t, "NORMAL_CLEARING", "switchboard")
				c.WantPaths(t, "POST /start", "POST /wait")
			},
		},
		{
			name:    "MaxWait: the caller leaves the queue",
			maxWait: 20 * time.Millisecond,
			docs: map[string][]actionstest.Reply{
				"/start": {actionstest.Doc(`<Enqueue action="/left">sales</Enqueue>`)},
				"/left":  {actionstest.Doc(`<Say>Please call back later</Say>`)},
			},
			ops: []string{"module", "webhook", "answer", "enqueue", "play", "dequeue", "webhook", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "dequeue", 0), map[string]any{"result": "leave"})
				actionstest.WantParams(t, c.Request(t, "/left", 0), map[string]string{"QueueResult": "leave"})
			},
		},
		{
			name: "an unusable wait document: hold music",
			// Long enough for the wait document's answer to come first on
			// a loaded machine: at 20 ms the caller sometimes left while
			// the request was still out (status 0; 1 run in 10 under -race
			// at load 20, on main too).
			maxWait: 500 * time.Millisecond,
			docs: map[string][]actionstest.Reply{
				"/start": {actionstest.Doc(`<Enqueue waitUrl="/wait">sales</Enqueue><Say>after</Say>`)},
				"/wait":  {{Status: 500, Body: "down"}},
			},
			ops: []string{"module", "webhook", "answer", "enqueue", "webhook", "play", "dequeue", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "webhook", 1), map[string]any{"purpose": "wait", "status": 500})
				actionstest.WantFields(t, r.Line(t, "play", 0), map[string]any{"url": "builtin:hold-music"})
				actionstest.WantFields(t, r.Line(t, "dequeue", 0), map[string]any{"result": "leave"})
			},
		},
		{
			name:     "no queue service: a clean failure",
			noQueues: true,
			docs:     map[string][]actionstest.Reply{"/start": {actionstest.Doc(`<Enqueue>sales</Enqueue>`)}},
			ops:      []string{"module", "webhook", "error", "say", "hangup"},
			check: func(t *testing.T, r *actionstest.Call, c *actionstest.Customer) {
				actionstest.WantFields(t, r.Line(t, "error", 0), map[string]any{"code": 12400})
				actionstest.WantFields(t, r.Line(t, "say", 0), map[string]any{"text": apology})
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			queues := twiml.NewQueues()
			queues.MaxWait = tc.maxWait
			if tc.maxWait == 0 {
				queues.MaxWait = time.Minute // a test that waits for it has failed
			}
			r, c := runPivot(t, tc.docs, map[string]any{"voice_url": "{{base}}/start", "method": "POST", "req_format": "twiml"}, nil,
				actionstest.Options{Deps: queueDeps(queues, tc.noQueues)})
			sim.AssertOps(t, r.Trace, tc.ops...)
			if tc.check != nil {
				tc.check(t, r, c)
			}
			if n := queues.Size(testAccount, "sales"); n != 0 {
				t.Errorf("%d callers left in the queue", n)
			}
		})
	}
}
