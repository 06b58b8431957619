package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

const apiAuth = "/v2/api_auth"

func TestAuth(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	key := func(k string) map[string]any { return data(map[string]any{"api_key": k}) }
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "sign in", Method: "PUT", URL: apiAuth, Token: "-", Body: key(servertest.AdminKey), ExpectedStatus: 201,
			ExpectedContent: []string{`"account_id":"{account}"`, `"account_name":"Default"`, `"ttl":3600`, `"expires_at"`},
			Capture:         map[string]string{"token": "auth_token"}},
		{Name: "the new token works", Method: "GET", URL: "/v2/accounts/{account}", Token: "{token}", ExpectedStatus: 200,
			ExpectedContent: []string{`"auth_token":"{token}"`}},
		{Name: "as a bearer token too", Method: "GET", URL: "/v2/accounts/{account}", Token: "-",
			Header: http.Header{"Authorization": {"Bearer {token}"}}, ExpectedStatus: 200},
		{Name: "wrong api key", Method: "PUT", URL: apiAuth, Token: "-", Body: key("wrong"), ExpectedStatus: 401,
			ExpectedContent: []string{`"message":"invalid credentials"`}},
		{Name: "api key missing", Method: "PUT", URL: apiAuth, Token: "-", Body: data(map[string]any{}), ExpectedStatus: 400,
			ExpectedContent: []string{`"api_key"`}},
		{Name: "A creates a flow", Method: "PUT", URL: flows, Body: pivotFlow("A's flow", "3000"), ExpectedStatus: 201,
			Capture: map[string]string{"id_a": "data.id"}},
		{Name: "no token", Method: "GET", URL: flows, Token: "-", ExpectedStatus: 401, ExpectedContent: []string{`"error":"401"`}},
		{Name: "wrong token", Method: "GET", URL: flows, Token: "nope", ExpectedStatus: 401},
		{Name: "over-long token", Method: "GET", URL: flows, Token: strings.Repeat("t", 300), ExpectedStatus: 401},
		{Name: "no token create changes nothing", Method: "PUT", URL: flows, Token: "-", Body: pivotFlow("x", "3001"), ExpectedStatus: 401},
		{Name: "no token delete", Method: "DELETE", URL: flows + "/{id_a}", Token: "-", ExpectedStatus: 401},
		{Name: "no token simulate", Method: "POST", URL: "/v2/accounts/{account}/simulate", Token: "-", Body: data(map[string]any{"to": "3000"}), ExpectedStatus: 401},
		{Name: "nothing was created or deleted", Method: "GET", URL: flows, ExpectedStatus: 200, ExpectedContent: []string{"{id_a}"}, After: listLen(1)},
	})
}
