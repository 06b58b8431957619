package actions_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/callflow"
	"github.com/switchboard/switchboard/internal/schema"
)

// menuFlow is a menu with data and children (JSON object bodies).
func menuFlow(data, children string) string {
	return `{"module":"menu","data":{` + data + `},"children":{` + children + `}}`
}

const (
	salesChild   = `"1":{"module":"tts","data":{"text":"Sales."}}`
	supportChild = `"2":{"module":"tts","data":{"text":"Support."}}`
	timeoutChild = `"timeout":{"module":"tts","data":{"text":"Too slow."}}`
	retriesChild = `"max_retries":{"module":"tts","data":{"text":"Giving up."}}`
	defaultChild = `"_":{"module":"tts","data":{"text":"Operator."}}`
	greetingData = `"prompts":{"greeting":"For sales press 1, for support press 2."}`
)

func TestMenuBranches(t *testing.T) {
	all := strings.Join([]string{salesChild, supportChild, timeoutChild, retriesChild, defaultChild}, ",")
	for _, tc := range []struct {
		name     string
		data     string
		children string
		inputs   []string
		branches []string
		said     []string
		last     string // the node the call ended in
	}{
		{
			name: "key 1", children: all, inputs: []string{"1"},
			branches: []string{"1"}, said: []string{"For sales press 1, for support press 2.", "Sales."},
			last: "flow.children.1",
		},
		{
			name: "key 2", children: all, inputs: []string{"2"},
			branches: []string{"2"}, said: []string{"For sales press 1, for support press 2.", "Support."},
			last: "flow.children.2",
		},
		{
			name: "timeout child", children: all, inputs: []string{""},
			branches: []string{"timeout"}, said: []string{"For sales press 1, for support press 2.", "Too slow."},
			last: "flow.children.timeout",
		},
		{
			name: "invalid keys then max_retries", children: all, inputs: []string{"9", "8", "7"},
			branches: []string{"max_retries"},
			said: []string{
				"For sales press 1, for support press 2.", "That is not a valid selection.",
				"For sales press 1, for support press 2.", "That is not a valid selection.",
				"For sales press 1, for support press 2.", "That is not a valid selection.",
				"Sorry, we did not get a valid selection.", "Giving up.",
			},
			last: "flow.children.max_retries",
		},
		{
			name: "no timeout child: silence counts as an attempt", children: salesChild + "," + retriesChild,
			data: `"retries":2`, inputs: []string{"", ""},
			branches: []string{"max_retries"},
			said: []string{
				"For sales press 1, for support press 2.", "For sales press 1, for support press 2.",
				"Sorry, we did not get a valid selection.", "Giving up.",
			},
			last: "flow.children.max_retries",
		},
		{
			name: "retries spent, no max_retries: transfer to _", children: salesChild + "," + defaultChild,
			data: `"retries":1`, inputs: []string{"5"},
			branches: []string{"_"},
			said: []string{
				"For sales press 1, for support press 2.", "That is not a valid selection.",
				"Sorry, we did not get a valid selection.", "Please hold while we transfer your call.", "Operator.",
			},
			last: "flow.children._",
		},
		{
			name: "retries spent, nowhere to go: goodbye", children: salesChild,
			data: `"retries":1,"media":{"exit_media":false}`, inputs: []string{"5"},
			branches: []string{"_"},
			said:     []string{"For sales press 1, for support press 2.", "That is not a valid selection.", "Goodbye."},
			last:     "flow",
		},
		{
			name: "own prompt texts", children: salesChild + "," + retriesChild,
			data:     `"retries":1,"prompts":{"greeting":"Hi.","invalid":"Nope.","exit":"Bye now."}`,
			inputs:   []string{"4"},
			branches: []string{"max_retries"},
			said:     []string{"Hi.", "Nope.", "Bye now.", "Giving up."},
			last:     "flow.children.max_retries",
		},
		{
			name: "multi-key option", children: salesChild + `,"23":{"module":"tts","data":{"text":"Twenty-three."}}`,
			inputs: []string{"23"}, branches: []string{"23"},
			said: []string{"For sales press 1, for support press 2.", "Twenty-three."},
			last: "flow.children.23",
		},
		{
			name: "star and pound are options", children: `"*":{"module":"tts","data":{"text":"Star."}},"#":{"module":"tts","data":{"text":"Pound."}}`,
			inputs: []string{"#"}, branches: []string{"#"},
			said: []string{"For sales press 1, for support press 2.", "Pound."},
			last: "flow.children.#",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := greetingData
			if tc.data != "" {
				data = tc.data + "," + data
				if strings.Contains(tc.data, `"prompts"`) {
					data = tc.data
				}
			}
			c := catRun(t, menuFlow(data, tc.children), catOpts{inputs: tc.inputs})
			wantEqual(t, "branches", c.Branches(), tc.branches)
			wantEqual(t, "said", c.Said(), tc.said)
			nodes := c.Nodes()
			wantEqual(t, "last node", nodes[len(nodes)-1], tc.last)
			if c.Result.By != "switchboard" {
				t.Errorf("ended by %q\n%s", c.Result.By, c.Trace.JSONL())
			}
		})
	}
}

func TestMenuGatherOptions(t *testing.T) {
	c := catRun(t, menuFlow(`"timeout":8000,"interdigit_timeout":1500,"max_extension_length":3,"media":{"greeting":"https://media.example.com/menu.wav"}`,
		salesChild+`,"123":{"module":"tts","data":{"text":"x"}}`), catOpts{inputs: []string{"1"}})
	g := c.Find("gather")
	if len(g) != 1 {
		t.Fatalf("gathers: %v", g)
	}
	wantEqual(t, "timeout", g[0]["timeout"], any(8.0))
	wantEqual(t, "inter_digit_timeout", g[0]["inter_digit_timeout"], any(1.5))
	wantEqual(t, "num_digits", g[0]["num_digits"], any(3))
	wantEqual(t, "finish_on_key", g[0]["finish_on_key"], any("#"))
	ps := g[0]["prompts"].([]map[string]any)
	wantEqual(t, "greeting", ps[0]["url"], any("https://media.example.com/menu.wav"))
	wantEqual(t, "answered first", c.Ops()[:3], []string{"module", "answer", "gather"})
}

func TestMenuOneKeyMenuAnswersAtOnce(t *testing.T) {
	c := catRun(t, menuFlow(greetingData, salesChild+","+supportChild), catOpts{inputs: []string{"2"}})
	wantEqual(t, "num_digits", c.Find("gather")[0]["num_digits"], any(1))
}

func TestMenuPrompts(t *testing.T) {
	t.Run("invalid media false is silent", func(t *testing.T) {
		c := catRun(t, menuFlow(`"retries":2,"media":{"invalid_media":false},`+greetingData, salesChild), catOpts{inputs: []string{"9", "1"}})
		wantEqual(t, "said", c.Said(), []string{"For sales press 1, for support press 2.", "For sales press 1, for support press 2.", "Sales."})
	})
	t.Run("media ids are played", func(t *testing.T) {
		c := catRun(t, menuFlow(`"retries":1,"media":{"invalid_media":"bad-choice","exit_media":"https://media.example.com/bye.wav"},`+greetingData,
			salesChild+","+retriesChild), catOpts{inputs: []string{"9"}})
		plays := c.Find("play")
		if len(plays) != 2 || plays[0]["media_id"] != "bad-choice" || plays[1]["url"] != "https://media.example.com/bye.wav" {
			t.Errorf("plays: %v\n%s", plays, c.Trace.JSONL())
		}
	})
	t.Run("the call's language", func(t *testing.T) {
		flow := `{"module":"language","data":{"language":"fr-FR"},"children":{"_":` + menuFlow(greetingData, salesChild) + `}}`
		c := catRun(t, flow, catOpts{inputs: []string{"1"}})
		ps := c.Find("gather")[0]["prompts"].([]map[string]any)
		wantEqual(t, "prompt language", ps[0]["language"], any("fr-FR"))
		wantEqual(t, "tts language", c.Find("say")[0]["language"], any("fr-FR"))
	})
}

func TestMenuHunt(t *testing.T) {
	numbers := actionstest.Numbers{
		"1001": `{"module":"tts","data":{"text":"Extension 1001."}}`,
		"900":  `{"module":"tts","data":{"text":"Premium."}}`,
		"666":  "error",
		"5":    `{"module":"tts","data":{"text":"Extension 5."}}`,
	}
	hunt := `"hunt":true,"retries":1,` + greetingData
	for _, tc := range []struct {
		name, data string
		input      string
		said       []string
		route      bool
	}{
		{"extension found", hunt, "1001", []string{"For sales press 1, for support press 2.", "Please hold while we transfer your call.", "Extension 1001."}, true},
		{"option wins over hunting", hunt, "1", []string{"For sales press 1, for support press 2.", "Sales."}, false},
		{"no such extension", hunt, "4444", []string{"For sales press 1, for support press 2.", "That is not a valid selection.", "Sorry, we did not get a valid selection.", "Giving up."}, false},
		{"hunt_allow refuses", `"hunt_allow":"^1[0-9]{3}$",` + hunt, "900", []string{"For sales press 1, for support press 2.", "That is not a valid selection.", "Sorry, we did not get a valid selection.", "Giving up."}, false},
		{"hunt_allow lets through", `"hunt_allow":"^1[0-9]{3}$",` + hunt, "1001", []string{"For sales press 1, for support press 2.", "Please hold while we transfer your call.", "Extension 1001."}, true},
		{"hunt_deny refuses", `"hunt_deny":"^9",` + hunt, "900", []string{"For sales press 1, for support press 2.", "That is not a valid selection.", "Sorry, we did not get a valid selection.", "Giving up."}, false},
		{"hunting off", `"retries":1,` + greetingData, "5", []string{"For sales press 1, for support press 2.", "That is not a valid selection.", "Sorry, we did not get a valid selection.", "Giving up."}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := catRun(t, menuFlow(tc.data, salesChild+","+retriesChild), catOpts{inputs: []string{tc.input}, numbers: numbers})
			wantEqual(t, "said", c.Said(), tc.said)
			routes := c.Find("route")
			if tc.route != (len(routes) == 1) {
				t.Fatalf("route lines %v\n%s", routes, c.Trace.JSONL())
			}
			if tc.route {
				wantEqual(t, "route", []any{routes[0]["number"], routes[0]["callflow_id"]}, []any{tc.input, "flow-" + tc.input})
			}
		})
	}
	t.Run("lookup failure is an error line, then invalid", func(t *testing.T) {
		c := catRun(t, menuFlow(hunt, salesChild+","+retriesChild), catOpts{inputs: []string{"666"}, numbers: numbers})
		errs := c.Find("error")
		if len(errs) != 1 || errs[0]["code"] != "hunt_failed" {
			t.Errorf("errors %v", errs)
		}
		wantEqual(t, "branches", c.Branches(), []string{"max_retries"})
	})
	t.Run("no number router", func(t *testing.T) {
		c := catRun(t, menuFlow(hunt, salesChild+","+retriesChild), catOpts{inputs: []string{"1001"}})
		wantEqual(t, "branches", c.Branches(), []string{"max_retries"})
	})
}

func TestMenuCallerHangsUp(t *testing.T) {
	c := catRun(t, menuFlow(greetingData, salesChild), catOpts{inputs: []string{"hangup"}})
	if c.Result.By != "caller" || c.Result.Err != nil {
		t.Errorf("result %+v", c.Result)
	}
	wantEqual(t, "ops", c.Ops(), []string{"module", "answer", "gather", "hangup"})
}

func TestMenuValidation(t *testing.T) {
	for _, tc := range []struct {
		name, flow string
		path, rule string
	}{
		{"no children", `{"module":"menu","data":{}}`, "flow.children", "minProperties"},
		{"empty children", `{"module":"menu","data":{},"children":{}}`, "flow.children", "minProperties"},
		{"key no one can press", menuFlow("", `"abc":{"module":"tts","data":{"text":"x"}}`), "flow.children.abc", "pattern"},
		{"key with a dot", menuFlow("", `"1.2":{"module":"tts","data":{"text":"x"}}`), "flow.children.1%2E2", "pattern"},
		{"key too long", menuFlow(`"max_extension_length":2`, `"123":{"module":"tts","data":{"text":"x"}}`), "flow.children.123", "maxLength"},
		{"bad hunt pattern", menuFlow(`"hunt":true,"hunt_allow":"(["`, salesChild), "flow.data.hunt_allow", "pattern"},
		{"retries out of range", menuFlow(`"retries":11`, salesChild), "flow.data.retries", "maximum"},
		{"nested menu without children", `{"module":"tts","data":{"text":"x"},"children":{"_":{"module":"menu","data":{}}}}`, "flow.children._.children", "minProperties"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := callflow.Prepare([]byte(`{"numbers":["1"],"flow":` + tc.flow + `}`))
			var ve schema.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			for _, f := range ve {
				if f.Path == tc.path && f.Rule == tc.rule {
					return
				}
			}
			t.Errorf("no %s at %s in %v", tc.rule, tc.path, ve)
		})
	}
	t.Run("fixed keys are fine", func(t *testing.T) {
		if _, err := callflow.Prepare([]byte(`{"numbers":["1"],"flow":` + menuFlow("", salesChild+","+timeoutChild+","+retriesChild+","+defaultChild+`,"*":{"module":"tts","data":{"text":"x"}}`) + `}`)); err != nil {
			t.Error(err)
		}
	})
}
