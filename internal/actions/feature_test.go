package actions_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/call/sim"
	"github.com/switchboard/switchboard/internal/engine"
)

// featureCall is one feature-code call: from device "desk" of user
// "alice" unless from says otherwise, with the dialled code's capture
// group, on documents docs (changed in place).
type featureCall struct {
	flow     string
	docs     actionstest.Docs
	capture  string
	inputs   []string
	device   string // "-" for a call from a trunk (no device, no owner)
	owner    string
	account  string
	noWriter bool
}

func (fc featureCall) run(t *testing.T) *actionstest.Call {
	t.Helper()
	info := actionstest.Info()
	info.DeviceID, info.OwnerID = "desk", "alice"
	if fc.device == "-" {
		info.DeviceID, info.OwnerID = "", ""
	} else if fc.device != "" {
		info.DeviceID, info.OwnerID = fc.device, fc.owner
	}
	if fc.account != "" {
		info.AccountID = fc.account
	}
	deps := actionstest.Deps()
	deps.Documents, deps.Writes = fc.docs, fc.docs
	if fc.noWriter {
		deps.Writes = nil
	}
	vars := engine.NewVars()
	if fc.capture != "" {
		vars.Set("capture_group", fc.capture)
	}
	return actionstest.Run(t, actionstest.Flow(t, fc.flow), actionstest.Options{
		Info: info, Script: sim.Script{Inputs: fc.inputs}, Deps: deps, Vars: vars,
	})
}

// phoneDocs are alice (a user) and her desk phone; each test gets its own.
func phoneDocs(user string) actionstest.Docs {
	return actionstest.Docs{
		"users/alice":   user,
		"devices/desk":  `{"id":"desk","name":"Desk","owner_id":"alice","sip":{"username":"alice"}}`,
		"devices/lobby": `{"id":"lobby","name":"Lobby phone","sip":{"username":"lobby"}}`,
		"callflows/cf1": `{"id":"cf1","numbers":["100"]}`,
	}
}

// doc reads a stored document back.
func doc(t *testing.T, docs actionstest.Docs, key string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(docs[key]), &m); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return m
}

// setting reads obj.field of a stored document.
func setting(t *testing.T, docs actionstest.Docs, key, obj, field string) any {
	t.Helper()
	m, _ := doc(t, docs, key)[obj].(map[string]any)
	return m[field]
}

const aliceDoc = `{"id":"alice","first_name":"Alice","last_name":"A","caller_id":{"internal":{"number":"2200"}}}`

// TestDoNotDisturb: *78 / *79 / toggle change the caller's owner's
// do_not_disturb (the other settings untouched), confirm it aloud and go
// on; an id names another user or device of the account.
func TestDoNotDisturb(t *testing.T) {
	for _, tc := range []struct {
		name, data, user string
		device, owner    string
		key              string // document changed
		want             bool
		said             string
	}{
		{name: "activate", data: `"action":"activate"`, user: aliceDoc, key: "users/alice", want: true, said: "Do not disturb activated."},
		{name: "deactivate", data: `"action":"deactivate"`, user: `{"id":"alice","first_name":"A","last_name":"B","do_not_disturb":{"enabled":true}}`,
			key: "users/alice", want: false, said: "Do not disturb deactivated."},
		{name: "toggle on", data: `"action":"toggle"`, user: aliceDoc, key: "users/alice", want: true, said: "Do not disturb activated."},
		{name: "toggle off (no action)", data: ``, user: `{"id":"alice","first_name":"A","last_name":"B","do_not_disturb":{"enabled":true}}`,
			key: "users/alice", want: false, said: "Do not disturb deactivated."},
		{name: "a device without owner changes itself", data: `"action":"activate"`, user: aliceDoc, device: "lobby",
			key: "devices/lobby", want: true, said: "Do not disturb activated."},
		{name: "id names another device", data: `"action":"activate","id":"lobby"`, user: aliceDoc,
			key: "devices/lobby", want: true, said: "Do not disturb activated."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := phoneDocs(tc.user)
			c := featureCall{flow: `{"module":"do_not_disturb","data":{` + tc.data + `},"children":{"_":{"module":"tts","data":{"text":"next"}}}}`,
				docs: docs, device: tc.device, owner: tc.owner}.run(t)
			if got := setting(t, docs, tc.key, "do_not_disturb", "enabled"); got != tc.want {
				t.Errorf("%s do_not_disturb.enabled = %v, want %v", tc.key, got, tc.want)
			}
			if said := c.Said(); len(said) != 2 || said[0] != tc.said || said[1] != "next" {
				t.Errorf("said %q", said)
			}
			if set := c.Find("set"); len(set) != 1 || set[0]["key"] != "do_not_disturb.enabled" || set[0]["value"] != tc.want || set[0]["doc"] != tc.key {
				t.Errorf("set lines %v", set)
			}
			if tc.key == "users/alice" && doc(t, docs, "users/alice")["first_name"] == nil {
				t.Error("the user's other fields were lost")
			}
		})
	}
	t.Run("already on: nothing written", func(t *testing.T) {
		docs := phoneDocs(`{"id":"alice","first_name":"A","last_name":"B","do_not_disturb":{"enabled":true}}`)
		c := featureCall{flow: `{"module":"do_not_disturb","data":{"action":"activate"}}`, docs: docs}.run(t)
		if len(c.Find("set")) != 0 || c.Said()[0] != "Do not disturb activated." {
			t.Errorf("set %v, said %q", c.Find("set"), c.Said())
		}
	})
}

// TestFeatureCodeBoundaries: a feature code changes only users and
// devices of the call's own account, and only for a caller that is a
// phone (or an id of the account): a trunk caller, an id of another
// account or of a call flow, get "not available" and change nothing.
func TestFeatureCodeBoundaries(t *testing.T) {
	for _, tc := range []struct {
		name, flow string
		fc         featureCall
		said       string
	}{
		{name: "a call from a trunk", flow: `{"module":"do_not_disturb","data":{"action":"activate"}}`,
			fc: featureCall{device: "-"}, said: "Do not disturb is not available from this phone."},
		{name: "a call of another account naming this account's user", flow: `{"module":"do_not_disturb","data":{"action":"activate","id":"alice"}}`,
			fc: featureCall{account: "other", device: "desk2", owner: "bob"}, said: "Do not disturb is not available from this phone."},
		{name: "an id naming a call flow, from a trunk", flow: `{"module":"do_not_disturb","data":{"action":"activate","id":"cf1"}}`,
			fc: featureCall{device: "-"}, said: "Do not disturb is not available from this phone."},
		{name: "call forwarding from a trunk", flow: `{"module":"call_forward","data":{"action":"activate"}}`,
			fc: featureCall{device: "-", capture: "5551234"}, said: "Call forwarding is not available from this phone."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := phoneDocs(aliceDoc)
			before := strings.Join([]string{docs["users/alice"], docs["devices/desk"], docs["devices/lobby"], docs["callflows/cf1"]}, "|")
			tc.fc.flow, tc.fc.docs = tc.flow, docs
			c := tc.fc.run(t)
			after := strings.Join([]string{docs["users/alice"], docs["devices/desk"], docs["devices/lobby"], docs["callflows/cf1"]}, "|")
			if before != after {
				t.Errorf("documents changed:\n%s\n%s", before, after)
			}
			if said := c.Said(); len(said) != 1 || said[0] != tc.said {
				t.Errorf("said %q", said)
			}
			if w := c.Find("warning"); len(w) != 1 || w[0]["code"] != "feature_unavailable" {
				t.Errorf("warnings %v", w)
			}
		})
	}
	t.Run("no writer: the caller hears the failure, the trace has the error", func(t *testing.T) {
		docs := phoneDocs(aliceDoc)
		c := featureCall{flow: `{"module":"do_not_disturb","data":{"action":"activate"}}`, docs: docs, noWriter: true}.run(t)
		if e := c.Find("error"); len(e) != 1 || !strings.Contains(e[0]["message"].(string), "no document writer") {
			t.Errorf("errors %v", e)
		}
		if said := c.Said(); len(said) != 1 || !strings.Contains(said[0], "could not be changed") {
			t.Errorf("said %q", said)
		}
	})
}

// TestCallForward: *72 with a number, *72 asking for one, *73, toggle,
// update and the menu change the caller's call_forward (enabled and
// number; the other settings kept) and say so.
func TestCallForward(t *testing.T) {
	on := `{"id":"alice","first_name":"A","last_name":"B","call_forward":{"enabled":true,"number":"5550001","substitute":false}}`
	off := `{"id":"alice","first_name":"A","last_name":"B","call_forward":{"enabled":false,"number":"5550001","keep_caller_id":false}}`
	for _, tc := range []struct {
		name, action, user, capture string
		inputs                      []string
		enabled                     any // nil: nothing written
		number                      string
		said                        []string
	}{
		{name: "activate with the dialled number", action: "activate", user: aliceDoc, capture: "15551230000",
			enabled: true, number: "15551230000", said: []string{"Call forwarding activated. Calls are now forwarded to 1 5 5 5 1 2 3 0 0 0 0."}},
		{name: "activate asks for the number", action: "activate", user: aliceDoc, inputs: []string{"5552222#"},
			enabled: true, number: "5552222", said: []string{"Call forwarding activated. Calls are now forwarded to 5 5 5 2 2 2 2."}},
		{name: "the code itself is no number", action: "activate", user: aliceDoc, capture: "*72", inputs: []string{"5552222#"},
			enabled: true, number: "5552222", said: []string{"Call forwarding activated. Calls are now forwarded to 5 5 5 2 2 2 2."}},
		{name: "too short, then right", action: "activate", user: aliceDoc, inputs: []string{"12#", "5553333#"},
			enabled: true, number: "5553333", said: []string{"That number is too short.", "Call forwarding activated. Calls are now forwarded to 5 5 5 3 3 3 3."}},
		{name: "no number keyed in: unchanged", action: "activate", user: off, inputs: []string{""},
			said: []string{"No number was entered. Call forwarding is unchanged."}},
		{name: "deactivate keeps the number", action: "deactivate", user: on,
			enabled: false, number: "5550001", said: []string{"Call forwarding deactivated."}},
		{name: "toggle on with the stored number", action: "toggle", user: off,
			enabled: true, number: "5550001", said: []string{"Call forwarding activated. Calls are now forwarded to 5 5 5 0 0 0 1."}},
		{name: "toggle off", action: "toggle", user: on, enabled: false, number: "5550001", said: []string{"Call forwarding deactivated."}},
		{name: "update changes the number only", action: "update", user: off, capture: "5559999",
			enabled: false, number: "5559999", said: []string{"The forwarding number is now 5 5 5 9 9 9 9."}},
		{name: "menu: 1 toggles, then silence", action: "menu", user: off, inputs: []string{"1", ""},
			enabled: true, number: "5550001", said: []string{"Call forwarding activated. Calls are now forwarded to 5 5 5 0 0 0 1."}},
		{name: "menu: 2 changes the number", action: "menu", user: on, inputs: []string{"2", "5554444#", ""},
			enabled: true, number: "5554444", said: []string{"The forwarding number is now 5 5 5 4 4 4 4."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := phoneDocs(tc.user)
			before := docs["users/alice"]
			c := featureCall{flow: `{"module":"call_forward","data":{"action":"` + tc.action + `"}}`, docs: docs,
				capture: tc.capture, inputs: tc.inputs}.run(t)
			var said []string // the say lines, not the gathers' prompts
			for _, l := range c.Find("say") {
				said = append(said, l["text"].(string))
			}
			if strings.Join(said, "|") != strings.Join(tc.said, "|") {
				t.Errorf("said %q\nwant %q", said, tc.said)
			}
			if tc.enabled == nil {
				if docs["users/alice"] != before || len(c.Find("set")) != 0 {
					t.Errorf("changed: %s, set %v", docs["users/alice"], c.Find("set"))
				}
				return
			}
			if got := setting(t, docs, "users/alice", "call_forward", "enabled"); got != tc.enabled {
				t.Errorf("enabled = %v, want %v", got, tc.enabled)
			}
			if got := setting(t, docs, "users/alice", "call_forward", "number"); got != tc.number {
				t.Errorf("number = %v, want %v", got, tc.number)
			}
			if strings.Contains(before, "substitute") && setting(t, docs, "users/alice", "call_forward", "substitute") != false {
				t.Error("substitute was lost")
			}
			if strings.Contains(before, "keep_caller_id") && setting(t, docs, "users/alice", "call_forward", "keep_caller_id") != false {
				t.Error("keep_caller_id was lost")
			}
			if len(c.Find("set")) != 2 {
				t.Errorf("set lines %v", c.Find("set"))
			}
		})
	}
}
