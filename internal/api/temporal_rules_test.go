package api_test

import (
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

const (
	rules = "/v2/accounts/{account}/temporal_rules"
	sets  = "/v2/accounts/{account}/temporal_rules_sets"
)

// refusedAt checks a 400 "validation failed" naming rule at path.
func refusedAt(path, rule string) func(t testing.TB, s *servertest.Server, r servertest.Response) {
	return func(t testing.TB, s *servertest.Server, r servertest.Response) {
		t.Helper()
		if env := r.JSON(t); env["message"] != "validation failed" || !errorAt(env, path, rule) {
			t.Errorf("want %s refused by %s: %s", path, rule, r.Body)
		}
	}
}

func TestTemporalRulesCRUD(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	office := map[string]any{"name": "Office hours", "cycle": "weekly", "wdays": []string{"monday", "friday"},
		"time_window_start": 32400, "time_window_stop": 61200, "timezone": "Europe/Paris", "x_custom": "kept"}
	renamed := map[string]any{"name": "Office"}
	for k, v := range office {
		if k != "name" {
			renamed[k] = v
		}
	}
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "create with defaults, unknown keys kept", Method: "PUT", URL: rules, Body: data(office), ExpectedStatus: 201,
			Capture: map[string]string{"id": "data.id", "rev": "revision"},
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				equalAt(t, r, "data.interval", 1.0)
				equalAt(t, r, "data.start_date", 62586115200.0)
				equalAt(t, r, "data.end_date", 0.0)
				equalAt(t, r, "data.x_custom", "kept")
			}},
		{Name: "read", Method: "GET", URL: rules + "/{id}", ExpectedStatus: 200,
			ExpectedContent: []string{`"revision":"{rev}"`, `"name":"Office hours"`}},
		{Name: "list", Method: "GET", URL: rules, ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				listLen(1)(t, s, r)
				stringAt(t, r, "data.0.cycle", "weekly")
			}},
		{Name: "update on the current revision", Method: "POST", URL: rules + "/{id}", Body: withRevision(data(renamed), "{rev}"),
			ExpectedStatus: 200, ExpectedContent: []string{`"revision":"2-`}},
		{Name: "stale update", Method: "POST", URL: rules + "/{id}", Body: withRevision(data(renamed), "{rev}"), ExpectedStatus: 409},
		{Name: "patch merges, null removes", Method: "PATCH", URL: rules + "/{id}",
			Body: data(map[string]any{"time_window_stop": 64800, "x_custom": nil}), ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				equalAt(t, r, "data.time_window_stop", 64800.0)
				equalAt(t, r, "data.x_custom", nil)
				equalAt(t, r, "data.name", "Office")
			}},
		{Name: "patch to an impossible time", Method: "PATCH", URL: rules + "/{id}", Body: data(map[string]any{"time_window_stop": 90000}),
			ExpectedStatus: 400, After: refusedAt("time_window_stop", "maximum")},
		{Name: "set naming an unknown rule", Method: "PUT", URL: sets, Body: data(map[string]any{"name": "Week", "temporal_rules": []string{"{id}", "nope"}}),
			ExpectedStatus: 400, After: refusedAt("temporal_rules.1", "exists")},
		{Name: "create set", Method: "PUT", URL: sets, Body: data(map[string]any{"name": "Week", "temporal_rules": []string{"{id}"}}),
			ExpectedStatus: 201, Capture: map[string]string{"set": "data.id"}},
		{Name: "a set is not a rule", Method: "GET", URL: rules + "/{set}", ExpectedStatus: 404},
		{Name: "read set", Method: "GET", URL: sets + "/{set}", ExpectedStatus: 200},
		{Name: "delete set", Method: "DELETE", URL: sets + "/{set}", ExpectedStatus: 200},
		{Name: "delete rule", Method: "DELETE", URL: rules + "/{id}", ExpectedStatus: 200},
		{Name: "deleted rule", Method: "GET", URL: rules + "/{id}", ExpectedStatus: 404},
	})
}

func TestTemporalRulesRefused(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	refused := func(name string, body map[string]any, path, rule string) servertest.APIScenario {
		return servertest.APIScenario{Name: name, Method: "PUT", URL: rules, Body: data(body), ExpectedStatus: 400, After: refusedAt(path, rule)}
	}
	servertest.Run(t, s, []servertest.APIScenario{
		refused("window past the day", map[string]any{"name": "x", "cycle": "daily", "time_window_start": 90000}, "time_window_start", "maximum"),
		refused("month 13", map[string]any{"name": "x", "cycle": "yearly", "month": 13, "days": []int{1}}, "month", "maximum"),
		refused("day 32", map[string]any{"name": "x", "cycle": "monthly", "days": []int{32}}, "days.0", "maximum"),
		refused("31 april", map[string]any{"name": "x", "cycle": "yearly", "month": 4, "days": []int{31}}, "days.0", "maximum"),
		refused("unknown weekday", map[string]any{"name": "x", "cycle": "weekly", "wdays": []string{"caturday"}}, "wdays.0", "enum"),
		refused("no name", map[string]any{"cycle": "daily"}, "name", "required"),
		refused("unknown zone", map[string]any{"name": "x", "cycle": "daily", "timezone": "Nowhere/Town"}, "timezone", "enum"),
		{Name: "nothing was stored", Method: "GET", URL: rules, ExpectedStatus: 200, After: listLen(0)},
	})
}

// TestTemporalRulesAccountWall: another account's token reaches no rule or
// set of this one.
func TestTemporalRulesAccountWall(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	idB, tokenB := s.AddAccount("Other Co")
	s.Set("account_b", idB)
	s.Set("token_b", tokenB)
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "A creates a rule", Method: "PUT", URL: rules, Body: data(map[string]any{"name": "A hours", "cycle": "daily"}),
			ExpectedStatus: 201, Capture: map[string]string{"rule_a": "data.id"}},
		{Name: "A creates a set", Method: "PUT", URL: sets, Body: data(map[string]any{"name": "A set", "temporal_rules": []string{"{rule_a}"}}),
			ExpectedStatus: 201, Capture: map[string]string{"set_a": "data.id"}},
		{Name: "B cannot list A's rules", Method: "GET", URL: rules, Token: "{token_b}", ExpectedStatus: 403, NotExpectedContent: []string{"{rule_a}"}},
		{Name: "B cannot read A's rule", Method: "GET", URL: rules + "/{rule_a}", Token: "{token_b}", ExpectedStatus: 403, NotExpectedContent: []string{"A hours"}},
		{Name: "B cannot patch A's rule", Method: "PATCH", URL: rules + "/{rule_a}", Token: "{token_b}", Body: data(map[string]any{"name": "B"}), ExpectedStatus: 403},
		{Name: "B cannot delete A's set", Method: "DELETE", URL: sets + "/{set_a}", Token: "{token_b}", ExpectedStatus: 403},
		{Name: "B cannot reach A's rule through its own account", Method: "GET", URL: "/v2/accounts/{account_b}/temporal_rules/{rule_a}",
			Token: "{token_b}", ExpectedStatus: 404, NotExpectedContent: []string{"A hours"}},
		{Name: "B cannot name A's rule in its own set", Method: "PUT", URL: "/v2/accounts/{account_b}/temporal_rules_sets", Token: "{token_b}",
			Body: data(map[string]any{"name": "B set", "temporal_rules": []string{"{rule_a}"}}), ExpectedStatus: 400, After: refusedAt("temporal_rules.0", "exists")},
		{Name: "A's rule unchanged", Method: "GET", URL: rules + "/{rule_a}", ExpectedStatus: 200, ExpectedContent: []string{`"name":"A hours"`}},
		{Name: "A's set survived", Method: "GET", URL: sets + "/{set_a}", ExpectedStatus: 200},
	})
}
