package api_test

import (
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

// TestTemporalStatus: the badge's endpoint judges rules as a call does,
// in the rule's own zone, else the block's; sets follow their rules; an
// unknown id is said per id; bad input is refused; accounts are walls.
func TestTemporalStatus(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	idB, tokB := s.AddAccount("tenant b")
	s.Set("b", idB)
	s.Set("token_b", tokB)
	status := rules + "/status"
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "office hours, in Paris", Method: "PUT", URL: rules, ExpectedStatus: 201, Capture: map[string]string{"office": "data.id"},
			Body: data(map[string]any{"name": "Office hours", "cycle": "weekly", "timezone": "Europe/Paris",
				"wdays": []string{"monday", "tuesday", "wednesday", "thursday", "friday"}, "time_window_start": 32400, "time_window_stop": 61200})},
		{Name: "lunch, no zone of its own", Method: "PUT", URL: rules, ExpectedStatus: 201, Capture: map[string]string{"lunch": "data.id"},
			Body: data(map[string]any{"name": "Lunch", "cycle": "daily", "time_window_start": 43200, "time_window_stop": 46800})},
		{Name: "christmas", Method: "PUT", URL: rules, ExpectedStatus: 201, Capture: map[string]string{"christmas": "data.id"},
			Body: data(map[string]any{"name": "Christmas", "cycle": "yearly", "month": 12, "days": []int{25}})},
		{Name: "holidays", Method: "PUT", URL: sets, ExpectedStatus: 201, Capture: map[string]string{"holidays": "data.id"},
			Body: data(map[string]any{"name": "Holidays", "temporal_rules": []string{"{christmas}"}})},

		{Name: "open on a Tuesday at 10:00 in Paris", Method: "GET", URL: rules + "/{office}/status?at=2025-06-03T08:00:00Z", ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				equalAt(t, r, "data.active", true)
				stringAt(t, r, "data.name", "Office hours")
				stringAt(t, r, "data.timezone", "Europe/Paris")
				stringAt(t, r, "data.local_time", "2025-06-03T10:00:00+02:00")
			}},
		{Name: "closed at 22:00", Method: "GET", URL: rules + "/{office}/status?at=2025-06-03T22:00:00%2B02:00", ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) { equalAt(t, r, "data.active", false) }},
		{Name: "the rule's zone wins over the block's", Method: "GET", URL: rules + "/{office}/status?at=2025-06-03T08:00:00Z&timezone=America/Los_Angeles",
			ExpectedStatus: 200, After: func(t testing.TB, s *servertest.Server, r servertest.Response) { equalAt(t, r, "data.active", true) }},
		{Name: "the block's zone for a rule without one", Method: "GET", URL: rules + "/{lunch}/status?at=2025-06-03T10:30:00Z&timezone=Europe/Paris",
			ExpectedStatus: 200, After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				equalAt(t, r, "data.active", true)
				stringAt(t, r, "data.timezone", "Europe/Paris")
			}},
		{Name: "UTC by default", Method: "GET", URL: rules + "/{lunch}/status?at=2025-06-03T10:30:00Z", ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) { equalAt(t, r, "data.active", false) }},
		{Name: "a batch, in order; a set follows its rules; an unknown id said", Method: "GET",
			URL: status + "?ids={holidays},{office},nosuchrule&at=2025-12-25T10:00:00%2B01:00", ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				listLen(3)(t, s, r)
				stringAt(t, r, "data.0.kind", "set")
				equalAt(t, r, "data.0.active", true)
				stringAt(t, r, "data.0.rules.0.name", "Christmas")
				stringAt(t, r, "data.1.kind", "rule")
				equalAt(t, r, "data.1.active", true)
				stringAt(t, r, "data.2.id", "nosuchrule")
				stringAt(t, r, "data.2.error", "No time-of-day rule has this id")
			}},
		{Name: "forced off", Method: "PATCH", URL: rules + "/{office}", Body: data(map[string]any{"enabled": false}), ExpectedStatus: 200},
		{Name: "forced off is closed, and says so", Method: "GET", URL: rules + "/{office}/status?at=2025-06-03T08:00:00Z", ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				equalAt(t, r, "data.active", false)
				equalAt(t, r, "data.enabled", false)
			}},
		{Name: "bad at", Method: "GET", URL: rules + "/{office}/status?at=tomorrow", ExpectedStatus: 400, After: refusedAt("at", "format")},
		{Name: "bad zone", Method: "GET", URL: status + "?ids={office}&timezone=Mars/Olympus", ExpectedStatus: 400, After: refusedAt("timezone", "enum")},
		{Name: "no ids", Method: "GET", URL: status, ExpectedStatus: 400, After: refusedAt("ids", "required")},
		{Name: "unknown rule", Method: "GET", URL: rules + "/nosuchrule/status", ExpectedStatus: 404},
		{Name: "stranger", Method: "GET", URL: rules + "/{office}/status", Token: "-", ExpectedStatus: 401},
		{Name: "a tenant on the operator's path", Method: "GET", URL: rules + "/{office}/status", Token: "{token_b}", ExpectedStatus: 403},
		{Name: "a tenant's own path does not reach the operator's rule", Method: "GET", URL: "/v2/accounts/{b}/temporal_rules/{office}/status",
			Token: "{token_b}", ExpectedStatus: 404},
		{Name: "nor in a batch", Method: "GET", URL: "/v2/accounts/{b}/temporal_rules/status?ids={office}", Token: "{token_b}", ExpectedStatus: 200,
			NotExpectedContent: []string{"Office hours"},
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				stringAt(t, r, "data.0.error", "No time-of-day rule has this id")
			}},
	})
}
