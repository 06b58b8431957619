package api_test

import (
	"fmt"
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

func TestCatalog(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "pivot is in the palette", Method: "GET", URL: flows + "/actions", ExpectedStatus: 200,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				var pivot any
				for _, it := range r.Get(t, "data").([]any) {
					if servertest.Lookup(it, "name") == "pivot" {
						pivot = it
					}
				}
				if pivot == nil || servertest.Lookup(pivot, "group") != "Advanced" || servertest.Lookup(pivot, "label") != "Pivot" ||
					servertest.Lookup(pivot, "terminal") != false {
					t.Fatalf("pivot entry: %v", pivot)
				}
				if req := fmt.Sprint(servertest.Lookup(pivot, "schema.required")); req != "[voice_url]" {
					t.Errorf("schema required %v", req)
				}
			}},
		{Name: "no token", Method: "GET", URL: flows + "/actions", Token: "-", ExpectedStatus: 401},
	})
}
