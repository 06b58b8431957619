package api_test

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

func TestAccounts(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "own account", Method: "GET", URL: "/v2/accounts/{account}", ExpectedStatus: 200,
			ExpectedContent: []string{`"id":"{account}"`, `"name":"Default"`, `"created"`}, NotExpectedContent: []string{"signing_secret", "SigningSecret"}},
		{Name: "sub-account", Method: "PUT", URL: "/v2/accounts/{account}", Body: data(map[string]any{"name": "  Other Co "}), ExpectedStatus: 201,
			ExpectedContent: []string{`"name":"Other Co"`, `"parent_id":"{account}"`},
			Capture:         map[string]string{"account_b": "data.id", "key_b": "data.api_key"},
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				if key, _ := r.Get(t, "data.api_key").(string); len(key) != 64 {
					t.Errorf("api key %q, want 64 hex characters", key)
				}
			}},
		{Name: "the new key signs in to the new account only", Method: "PUT", URL: apiAuth, Token: "-", Body: data(map[string]any{"api_key": "{key_b}"}),
			ExpectedStatus: 201, ExpectedContent: []string{`"account_id":"{account_b}"`, `"account_name":"Other Co"`},
			Capture: map[string]string{"token_b": "auth_token"}},
		{Name: "B reads itself", Method: "GET", URL: "/v2/accounts/{account_b}", Token: "{token_b}", ExpectedStatus: 200,
			ExpectedContent: []string{`"name":"Other Co"`}},
		{Name: "B cannot read its parent", Method: "GET", URL: "/v2/accounts/{account}", Token: "{token_b}", ExpectedStatus: 403,
			NotExpectedContent: []string{"Default"}},
		{Name: "A cannot read B", Method: "GET", URL: "/v2/accounts/{account_b}", ExpectedStatus: 403},
		{Name: "B cannot make accounts under A", Method: "PUT", URL: "/v2/accounts/{account}", Token: "{token_b}",
			Body: data(map[string]any{"name": "B's child"}), ExpectedStatus: 403},
		{Name: "name missing", Method: "PUT", URL: "/v2/accounts/{account}", Body: data(map[string]any{}), ExpectedStatus: 400,
			ExpectedContent: []string{`"name":{"required"`}},
		{Name: "name blank", Method: "PUT", URL: "/v2/accounts/{account}", Body: data(map[string]any{"name": "   "}), ExpectedStatus: 400,
			ExpectedContent: []string{`"name":{"required"`}},
		{Name: "name too long", Method: "PUT", URL: "/v2/accounts/{account}", Body: data(map[string]any{"name": strings.Repeat("n", 129)}), ExpectedStatus: 400,
			ExpectedContent: []string{`"name":{"required"`}},
	})
}
