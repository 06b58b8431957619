package api_test

import (
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

const simulate = "/v2/accounts/{account}/simulate"

// tts is a flow node that speaks text.
func tts(text string) map[string]any {
	return map[string]any{"module": "tts", "data": map[string]any{"text": text}}
}

// traceLines returns the trace of a simulate answer.
func traceLines(t testing.TB, r servertest.Response) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range servertest.Lookup(r.JSON(t), "data.trace").([]any) {
		out = append(out, l.(map[string]any))
	}
	return out
}

// saidFirst checks the text of a simulated call's first say line.
func saidFirst(want string) func(t testing.TB, s *servertest.Server, r servertest.Response) {
	return func(t testing.TB, s *servertest.Server, r servertest.Response) {
		t.Helper()
		for _, line := range traceLines(t, r) {
			if line["op"] == "say" {
				if line["text"] != want {
					t.Errorf("said %q, want %q", line["text"], want)
				}
				return
			}
		}
		t.Errorf("said nothing, want %q", want)
	}
}

// TestTimeOfDayCall routes simulated calls at set times through stored
// rules, then forces a rule on with a feature-code flow.
func TestTimeOfDayCall(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	flow := map[string]any{"numbers": []string{"5000"}, "flow": map[string]any{
		"module": "temporal_route", "data": map[string]any{"timezone": "Europe/Paris", "rules": []string{"{holidays}", "{office}"}},
		"children": map[string]any{"{holidays}": tts("Closed for the holiday."), "{office}": tts("Open."), "_": tts("Closed.")},
	}}
	override := map[string]any{"numbers": []string{"*701"}, "flow": map[string]any{
		"module": "temporal_route", "data": map[string]any{"action": "enable", "rules": []string{"{office}"}}}}
	at := func(when, want string) servertest.APIScenario {
		return servertest.APIScenario{Name: "call at " + when, Method: "POST", URL: simulate,
			Body: data(map[string]any{"to": "5000", "at": when}), ExpectedStatus: 200, After: saidFirst(want)}
	}
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "office hours", Method: "PUT", URL: rules, ExpectedStatus: 201, Capture: map[string]string{"office": "data.id"},
			Body: data(map[string]any{"name": "Office hours", "cycle": "weekly",
				"wdays": []string{"monday", "tuesday", "wednesday", "thursday", "friday"}, "time_window_start": 32400, "time_window_stop": 61200})},
		{Name: "christmas", Method: "PUT", URL: rules, ExpectedStatus: 201, Capture: map[string]string{"christmas": "data.id"},
			Body: data(map[string]any{"name": "Christmas", "cycle": "yearly", "month": 12, "days": []int{25}})},
		{Name: "holidays", Method: "PUT", URL: sets, ExpectedStatus: 201, Capture: map[string]string{"holidays": "data.id"},
			Body: data(map[string]any{"name": "Holidays", "temporal_rules": []string{"{christmas}"}})},
		{Name: "flow", Method: "PUT", URL: flows, Body: data(flow), ExpectedStatus: 201},
		{Name: "override flow", Method: "PUT", URL: flows, Body: data(override), ExpectedStatus: 201},
		at("2025-06-03T10:00:00+02:00", "Open."),
		at("2025-06-03T20:00:00+02:00", "Closed."),
		at("2025-06-07T10:00:00+02:00", "Closed."),
		at("2025-12-25T10:00:00+01:00", "Closed for the holiday."),
		at("2025-06-03T08:30:00Z", "Open."), // 10:30 in Paris
		{Name: "override call", Method: "POST", URL: simulate, Body: data(map[string]any{"to": "*701"}), ExpectedStatus: 200},
		{Name: "override stored", Method: "GET", URL: rules + "/{office}", ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) { equalAt(t, r, "data.enabled", true) }},
		at("2025-06-07T10:00:00+02:00", "Open."), // forced on, saturday
		{Name: "bad at", Method: "POST", URL: simulate, Body: data(map[string]any{"to": "5000", "at": "tomorrow"}),
			ExpectedStatus: 400, After: refusedAt("at", "format")},
	})
}

// TestMenuThroughServer: a menu without children is refused on save with
// its path; dial-by-extension finds another flow of the account.
func TestMenuThroughServer(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	menu := map[string]any{"numbers": []string{"6000"}, "flow": map[string]any{
		"module": "menu", "data": map[string]any{"hunt": true, "prompts": map[string]any{"greeting": "Dial an extension."}},
		"children": map[string]any{"1": tts("Sales.")},
	}}
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "menu without children", Method: "PUT", URL: flows, ExpectedStatus: 400, After: refusedAt("flow.children._.children", "minProperties"),
			Body: data(map[string]any{"numbers": []string{"6000"}, "flow": map[string]any{"module": "tts", "data": map[string]any{"text": "Hi."},
				"children": map[string]any{"_": map[string]any{"module": "menu", "data": map[string]any{}}}}})},
		{Name: "extension", Method: "PUT", URL: flows, ExpectedStatus: 201, Capture: map[string]string{"ext": "data.id"},
			Body: data(map[string]any{"numbers": []string{"1001"}, "flow": tts("Extension 1001.")})},
		{Name: "menu", Method: "PUT", URL: flows, Body: data(menu), ExpectedStatus: 201},
		{Name: "dial by extension", Method: "POST", URL: simulate, Body: data(map[string]any{"to": "6000", "inputs": []string{"1001"}}), ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				var route map[string]any
				var said []string
				for _, line := range traceLines(t, r) {
					if line["op"] == "route" && line["module"] == "menu" {
						route = line
					}
					if line["op"] == "say" {
						said = append(said, line["text"].(string))
					}
				}
				if route == nil || route["callflow_id"] != s.Expand("{ext}") || route["number"] != "1001" {
					t.Errorf("hunt route %v", route)
				}
				if len(said) == 0 || said[len(said)-1] != "Extension 1001." {
					t.Errorf("said %q", said)
				}
			}},
	})
}

// TestSimulateRefused: what cannot be simulated is said before any call
// runs, with the field to blame.
func TestSimulateRefused(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	create(t, s, data(map[string]any{"numbers": []string{"7100"}, "flow": tts("Hello.")}))
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "no route", Method: "POST", URL: simulate, Body: data(map[string]any{"to": "0000"}), ExpectedStatus: 404,
			ExpectedContent:    []string{`"message":"no call flow for this number"`, `"to":{"route":{"message":"No call flow has the number 0000 in this account"}}`},
			NotExpectedContent: []string{"{account}"}},
		{Name: "unknown dial outcome", Method: "POST", URL: simulate, Body: data(map[string]any{"to": "7100", "dials": []string{"sideways"}}), ExpectedStatus: 400,
			ExpectedContent: []string{`"inputs":{"script":{"message":"script: sim: unknown dial outcome \"sideways\"`}},
		{Name: "input not keys", Method: "POST", URL: simulate, Body: data(map[string]any{"to": "7100", "inputs": []string{"1x"}}), ExpectedStatus: 400,
			ExpectedContent: []string{`"inputs":{"script"`, "is not a key"}},
		{Name: "to missing", Method: "POST", URL: simulate, Body: data(map[string]any{"inputs": []string{"1"}}), ExpectedStatus: 400,
			ExpectedContent: []string{`"to":{"required"`}},
		{Name: "to not a string", Method: "POST", URL: simulate, Body: `{"data":{"to":5}}`, ExpectedStatus: 400,
			ExpectedContent: []string{`"data":{"type"`, "Go struct field SimulateOptions.to of type string"}},
		{Name: "too many inputs", Method: "POST", URL: simulate, Body: data(map[string]any{"to": "7100", "inputs": make([]string, 101)}), ExpectedStatus: 400,
			ExpectedContent: []string{`"inputs":{"maxItems"`}},
		{Name: "no call was logged", Method: "GET", URL: "/v2/accounts/{account}/calls", ExpectedStatus: 200, After: listLen(0)},
	})
}

// TestCallLogEndpoints: a simulated call shows in the call list, its trace
// and (without webhooks) no pivot debug; another account sees none of it.
func TestCallLogEndpoints(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	create(t, s, data(map[string]any{"numbers": []string{"7100"}, "flow": tts("Hello.")}))
	idB, tokenB := s.AddAccount("Other Co")
	s.Set("account_b", idB)
	s.Set("token_b", tokenB)
	calls := "/v2/accounts/{account}/calls"
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "simulate", Method: "POST", URL: simulate, Body: data(map[string]any{"to": "7100", "from": "+15550001111"}), ExpectedStatus: 200,
			ExpectedContent: []string{`"op":"say"`, `"text":"Hello."`}, Capture: map[string]string{"call": "data.call_id"},
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				equalAt(t, r, "data.result.by", "switchboard")
			}},
		{Name: "listed", Method: "GET", URL: calls, ExpectedStatus: 200,
			ExpectedContent: []string{`"call_id":"{call}"`, `"from":"+15550001111"`, `"to":"7100"`, `"duration_ms"`}},
		{Name: "bad page size", Method: "GET", URL: calls + "?page_size=0", ExpectedStatus: 400, ExpectedContent: []string{`"page_size":{"range"`}},
		{Name: "trace", Method: "GET", URL: calls + "/{call}/trace", ExpectedStatus: 200,
			ExpectedContent: []string{`"op":"route"`, `"op":"hangup"`, `"call":{`}},
		{Name: "trace as JSON Lines", Method: "GET", URL: calls + "/{call}/trace?format=jsonl", ExpectedStatus: 200,
			ExpectedContent: []string{`{"op":"route","t_ms":0,`, "\n{\"op\":\"say\""}, NotExpectedContent: []string{`"status":"success"`}},
		{Name: "unknown call", Method: "GET", URL: calls + "/nope/trace", ExpectedStatus: 404},
		{Name: "no webhooks, no pivot debug", Method: "GET", URL: "/v2/accounts/{account}/pivot/debug/{call}", ExpectedStatus: 404},
		{Name: "pivot debug list", Method: "GET", URL: "/v2/accounts/{account}/pivot/debug", ExpectedStatus: 200, After: listLen(0)},
		{Name: "B cannot list A's calls", Method: "GET", URL: calls, Token: "{token_b}", ExpectedStatus: 403, NotExpectedContent: []string{"{call}"}},
		{Name: "B cannot read A's trace", Method: "GET", URL: calls + "/{call}/trace", Token: "{token_b}", ExpectedStatus: 403, NotExpectedContent: []string{"Hello."}},
		{Name: "B cannot reach A's trace through its own account", Method: "GET", URL: "/v2/accounts/{account_b}/calls/{call}/trace",
			Token: "{token_b}", ExpectedStatus: 404, NotExpectedContent: []string{"Hello."}},
		{Name: "B cannot simulate on A's account", Method: "POST", URL: simulate, Token: "{token_b}", Body: data(map[string]any{"to": "7100"}), ExpectedStatus: 403},
		{Name: "B's simulate does not reach A's flows", Method: "POST", URL: "/v2/accounts/{account_b}/simulate", Token: "{token_b}",
			Body: data(map[string]any{"to": "7100"}), ExpectedStatus: 404, ExpectedContent: []string{"No call flow has the number 7100 in this account"}, NotExpectedContent: []string{idB}},
		{Name: "B's call list is empty", Method: "GET", URL: "/v2/accounts/{account_b}/calls", Token: "{token_b}", ExpectedStatus: 200, After: listLen(0)},
	})
}
