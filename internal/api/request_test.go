package api_test

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

// TestBadRequestBody: every refusal of the request envelope is a 400 that
// names what is wrong, and stores nothing.
func TestBadRequestBody(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	big := `{"data":{"name":"` + strings.Repeat("x", 2<<20) + `"}}`
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "invalid JSON", Method: "PUT", URL: flows, Body: `{"data": {`, ExpectedStatus: 400, ExpectedContent: []string{`"data"`, `"json"`}},
		{Name: "empty body", Method: "PUT", URL: flows, Body: ``, ExpectedStatus: 400, ExpectedContent: []string{`"required"`}},
		{Name: "not an object", Method: "PUT", URL: flows, Body: `[1,2]`, ExpectedStatus: 400},
		{Name: "data missing", Method: "PUT", URL: flows, Body: `{"name":"x"}`, ExpectedStatus: 400, ExpectedContent: []string{`"data":{"required"`}},
		{Name: "data not an object", Method: "PUT", URL: flows, Body: `{"data":"x"}`, ExpectedStatus: 400, ExpectedContent: []string{`"type"`}},
		{Name: "invalid UTF-8 named by path", Method: "PUT", URL: flows, Body: "{\"data\":{\"name\":\"x\",\"numbers\":[\"80\xff(\"]}}",
			ExpectedStatus: 400, ExpectedContent: []string{`"numbers.0"`}},
		{Name: "body too large", Method: "PUT", URL: flows, Body: big, ExpectedStatus: 400, ExpectedContent: []string{`too large`}},
		{Name: "nothing was stored", Method: "GET", URL: flows, ExpectedStatus: 200, After: listLen(0)},
	})
}
