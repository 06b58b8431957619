package actions_test

import (
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/actions/actionstest"
	"github.com/switchboard/switchboard/internal/callflow"
	"github.com/switchboard/switchboard/internal/schema"
)

const (
	ruleOffice    = `{"name":"Office hours","cycle":"weekly","wdays":["monday","tuesday","wednesday","thursday","friday"],"time_window_start":32400,"time_window_stop":61200}`
	ruleChristmas = `{"name":"Christmas","cycle":"yearly","month":12,"days":[25]}`
	ruleNewYear   = `{"name":"New year","cycle":"yearly","month":1,"days":[1]}`
	ruleLunch     = `{"name":"Lunch","cycle":"daily","time_window_start":43200,"time_window_stop":46800}`
)

func officeRules() *actionstest.Rules {
	return actionstest.NewRules().Rule("office", ruleOffice).Rule("christmas", ruleChristmas).Rule("newyear", ruleNewYear).
		Rule("lunch", ruleLunch).Set("holidays", "christmas", "newyear")
}

// todFlow is a temporal_route with a tts child per key.
func todFlow(data string, keys ...string) string {
	children := ""
	for i, k := range keys {
		if i > 0 {
			children += ","
		}
		children += `"` + k + `":{"module":"tts","data":{"text":"` + k + `"}}`
	}
	return `{"module":"temporal_route","data":{` + data + `},"children":{` + children + `}}`
}

func paris(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTemporalRouteBranches(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		keys       []string
		at         string // Paris time
		want       string // the branch key, and the text then said
		rule       string
	}{
		{"office hours", `"timezone":"Europe/Paris","rules":["holidays","office"]`, []string{"holidays", "office", "_"}, "2025-06-03 10:00", "office", "office"},
		{"after hours", `"timezone":"Europe/Paris","rules":["holidays","office"]`, []string{"holidays", "office", "_"}, "2025-06-03 19:00", "_", ""},
		{"weekend", `"timezone":"Europe/Paris","rules":["holidays","office"]`, []string{"holidays", "office", "_"}, "2025-06-07 10:00", "_", ""},
		{"holiday on a weekday: first rule wins", `"timezone":"Europe/Paris","rules":["holidays","office"]`, []string{"holidays", "office", "_"}, "2025-12-25 10:00", "holidays", "christmas"},
		{"a set's other rule", `"timezone":"Europe/Paris","rules":["holidays","office"]`, []string{"holidays", "office", "_"}, "2026-01-01 10:00", "holidays", "newyear"},
		{"the block's zone", `"timezone":"America/New_York","rules":["office"]`, []string{"office", "_"}, "2025-06-03 10:00", "_", ""}, // 04:00 in New York
		{"UTC without a zone", `"rules":["office"]`, []string{"office", "_"}, "2025-06-03 12:00", "office", "office"},                  // 10:00 UTC
		{"UTC without a zone, Paris opening", `"rules":["office"]`, []string{"office", "_"}, "2025-06-03 10:00", "_", ""},              // 08:00 UTC
		{"child keys are rules too", `"timezone":"Europe/Paris"`, []string{"lunch", "office", "_"}, "2025-06-03 12:30", "lunch", "lunch"},
		{"rule_set", `"timezone":"Europe/Paris","rule_set":"holidays"`, []string{"holidays", "_"}, "2025-12-25 08:00", "holidays", "christmas"},
		{"rule_set under Kazoo's key", `"timezone":"Europe/Paris","rule_set":"holidays"`, []string{"rule_set", "_"}, "2025-12-25 08:00", "rule_set", "christmas"},
		{"no child for the rule: _", `"timezone":"Europe/Paris","rules":["office"]`, []string{"_"}, "2025-06-03 10:00", "office", "office"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := catRun(t, todFlow(tc.data, tc.keys...), catOpts{rules: officeRules(), at: paris(t, tc.at)})
			b := c.Find("branch")
			if len(b) != 1 {
				t.Fatalf("branch lines %v\n%s", b, c.Trace.JSONL())
			}
			wantEqual(t, "key", b[0]["key"], any(tc.want))
			if tc.rule != "" {
				wantEqual(t, "rule", b[0]["rule"], any(tc.rule))
			}
			said := tc.want
			if !contains(tc.keys, said) {
				said = "_"
			}
			wantEqual(t, "said", c.Said(), []string{said})
			if len(c.Find("error")) != 0 {
				t.Errorf("error lines: %v", c.Find("error"))
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func TestTemporalRouteMissingRule(t *testing.T) {
	c := catRun(t, todFlow(`"timezone":"Europe/Paris","rules":["gone","office"]`, "gone", "office", "_"), catOpts{rules: officeRules(), at: paris(t, "2025-06-03 10:00")})
	errs := c.Find("error")
	if len(errs) != 1 || errs[0]["code"] != "temporal_rule_not_found" {
		t.Fatalf("errors %v", errs)
	}
	wantEqual(t, "branches", c.Branches(), []string{"office"})

	c = catRun(t, todFlow(`"rules":["gone"]`, "gone", "_"), catOpts{rules: officeRules()})
	wantEqual(t, "branches", c.Branches(), []string{"_"})
	wantEqual(t, "said", c.Said(), []string{"_"})
}

func TestTemporalRouteNoStore(t *testing.T) {
	c := catRun(t, todFlow(`"rules":["office"]`, "office", "_"), catOpts{noTemporal: true})
	if errs := c.Find("error"); len(errs) != 1 {
		t.Errorf("errors %v", errs)
	}
	wantEqual(t, "said", c.Said(), []string{"_"})
}

func TestTemporalRouteOverrides(t *testing.T) {
	rules := officeRules()
	saturday := paris(t, "2025-06-07 10:00")
	route := todFlow(`"timezone":"Europe/Paris","rules":["office"]`, "office", "_")
	run := func(flow string, o catOpts) *actionstest.Call {
		o.rules = rules
		if o.at.IsZero() {
			o.at = saturday
		}
		return catRun(t, flow, o)
	}
	if b := run(route, catOpts{}).Branches(); b[0] != "_" {
		t.Fatalf("saturday: %v", b)
	}

	c := run(`{"module":"temporal_route","data":{"action":"enable","rules":["office"]}}`, catOpts{})
	wantEqual(t, "enabled", rules.Enabled(t, "office"), any(true))
	wantEqual(t, "said", c.Said(), []string{"The time of day rules are now on."})
	tl := c.Find("temporal_rules")
	if len(tl) != 1 || tl[0]["action"] != "enable" || tl[0]["enabled"] != true {
		t.Errorf("temporal_rules line %v", tl)
	}
	if c.Result.Err != nil || c.Find("hangup")[0]["by"] != "switchboard" {
		t.Errorf("result %+v", c.Result)
	}
	wantEqual(t, "forced on", run(route, catOpts{}).Branches(), []string{"office"})

	run(`{"module":"temporal_route","data":{"action":"disable","rules":["office"]}}`, catOpts{})
	wantEqual(t, "enabled", rules.Enabled(t, "office"), any(false))
	wantEqual(t, "forced off on a weekday", run(route, catOpts{at: paris(t, "2025-06-03 10:00")}).Branches(), []string{"_"})

	run(`{"module":"temporal_route","data":{"action":"reset","rules":["office"]}}`, catOpts{})
	wantEqual(t, "enabled", rules.Enabled(t, "office"), nil)
	wantEqual(t, "back to the schedule", run(route, catOpts{at: paris(t, "2025-06-03 10:00")}).Branches(), []string{"office"})

	// A set stands for its rules; rule_set adds its own.
	run(`{"module":"temporal_route","data":{"action":"disable","rules":["holidays"]}}`, catOpts{})
	wantEqual(t, "set's rules", []any{rules.Enabled(t, "christmas"), rules.Enabled(t, "newyear"), rules.Enabled(t, "office")}, []any{false, false, nil})
	run(`{"module":"temporal_route","data":{"action":"reset","rule_set":"holidays"}}`, catOpts{})
	wantEqual(t, "rule_set's rules", []any{rules.Enabled(t, "christmas"), rules.Enabled(t, "newyear")}, []any{nil, nil})
}

func TestTemporalRouteMenu(t *testing.T) {
	for _, tc := range []struct {
		inputs []string
		want   any
		said   []string
	}{
		{[]string{"1"}, true, []string{"The time of day rules are now on."}},
		{[]string{"2"}, false, []string{"The time of day rules are now off."}},
		{[]string{"9", "3"}, nil, []string{"The time of day rules follow their schedule again."}},
		{[]string{"", "", ""}, "untouched", nil},
	} {
		rules := officeRules().Rule("office", ruleOffice[:len(ruleOffice)-1]+`,"enabled":true}`)
		if tc.want == nil {
			rules.Rule("office", ruleOffice[:len(ruleOffice)-1]+`,"enabled":false}`)
		}
		c := catRun(t, `{"module":"temporal_route","data":{"action":"menu","rules":["office"],"interdigit_timeout":1000}}`, catOpts{rules: rules, inputs: tc.inputs})
		got := rules.Enabled(t, "office")
		if tc.want == "untouched" {
			if got != true {
				t.Errorf("no key: enabled = %v", got)
			}
		} else if got != tc.want {
			t.Errorf("inputs %q: enabled = %v, want %v", tc.inputs, got, tc.want)
		}
		said := c.Said()
		for range tc.inputs {
			if len(said) == 0 || said[0] != "To turn the time of day rules on, press 1. To turn them off, press 2. To return them to their schedule, press 3." {
				t.Fatalf("inputs %q: said %q", tc.inputs, said)
			}
			said = said[1:]
		}
		if len(said) != len(tc.said) || (len(said) > 0 && said[0] != tc.said[0]) {
			t.Errorf("inputs %q: said after the menu %q, want %q", tc.inputs, said, tc.said)
		}
	}
}

func TestTemporalRouteValidation(t *testing.T) {
	_, err := callflow.Prepare([]byte(`{"numbers":["1"],"flow":{"module":"temporal_route","data":{"timezone":"Mars/Olympus"}}}`))
	ve, ok := err.(schema.ValidationError)
	if !ok || len(ve) != 1 || ve[0].Path != "flow.data.timezone" {
		t.Errorf("err = %v", err)
	}
	_, err = callflow.Prepare([]byte(`{"numbers":["1"],"flow":{"module":"temporal_route","data":{"action":"sometimes"}}}`))
	if err == nil {
		t.Error("unknown action accepted")
	}
}
