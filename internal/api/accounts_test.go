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
		{Name: "A reads its child B", Method: "GET", URL: "/v2/accounts/{account_b}", ExpectedStatus: 200,
			ExpectedContent: []string{`"parent_id":"{account}"`, `"is_reseller":false`}},
		{Name: "B cannot make accounts under A", Method: "PUT", URL: "/v2/accounts/{account}", Token: "{token_b}",
			Body: data(map[string]any{"name": "B's child"}), ExpectedStatus: 403},
		{Name: "nor under itself: it is no reseller", Method: "PUT", URL: "/v2/accounts/{account_b}", Token: "{token_b}",
			Body: data(map[string]any{"name": "B's child"}), ExpectedStatus: 403},
		{Name: "name missing", Method: "PUT", URL: "/v2/accounts/{account}", Body: data(map[string]any{}), ExpectedStatus: 400,
			ExpectedContent: []string{`"name":{"required"`}},
		{Name: "name blank", Method: "PUT", URL: "/v2/accounts/{account}", Body: data(map[string]any{"name": "   "}), ExpectedStatus: 400,
			ExpectedContent: []string{`"name":{"required"`}},
		{Name: "name too long", Method: "PUT", URL: "/v2/accounts/{account}", Body: data(map[string]any{"name": strings.Repeat("n", 129)}), ExpectedStatus: 400,
			ExpectedContent: []string{`"name":{"required"`}},
	})
}

// TestAccountTree is Kazoo's account tree through the real server: the
// operator's account A, a reseller R with a customer D, and a plain
// account C beside R. A key reaches its account and its descendants only,
// and only A and (in its own sub-tree) R create accounts.
func TestAccountTree(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	newAccount := func(name, parent, token string) servertest.APIScenario {
		return servertest.APIScenario{Name: "make " + name, Method: "PUT", URL: "/v2/accounts/{" + parent + "}", Token: token,
			Body: data(map[string]any{"name": name}), ExpectedStatus: 201, ExpectedContent: []string{`"parent_id":"{` + parent + `}"`},
			Capture: map[string]string{"account_" + name: "data.id", "key_" + name: "data.api_key"}}
	}
	signIn := func(name string) servertest.APIScenario {
		return servertest.APIScenario{Name: "sign in " + name, Method: "PUT", URL: apiAuth, Token: "-",
			Body: data(map[string]any{"api_key": "{key_" + name + "}"}), ExpectedStatus: 201, Capture: map[string]string{"token_" + name: "auth_token"}}
	}
	// get reads what the path names with the token of the account the
	// scenario's name begins with ("" for the operator's).
	get := func(name, who, path string, status int) servertest.APIScenario {
		token := ""
		if by, _, _ := strings.Cut(name, " "); by != "Root" {
			token = "{token_" + by + "}"
		}
		return servertest.APIScenario{Name: name, Method: "GET", URL: "/v2/accounts/{account_" + who + "}" + path, Token: token, ExpectedStatus: status}
	}
	servertest.Run(t, s, []servertest.APIScenario{
		newAccount("R", "account", ""), signIn("R"),
		newAccount("C", "account", ""), signIn("C"),
		{Name: "R is no reseller yet", Method: "PUT", URL: "/v2/accounts/{account_R}", Token: "{token_R}",
			Body: data(map[string]any{"name": "too early"}), ExpectedStatus: 403},
		{Name: "R cannot mark itself", Method: "PUT", URL: "/v2/accounts/{account_R}/reseller", Token: "{token_R}", ExpectedStatus: 403},
		{Name: "the operator marks R", Method: "PUT", URL: "/v2/accounts/{account_R}/reseller", ExpectedStatus: 200,
			ExpectedContent: []string{`"is_reseller":true`}},
		newAccount("D", "account_R", "{token_R}"), signIn("D"),
		{Name: "R cannot make accounts under the operator", Method: "PUT", URL: "/v2/accounts/{account}", Token: "{token_R}",
			Body: data(map[string]any{"name": "x"}), ExpectedStatus: 403},
		{Name: "R cannot make accounts under its sibling", Method: "PUT", URL: "/v2/accounts/{account_C}", Token: "{token_R}",
			Body: data(map[string]any{"name": "x"}), ExpectedStatus: 403},
		{Name: "R cannot mark its customer a reseller", Method: "PUT", URL: "/v2/accounts/{account_D}/reseller", Token: "{token_R}", ExpectedStatus: 403},
		{Name: "D, R's customer, makes no accounts", Method: "PUT", URL: "/v2/accounts/{account_D}", Token: "{token_D}",
			Body: data(map[string]any{"name": "x"}), ExpectedStatus: 403},
		get("R reads its customer D", "D", "", 200),
		get("R lists D's call flows", "D", "/callflows", 200),
		get("Root reads its grandchild D", "D", "", 200),
		get("D cannot read its parent R", "R", "", 403),
		get("D cannot read R's call flows", "R", "/callflows", 403),
		get("R cannot read its sibling C", "C", "", 403),
		get("R cannot read C's trunks", "C", "/trunks", 403),
		get("C cannot read its cousin D", "D", "", 403),
		{Name: "the operator lists its children", Method: "GET", URL: "/v2/accounts/{account}/children", ExpectedStatus: 200,
			ExpectedContent: []string{"{account_R}", "{account_C}"}, NotExpectedContent: []string{"{account_D}", "signing"}, After: listLen(2)},
		{Name: "and its whole tree", Method: "GET", URL: "/v2/accounts/{account}/descendants", ExpectedStatus: 200,
			ExpectedContent: []string{"{account_R}", "{account_C}", "{account_D}"}, After: listLen(3)},
		{Name: "R lists its own tree only", Method: "GET", URL: "/v2/accounts/{account_R}/descendants", Token: "{token_R}", ExpectedStatus: 200,
			ExpectedContent: []string{"{account_D}"}, NotExpectedContent: []string{"{account_C}"}, After: listLen(1)},
		{Name: "D cannot list the operator's tree", Method: "GET", URL: "/v2/accounts/{account}/descendants", Token: "{token_D}", ExpectedStatus: 403},
		{Name: "an unknown account is refused like a foreign one", Method: "GET", URL: "/v2/accounts/0123456789abcdef0123456789abcdef", Token: "{token_R}", ExpectedStatus: 403},
		{Name: "the operator unmarks R", Method: "DELETE", URL: "/v2/accounts/{account_R}/reseller", ExpectedStatus: 200,
			ExpectedContent: []string{`"is_reseller":false`}},
		{Name: "R makes no more accounts", Method: "PUT", URL: "/v2/accounts/{account_R}", Token: "{token_R}",
			Body: data(map[string]any{"name": "x"}), ExpectedStatus: 403},
		get("R keeps its customer", "D", "", 200),
		{Name: "the operator cannot unmark itself", Method: "DELETE", URL: "/v2/accounts/{account}/reseller", ExpectedStatus: 403},
	})
}

// TestRevocation: a rotated key and the tokens it gave stop working at
// once; a signed-out token too.
func TestRevocation(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "make B", Method: "PUT", URL: "/v2/accounts/{account}", Body: data(map[string]any{"name": "B"}), ExpectedStatus: 201,
			Capture: map[string]string{"account_b": "data.id", "key_b": "data.api_key"}},
		{Name: "B signs in (the leaked key)", Method: "PUT", URL: apiAuth, Token: "-", Body: data(map[string]any{"api_key": "{key_b}"}),
			ExpectedStatus: 201, Capture: map[string]string{"stolen_b": "auth_token"}},
		{Name: "B signs in again", Method: "PUT", URL: apiAuth, Token: "-", Body: data(map[string]any{"api_key": "{key_b}"}),
			ExpectedStatus: 201, Capture: map[string]string{"token_b": "auth_token"}},
		{Name: "C, B's sibling, cannot rotate B's key", Method: "PUT", URL: "/v2/accounts/{account_b}/api_key", Token: "{token_c}",
			Before: func(t testing.TB, s *servertest.Server) {
				_, tok := s.AddAccount("C")
				s.Set("token_c", tok)
			}, ExpectedStatus: 403},
		{Name: "B rotates its key", Method: "PUT", URL: "/v2/accounts/{account_b}/api_key", Token: "{token_b}", Body: data(map[string]any{}),
			ExpectedStatus: 201, NotExpectedContent: []string{"{key_b}"}, Capture: map[string]string{"new_key_b": "data.api_key"}},
		{Name: "the old key is refused", Method: "PUT", URL: apiAuth, Token: "-", Body: data(map[string]any{"api_key": "{key_b}"}), ExpectedStatus: 401},
		{Name: "the old key's other session is over", Method: "GET", URL: "/v2/accounts/{account_b}", Token: "{stolen_b}", ExpectedStatus: 401},
		{Name: "the rotating session goes on", Method: "GET", URL: "/v2/accounts/{account_b}", Token: "{token_b}", ExpectedStatus: 200},
		{Name: "the new key signs in", Method: "PUT", URL: apiAuth, Token: "-", Body: data(map[string]any{"api_key": "{new_key_b}"}), ExpectedStatus: 201},
		{Name: "the parent rotates B's key: every B session ends", Method: "PUT", URL: "/v2/accounts/{account_b}/api_key", ExpectedStatus: 201},
		{Name: "B's session is over", Method: "GET", URL: "/v2/accounts/{account_b}", Token: "{token_b}", ExpectedStatus: 401},
		{Name: "the parent's own session goes on", Method: "GET", URL: "/v2/accounts/{account_b}", ExpectedStatus: 200},
		{Name: "sign in to sign out", Method: "PUT", URL: apiAuth, Token: "-", Body: data(map[string]any{"api_key": servertest.AdminKey}),
			ExpectedStatus: 201, Capture: map[string]string{"session": "auth_token"}},
		{Name: "sign out", Method: "DELETE", URL: "/v2/token_auth", Token: "{session}", ExpectedStatus: 200,
			ExpectedContent: []string{`"revoked":true`}, NotExpectedContent: []string{`"auth_token"`}},
		{Name: "the revoked token is refused", Method: "GET", URL: "/v2/accounts/{account}", Token: "{session}", ExpectedStatus: 401},
		{Name: "revoking it again", Method: "DELETE", URL: "/v2/token_auth", Token: "{session}", ExpectedStatus: 401},
		{Name: "other sessions go on", Method: "GET", URL: "/v2/accounts/{account}", ExpectedStatus: 200},
	})
}
