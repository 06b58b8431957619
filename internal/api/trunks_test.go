package api_test

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

const trunks = "/v2/accounts/{account}/trunks"

func TestTrunksAPI(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	idB, tokenB := s.AddAccount("other")
	s.Set("account_b", idB)
	s.Set("token_b", tokenB)
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "no name", Method: "PUT", URL: trunks, Body: data(map[string]any{"source_cidrs": []string{"10.0.0.1"}}),
			ExpectedStatus: 400, ExpectedContent: []string{`"name"`}},
		{Name: "bad cidr", Method: "PUT", URL: trunks, Body: data(map[string]any{"name": "x", "source_cidrs": []string{"10.0.0.300"}}),
			ExpectedStatus: 400, ExpectedContent: []string{`"source_cidrs.0"`}},
		{Name: "bad uri", Method: "PUT", URL: trunks, Body: data(map[string]any{"name": "x", "outbound_uri": "http://x"}),
			ExpectedStatus: 400, ExpectedContent: []string{`"outbound_uri"`}},
		{Name: "no token", Method: "GET", URL: trunks, Token: "-", ExpectedStatus: 401},
		{Name: "missing", Method: "GET", URL: trunks + "/nope", ExpectedStatus: 404},
		{Name: "create", Method: "PUT", URL: trunks, Body: data(map[string]any{"name": "carrier", "source_cidrs": []string{"203.0.113.0/24"}}),
			ExpectedStatus: 201, Capture: map[string]string{"id": "data.id", "rev": "revision"}},
		{Name: "patch", Method: "PATCH", URL: trunks + "/{id}", Body: data(map[string]any{"outbound_uri": "sip:gw.example.net:5080"}),
			ExpectedStatus: 200, After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				equalAt(t, r, "data.outbound_uri", "sip:gw.example.net:5080")
				equalAt(t, r, "data.name", "carrier")
			}},
		{Name: "stale update", Method: "POST", URL: trunks + "/{id}", Body: withRevision(data(map[string]any{"name": "x"}), "{rev}"), ExpectedStatus: 409},
		{Name: "list", Method: "GET", URL: trunks, ExpectedStatus: 200, After: listLen(1)},
		{Name: "B cannot read A's trunk", Method: "GET", URL: trunks + "/{id}", Token: "{token_b}", ExpectedStatus: 403, NotExpectedContent: []string{"carrier"}},
		{Name: "B cannot delete A's trunk", Method: "DELETE", URL: trunks + "/{id}", Token: "{token_b}", ExpectedStatus: 403},
		{Name: "B cannot reach A's trunk through its own account", Method: "GET", URL: "/v2/accounts/{account_b}/trunks/{id}", Token: "{token_b}",
			ExpectedStatus: 404, NotExpectedContent: []string{"carrier"}},
		{Name: "another account may not claim an overlapping network", Method: "PUT", URL: "/v2/accounts/{account_b}/trunks", Token: "{token_b}",
			Body: data(map[string]any{"name": "steal", "source_cidrs": []string{"203.0.113.7"}}), ExpectedStatus: 400,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				if !strings.Contains(strings.ToLower(string(r.Body)), "overlaps") {
					t.Errorf("overlap not named: %s", r.Body)
				}
			}},
		{Name: "A's trunk unchanged", Method: "GET", URL: trunks + "/{id}", ExpectedStatus: 200, ExpectedContent: []string{`"name":"carrier"`}},
	})
}
