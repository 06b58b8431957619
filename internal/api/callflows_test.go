package api_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/servertest"
	"github.com/switchboard/switchboard/internal/store/sqlite"
)

const flows = "/v2/accounts/{account}/callflows"

func TestCallflowCRUDThroughHTTPAndSQLite(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "create", Method: "PUT", URL: flows, Body: pivotFlow("Main line", "4155551234", "1000"), ExpectedStatus: 201,
			ExpectedContent: []string{`"status":"success"`, `"revision":"1-`},
			Capture:         map[string]string{"id": "data.id", "rev1": "revision"},
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				env := r.JSON(t)
				if env["request_id"] == "" || env["auth_token"] != s.Token {
					t.Errorf("envelope: %v", env)
				}
				stringAt(t, r, "data.numbers", "[+14155551234 1000]")    // normalised
				stringAt(t, r, "data.flow.data.req_body_format", "form") // schema defaults
				stringAt(t, r, "data.flow.data.debug", "false")
			}},
		{Name: "read back", Method: "GET", URL: flows + "/{id}", ExpectedStatus: 200,
			ExpectedContent: []string{`"revision":"{rev1}"`, `"name":"Main line"`}},
		{Name: "update on the current revision", Method: "POST", URL: flows + "/{id}",
			Body: withRevision(pivotFlow("Main line v2", "4155551234"), "{rev1}"), ExpectedStatus: 200,
			ExpectedContent: []string{`"revision":"2-`}},
		{Name: "patch merges, null removes", Method: "PATCH", URL: flows + "/{id}",
			Body:           data(map[string]any{"name": "Patched", "flags": []string{"x"}, "numbers": nil}),
			ExpectedStatus: 200, Capture: map[string]string{"rev3": "revision"},
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				stringAt(t, r, "data.name", "Patched")
				stringAt(t, r, "data.numbers", "[]")
				stringAt(t, r, "data.flags", "[x]")
				// The document is in the SQLite file, as the API answered it.
				db, err := sqlite.Open(t.Context(), filepath.Join(s.DataDir, server.DatabaseFile), nil)
				if err != nil {
					t.Fatal(err)
				}
				stored, err := db.GetCallflow(t.Context(), s.AccountID, s.Expand("{id}"))
				db.Close()
				if err != nil {
					t.Fatal(err)
				}
				var doc map[string]any
				if err := json.Unmarshal(stored.Body, &doc); err != nil {
					t.Fatal(err)
				}
				if doc["name"] != "Patched" || stored.Revision != r.Get(t, "revision") {
					t.Errorf("sqlite has %v rev %s, API said rev %v", doc["name"], stored.Revision, r.Get(t, "revision"))
				}
			}},
		{Name: "delete", Method: "DELETE", URL: flows + "/{id}", ExpectedStatus: 200},
		{Name: "gone after delete", Method: "GET", URL: flows + "/{id}", ExpectedStatus: 404},
	})
}

func TestStaleRevisionRefused(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "create", Method: "PUT", URL: flows, Body: pivotFlow("A", "2000"), ExpectedStatus: 201,
			Capture: map[string]string{"id": "data.id", "rev1": "revision"}},
		{Name: "admin one saves on rev1", Method: "POST", URL: flows + "/{id}",
			Body: withRevision(pivotFlow("Admin one", "2000"), "{rev1}"), ExpectedStatus: 200},
		{Name: "admin two also read rev1: envelope revision", Method: "POST", URL: flows + "/{id}",
			Body: withRevision(pivotFlow("Admin two", "2000"), "{rev1}"), ExpectedStatus: 409},
		{Name: "admin two also read rev1: If-Match", Method: "POST", URL: flows + "/{id}",
			Header: map[string][]string{"If-Match": {`"{rev1}"`}}, Body: pivotFlow("Admin two", "2000"), ExpectedStatus: 409},
		{Name: "stale delete", Method: "DELETE", URL: flows + "/{id}",
			Header: map[string][]string{"If-Match": {"{rev1}"}}, ExpectedStatus: 409},
		{Name: "stale writes changed nothing", Method: "GET", URL: flows + "/{id}", ExpectedStatus: 200,
			ExpectedContent: []string{`"name":"Admin one"`}},
	})
}

func TestNumberConflictNamesOtherFlow(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	scenarios := []servertest.APIScenario{
		{Name: "sales takes the number", Method: "PUT", URL: flows, Body: pivotFlow("Sales", "+14155550100"), ExpectedStatus: 201,
			Capture: map[string]string{"sales": "data.id"}},
	}
	for _, dialled := range []string{"+14155550100", "4155550100", "1 (415) 555-0100"} {
		scenarios = append(scenarios, servertest.APIScenario{
			Name: "support refused " + dialled, Method: "PUT", URL: flows, Body: pivotFlow("Support", dialled), ExpectedStatus: 400,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				stringAt(t, r, "data.numbers.unique.message", s.Expand("Number +14155550100 exists in callflow {sales} Sales"))
				stringAt(t, r, "data.numbers.unique.cause", "+14155550100")
			}})
	}
	pattern := func(name string) map[string]any {
		return data(map[string]any{"name": name, "patterns": []string{`^2\d{3}$`},
			"flow": map[string]any{"module": "pivot", "data": map[string]any{"voice_url": "http://x.test/"}}})
	}
	scenarios = append(scenarios,
		servertest.APIScenario{Name: "first pattern", Method: "PUT", URL: flows, Body: pattern("P1"), ExpectedStatus: 201},
		servertest.APIScenario{Name: "same pattern refused", Method: "PUT", URL: flows, Body: pattern("P2"), ExpectedStatus: 400,
			ExpectedContent: []string{`"patterns":{"unique"`, "exists in callflow"}},
	)
	servertest.Run(t, s, scenarios)
}

func TestCallflowBadInput(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "numbers wrong type", Method: "PUT", URL: flows, Body: `{"data":{"numbers":"1000","flow":{"module":"pivot","data":{"voice_url":"http://a.test"}}}}`,
			ExpectedStatus: 400, ExpectedContent: []string{`"numbers":{"type"`}},
		{Name: "unknown module named by path", Method: "PUT", URL: flows, Body: `{"data":{"numbers":["1"],"flow":{"module":"pivot","data":{"voice_url":"http://a.test"},"children":{"_":{"module":"nope","data":{}}}}}}`,
			ExpectedStatus: 400, ExpectedContent: []string{`flow.children._.module`, `nope`}},
		{Name: "pivot url missing", Method: "PUT", URL: flows, Body: `{"data":{"numbers":["1"],"flow":{"module":"pivot","data":{}}}}`,
			ExpectedStatus: 400, ExpectedContent: []string{`flow.data.voice_url`, `required`}},
		{Name: "pivot url not http", Method: "PUT", URL: flows, Body: `{"data":{"numbers":["1"],"flow":{"module":"pivot","data":{"voice_url":"ftp://x"}}}}`,
			ExpectedStatus: 400, ExpectedContent: []string{`flow.data.voice_url`, `pattern`}},
		{Name: "bad page size", Method: "GET", URL: flows + "?page_size=abc", ExpectedStatus: 400, ExpectedContent: []string{`page_size`}},
		{Name: "bad start key", Method: "GET", URL: flows + "?start_key=!!", ExpectedStatus: 400, ExpectedContent: []string{`start_key`}},
		{Name: "unknown flow", Method: "GET", URL: flows + "/nope", ExpectedStatus: 404},
		{Name: "nothing was stored", Method: "GET", URL: flows, ExpectedStatus: 200, After: listLen(0)},
	})
}

// TestCallflowsAccountWall: a token of one account reaches nothing of
// another that is not its descendant, whichever path it tries.
func TestCallflowsAccountWall(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	idB, tokenB := s.AddAccount("Other Co")
	s.Set("account_b", idB)
	s.Set("token_b", tokenB)
	flowsB := "/v2/accounts/{account_b}/callflows"
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "A creates a flow", Method: "PUT", URL: flows, Body: pivotFlow("A's flow", "3000"), ExpectedStatus: 201,
			Capture: map[string]string{"id_a": "data.id"}},
		{Name: "B cannot list A", Method: "GET", URL: flows, Token: "{token_b}", ExpectedStatus: 403, NotExpectedContent: []string{"{id_a}"}},
		{Name: "B cannot read A's flow", Method: "GET", URL: flows + "/{id_a}", Token: "{token_b}", ExpectedStatus: 403,
			ExpectedContent: []string{"this token does not give access to account {account}"}, NotExpectedContent: []string{"A's flow"}},
		{Name: "B cannot create in A", Method: "PUT", URL: flows, Token: "{token_b}", Body: pivotFlow("B in A", "3001"), ExpectedStatus: 403},
		{Name: "B cannot update A's flow", Method: "POST", URL: flows + "/{id_a}", Token: "{token_b}", Body: pivotFlow("B was here", "3000"), ExpectedStatus: 403},
		{Name: "B cannot patch A's flow", Method: "PATCH", URL: flows + "/{id_a}", Token: "{token_b}", Body: data(map[string]any{"name": "B was here"}), ExpectedStatus: 403},
		{Name: "B cannot delete A's flow", Method: "DELETE", URL: flows + "/{id_a}", Token: "{token_b}", ExpectedStatus: 403},
		{Name: "B cannot reach A's flow through its own account", Method: "GET", URL: flowsB + "/{id_a}", Token: "{token_b}", ExpectedStatus: 404,
			NotExpectedContent: []string{"A's flow"}},
		{Name: "B cannot delete A's flow through its own account", Method: "DELETE", URL: flowsB + "/{id_a}", Token: "{token_b}", ExpectedStatus: 404},
		{Name: "B sees only its own (empty) list", Method: "GET", URL: flowsB, Token: "{token_b}", ExpectedStatus: 200,
			NotExpectedContent: []string{"{id_a}"}, After: listLen(0)},
		{Name: "C, B's sibling, cannot read B", Method: "GET", URL: flowsB, Token: "{token_c}", ExpectedStatus: 403,
			Before: func(t testing.TB, s *servertest.Server) {
				_, tok := s.AddAccount("Sibling Co")
				s.Set("token_c", tok)
			}},
		{Name: "A, B's parent, reads B (Kazoo's account tree)", Method: "GET", URL: flowsB, ExpectedStatus: 200, After: listLen(0)},
		{Name: "A's flow survived every refused request", Method: "GET", URL: flows, ExpectedStatus: 200, After: listLen(1)},
		{Name: "A's flow unchanged", Method: "GET", URL: flows + "/{id_a}", ExpectedStatus: 200, ExpectedContent: []string{`"name":"A's flow"`}},
		{Name: "B's number space is its own", Method: "PUT", URL: flowsB, Token: "{token_b}", Body: pivotFlow("B main", "3000"), ExpectedStatus: 201},
	})
}

func TestPagination(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	seen := map[string]bool{}
	page := func(want int) func(t testing.TB, s *servertest.Server, r servertest.Response) {
		return func(t testing.TB, s *servertest.Server, r servertest.Response) {
			t.Helper()
			listLen(want)(t, s, r)
			items, _ := r.Get(t, "data").([]any)
			for _, it := range items {
				id := fmt.Sprint(servertest.Lookup(it, "id"))
				if seen[id] {
					t.Errorf("id %v listed twice", id)
				}
				seen[id] = true
				if m := fmt.Sprint(servertest.Lookup(it, "modules")); m != "[pivot]" {
					t.Errorf("modules %v", m)
				}
			}
		}
	}
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "first page", Method: "GET", URL: flows + "?page_size=10", ExpectedStatus: 200,
			Before: func(t testing.TB, s *servertest.Server) {
				for i := range 23 {
					create(t, s, pivotFlow(fmt.Sprintf("flow %02d", i), fmt.Sprint(5000+i)))
				}
			},
			Capture: map[string]string{"next1": "next_start_key"}, After: page(10)},
		{Name: "second page", Method: "GET", URL: flows + "?page_size=10&start_key={next1}", ExpectedStatus: 200,
			ExpectedContent: []string{`"start_key":"{next1}"`},
			Capture:         map[string]string{"next2": "next_start_key"}, After: page(10)},
		{Name: "last page", Method: "GET", URL: flows + "?page_size=10&start_key={next2}", ExpectedStatus: 200,
			NotExpectedContent: []string{"next_start_key"},
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				page(3)(t, s, r)
				if len(seen) != 23 {
					t.Errorf("saw %d of 23 flows", len(seen))
				}
			}},
		{Name: "paginate=false lists all", Method: "GET", URL: flows + "?paginate=false", ExpectedStatus: 200, After: listLen(23)},
	})
}

func TestRestartKeepsDocuments(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	var before, after []servertest.APIScenario
	for i := range 5 {
		before = append(before, servertest.APIScenario{
			Name: fmt.Sprint("create ", i), Method: "PUT", URL: flows, Body: pivotFlow(fmt.Sprint("keep ", i), fmt.Sprint(7000+i)),
			ExpectedStatus: 201, Capture: map[string]string{fmt.Sprint("id", i): "data.id"}})
		after = append(after, servertest.APIScenario{
			Name: fmt.Sprint("after restart ", i), Method: "GET", URL: flows + fmt.Sprintf("/{id%d}", i), ExpectedStatus: 200,
			ExpectedContent: []string{fmt.Sprintf(`"name":"keep %d"`, i)},
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				m, ok := s.Router().Route(s.AccountID, fmt.Sprint(7000+i))
				if id := s.Expand(fmt.Sprintf("{id%d}", i)); !ok || m.CallflowID != id {
					t.Errorf("router after restart: %v %v, want %s", m, ok, id)
				}
			}})
	}
	servertest.Run(t, s, before)
	s.Restart()
	servertest.Run(t, s, after)
}

func TestRouterFollowsWrites(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	routed := func(number string, want bool) func(t testing.TB, s *servertest.Server, r servertest.Response) {
		return func(t testing.TB, s *servertest.Server, r servertest.Response) {
			t.Helper()
			m, ok := s.Router().Route(s.AccountID, number)
			if ok != want || (want && m.CallflowID != s.Expand("{id}")) {
				t.Errorf("route %s: %v %v, want routed %v to %s", number, m, ok, want, s.Expand("{id}"))
			}
		}
	}
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "routed after create", Method: "PUT", URL: flows, Body: pivotFlow("R", "4155550199"), ExpectedStatus: 201,
			Capture: map[string]string{"id": "data.id"}, After: routed("+1 415 555 0199", true)},
		{Name: "new number routed after update", Method: "POST", URL: flows + "/{id}", Body: pivotFlow("R", "8000"), ExpectedStatus: 200,
			After: routed("8000", true)},
		{Name: "old number not routed after update", Method: "GET", URL: flows + "/{id}", ExpectedStatus: 200,
			After: routed("4155550199", false)},
		{Name: "not routed after delete", Method: "DELETE", URL: flows + "/{id}", ExpectedStatus: 200,
			After: routed("8000", false)},
	})
}

// TestConcurrentSavesOfOneNumber races eight creates of one number: exactly
// one wins, the others are told the number is taken.
func TestConcurrentSavesOfOneNumber(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	var wg sync.WaitGroup
	statuses := make(chan int, 8)
	for i := range 8 {
		wg.Go(func() {
			status, _ := s.Do("PUT", "/v2/accounts/"+s.AccountID+"/callflows", s.Token, pivotFlow(fmt.Sprint("racer ", i), "9999"))
			statuses <- status
		})
	}
	wg.Wait()
	close(statuses)
	ok := 0
	for st := range statuses {
		if st == 201 {
			ok++
		} else if st != 400 {
			t.Errorf("status %d", st)
		}
	}
	if ok != 1 {
		t.Errorf("%d saves took number 9999, want exactly 1", ok)
	}
}
