package actions_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/callflow"
	"github.com/switchboard/switchboard/internal/schema"
)

// cidLines are the values of the caller id "set" lines, in order.
func cidLines(c *actionstest.Call) []string {
	var out []string
	for _, f := range c.Find("set") {
		if k := f["key"]; k == "caller_id_number" || k == "caller_id_name" {
			out = append(out, f["key"].(string)+"="+f["value"].(string))
		}
	}
	return out
}

func TestSetCID(t *testing.T) {
	c := catRun(t, `{"module":"set_cid","data":{"caller_id_name":"Acme","caller_id_number":"+14155550000"}}`, catOpts{from: "+15555550100", name: "Alice"})
	wantEqual(t, "set lines", cidLines(c), []string{"caller_id_number=+14155550000", "caller_id_name=Acme"})
	c = catRun(t, `{"module":"set_cid","data":{"caller_id_name":"Acme"}}`, catOpts{from: "+15555550100", name: "Alice"})
	wantEqual(t, "empty number kept", cidLines(c), []string{"caller_id_number=+15555550100", "caller_id_name=Acme"})
}

func TestPrependCID(t *testing.T) {
	pre := func(data string, next string) string {
		s := `{"module":"prepend_cid","data":{` + data + `}`
		if next != "" {
			s += `,"children":{"_":` + next + `}`
		}
		return s + `}`
	}
	for _, tc := range []struct {
		name, flow string
		last       []string // the caller id after the last block
	}{
		{"prefix", pre(`"caller_id_name_prefix":"Sales: ","caller_id_number_prefix":"9"`, ""), []string{"caller_id_number=9+15555550100", "caller_id_name=Sales: Alice"}},
		{"prefixes add up", pre(`"caller_id_name_prefix":"A "`, pre(`"caller_id_name_prefix":"B "`, "")), []string{"caller_id_number=+15555550100", "caller_id_name=B A Alice"}},
		{"original replaces", pre(`"caller_id_name_prefix":"A "`, pre(`"caller_id_name_prefix":"B ","apply_to":"original"`, "")), []string{"caller_id_number=+15555550100", "caller_id_name=B Alice"}},
		{"reset", pre(`"caller_id_name_prefix":"A "`, pre(`"action":"reset"`, "")), []string{"caller_id_number=+15555550100", "caller_id_name=Alice"}},
		{"over set_cid", `{"module":"set_cid","data":{"caller_id_name":"Acme"},"children":{"_":` + pre(`"caller_id_name_prefix":"VIP "`, "") + `}}`, []string{"caller_id_number=+15555550100", "caller_id_name=VIP Acme"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := cidLines(catRun(t, tc.flow, catOpts{name: "Alice"}))
			wantEqual(t, "caller id", lines[len(lines)-2:], tc.last)
		})
	}
}

func TestCheckCID(t *testing.T) {
	children := `"match":{"module":"tts","data":{"text":"match"}},"nomatch":{"module":"tts","data":{"text":"nomatch"}},
		"+15555550123":{"module":"tts","data":{"text":"that number"}},"_":{"module":"tts","data":{"text":"default"}}`
	check := func(data string) string {
		return `{"module":"check_cid","data":{` + data + `},"children":{` + children + `}}`
	}
	for _, tc := range []struct {
		name, flow, from string
		key, said        string
	}{
		{"match", check(`"regex":"^\\+1555"`), "+15555550100", "match", "match"},
		{"nomatch", check(`"regex":"^\\+44"`), "+15555550100", "nomatch", "nomatch"},
		{"default pattern matches all", check(``), "+33123456789", "match", "match"},
		{"searched, not anchored", check(`"regex":"0100"`), "+15555550100", "match", "match"},
		{"absolute: the number's child", check(`"use_absolute_mode":true`), "+15555550123", "+15555550123", "that number"},
		{"absolute: no child", check(`"use_absolute_mode":true`), "+15555550999", "_", "default"},
		{"after set_cid", `{"module":"set_cid","data":{"caller_id_number":"+4420"},"children":{"_":` + check(`"regex":"^\\+44"`) + `}}`, "+15555550100", "match", "match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := catRun(t, tc.flow, catOpts{from: tc.from})
			wantEqual(t, "branches", c.Branches(), []string{tc.key})
			wantEqual(t, "said", c.Said(), []string{tc.said})
		})
	}
	t.Run("a match sets the caller id", func(t *testing.T) {
		c := catRun(t, check(`"regex":"^\\+1555","caller_id":{"external":{"name":"VIP","number":"+18005550000"}}`), catOpts{name: "Alice"})
		wantEqual(t, "caller id", cidLines(c), []string{"caller_id_number=+18005550000", "caller_id_name=VIP"})
		c = catRun(t, check(`"regex":"^\\+44","caller_id":{"external":{"name":"VIP"}}`), catOpts{name: "Alice"})
		wantEqual(t, "no match, no change", cidLines(c), []string(nil))
	})
	t.Run("a bad pattern is refused", func(t *testing.T) {
		_, err := callflow.Prepare([]byte(`{"numbers":["1"],"flow":{"module":"check_cid","data":{"regex":"(+"}}}`))
		ve, ok := err.(schema.ValidationError)
		if !ok || ve[0].Path != "flow.data.regex" {
			t.Errorf("err = %v", err)
		}
	})
}

// TestCallerIDReachesPivot: set_cid and language change what Pivot sends;
// without them the parameters are the call's own (pivot's tests hold the
// rest).
func TestCallerIDReachesPivot(t *testing.T) {
	var mu sync.Mutex
	var got []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm() // GET query or POST form
		mu.Lock()
		got = append(got, r.Form)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<Response><Hangup/></Response>`)
	}))
	defer srv.Close()
	pivotNode := func(format string) string {
		return `{"module":"pivot","data":{"voice_url":"` + srv.URL + `/voice","req_format":"` + format + `"}}`
	}
	withCID := func(format string) string {
		return `{"module":"set_cid","data":{"caller_id_name":"Acme","caller_id_number":"+14155550000"},"children":{"_":
			{"module":"language","data":{"language":"fr-FR"},"children":{"_":` + pivotNode(format) + `}}}}`
	}
	for _, tc := range []struct {
		flow string
		want map[string]string
	}{
		{withCID("twiml"), map[string]string{"From": "+14155550000", "Caller": "+14155550000", "CallerName": "Acme"}},
		{withCID("kazoo"), map[string]string{"Caller-ID-Number": "+14155550000", "Caller-ID-Name": "Acme", "From": "+15555550100", "Language": "fr-FR"}},
		{pivotNode("twiml"), map[string]string{"From": "+15555550100", "Caller": "+15555550100", "CallerName": "Alice"}},
		{pivotNode("kazoo"), map[string]string{"Caller-ID-Number": "+15555550100", "Caller-ID-Name": "Alice", "Language": "en-US"}},
	} {
		mu.Lock()
		got = nil
		mu.Unlock()
		catRun(t, tc.flow, catOpts{name: "Alice"})
		mu.Lock()
		if len(got) != 1 {
			t.Fatalf("requests: %v", got)
		}
		for k, v := range tc.want {
			if got[0].Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", strings.SplitN(tc.flow, ",", 2)[0], k, got[0].Get(k), v)
			}
		}
		mu.Unlock()
	}
}
