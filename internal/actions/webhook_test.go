package actions_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/pivot"
)

// hookServer records the requests it gets.
type hookServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []hookRequest
}

type hookRequest struct {
	method, ctype string
	form          url.Values
	body          []byte
	signed        bool
}

func newHookServer(t *testing.T, status int, delay time.Duration) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(r.URL.RawQuery)
		if r.Header.Get("Content-Type") == pivot.ContentTypeForm {
			form, _ = url.ParseQuery(string(body))
		}
		h.mu.Lock()
		h.reqs = append(h.reqs, hookRequest{r.Method, r.Header.Get("Content-Type"), form, body, r.Header.Get("X-Switchboard-Signature") != ""})
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.reqs...)
}

func hookFlow(data string) string {
	return `{"module":"webhook","data":{` + data + `},"children":{"_":{"module":"tts","data":{"text":"Hello."}}}}`
}

func TestWebhookPostForm(t *testing.T) {
	h := newHookServer(t, http.StatusNoContent, 0)
	log := &actionstest.CallLog{}
	flow := `{"module":"set_variable","data":{"variable":"ticket","value":"T-42"},"children":{"_":` +
		hookFlow(`"uri":"`+h.URL+`/calls","custom_data":{"source":"main-line","priority":2}`) + `}}`
	c := catRun(t, flow, catOpts{callLog: log, name: "Alice"})

	// The call did not wait: the webhook line comes before the greeting.
	wantEqual(t, "ops", c.Ops(), []string{"module", "set", "module", "webhook", "module", "answer", "say", "hangup"})
	w := c.Find("webhook")[0]
	wantEqual(t, "line", []any{w["method"], w["url"], w["status"], w["async"], w["format"]}, []any{"POST", h.URL + "/calls", 0, true, "kazoo"})
	params := c.Line(t, "webhook", 0)["params"].(map[string]any) // as the call log and the API show it
	wantEqual(t, "traced params", []any{params["hook_event"], params["source"], params["caller_id_number"]}, []any{"callflow", "main-line", "+15555550100"})

	// Run returned after the request finished (OnEnd waits for it).
	reqs := h.requests()
	if len(reqs) != 1 {
		t.Fatalf("requests %v", reqs)
	}
	r := reqs[0]
	wantEqual(t, "method", r.method, "POST")
	wantEqual(t, "content type", r.ctype, pivot.ContentTypeForm)
	for k, v := range map[string]string{
		"hook_event": "callflow", "call_id": "call-1", "account_id": "acct", "caller_id_number": "+15555550100",
		"caller_id_name": "Alice", "source": "main-line", "priority": "2", "custom_application_vars[ticket]": "T-42",
		"request": "3000@sb.example.com", "language": "en-US",
	} {
		if got := r.form.Get(k); got != v {
			t.Errorf("%s = %q, want %q (form %v)", k, got, v, r.form)
		}
	}
	if !r.signed {
		t.Error("not signed")
	}
	if hooks := log.Webhooks(); len(hooks) != 1 || hooks[0].Status != http.StatusNoContent || hooks[0].CallID != "call-1" {
		t.Errorf("call log %+v", hooks)
	}
}

func TestWebhookGetAndJSON(t *testing.T) {
	h := newHookServer(t, http.StatusOK, 0)
	catRun(t, hookFlow(`"uri":"`+h.URL+`/q?token=abc","http_verb":"get"`), catOpts{})
	catRun(t, hookFlow(`"uri":"`+h.URL+`/j","format":"json","custom_data":{"n":1}`), catOpts{})
	reqs := h.requests()
	if len(reqs) != 2 {
		t.Fatalf("requests %v", reqs)
	}
	if reqs[0].method != "GET" || reqs[0].form.Get("token") != "abc" || reqs[0].form.Get("hook_event") != "callflow" {
		t.Errorf("GET %+v", reqs[0])
	}
	var body map[string]any
	if err := json.Unmarshal(reqs[1].body, &body); err != nil || reqs[1].ctype != pivot.ContentTypeJSON {
		t.Fatalf("JSON body %q: %v", reqs[1].body, err)
	}
	if body["hook_event"] != "callflow" || body["n"] != 1.0 {
		t.Errorf("JSON body %v", body)
	}
}

func TestWebhookFailuresDoNotStopTheCall(t *testing.T) {
	h := newHookServer(t, http.StatusInternalServerError, 0)
	c := catRun(t, hookFlow(`"uri":"`+h.URL+`/down"`), catOpts{})
	wantEqual(t, "said", c.Said(), []string{"Hello."})
	if len(c.Find("error")) != 0 || c.Result.Err != nil {
		t.Errorf("a failed webhook failed the call: %+v", c.Result)
	}
	// Nothing listens: the connection is refused, retried, and the call goes on.
	dead := httptest.NewServer(http.NotFoundHandler())
	addr := dead.URL
	dead.Close()
	c = catRun(t, hookFlow(`"uri":"`+addr+`/gone","retries":1`), catOpts{})
	wantEqual(t, "said", c.Said(), []string{"Hello."})
}

func TestWebhookDoesNotBlockTheCall(t *testing.T) {
	h := newHookServer(t, http.StatusOK, 300*time.Millisecond)
	// The caller hangs up at the gather that follows: the webhook still
	// completes, and the call's end waits for it.
	flow := `{"module":"webhook","data":{"uri":"` + h.URL + `/slow"},"children":{"_":{"module":"collect_dtmf","data":{}}}}`
	start := time.Now()
	c := catRun(t, flow, catOpts{inputs: []string{"hangup"}})
	if c.Result.By != "caller" {
		t.Errorf("result %+v", c.Result)
	}
	if len(h.requests()) != 1 {
		t.Errorf("the webhook was cancelled by the hangup")
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Error("the call's end did not wait for its webhook")
	}
	if ev := c.Trace.Events(); ev[len(ev)-1].Op != "hangup" {
		t.Errorf("the trace does not end with hangup:\n%s", c.Trace.JSONL())
	}
}

func TestWebhookWithoutClient(t *testing.T) {
	c := catRun(t, hookFlow(`"uri":"https://example.com/x"`), catOpts{noWebhooks: true})
	if e := c.Find("error"); len(e) != 1 {
		t.Errorf("errors %v", e)
	}
	wantEqual(t, "said", c.Said(), []string{"Hello."})
}
