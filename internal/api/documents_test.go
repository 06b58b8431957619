package api_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/document"
	"github.com/switchboard/switchboard/internal/servertest"
)

// fixtureSet is testdata/documents: every kind's fixtures by id.
type fixtureSet struct {
	byID   map[string]document.Entry
	byKind map[string][]document.Entry
}

func loadFixtures(t testing.TB) fixtureSet {
	t.Helper()
	b, err := document.ReadFiles(os.DirFS(filepath.Join("..", "..", "testdata", "documents")))
	if err != nil {
		t.Fatal(err)
	}
	fs := fixtureSet{byID: map[string]document.Entry{}, byKind: map[string][]document.Entry{}}
	for _, e := range b.Documents {
		fs.byID[e.ID] = e
		fs.byKind[e.Kind] = append(fs.byKind[e.Kind], e)
	}
	return fs
}

// deps lists the fixtures e points to, transitively, dependencies first.
func (fs fixtureSet) deps(t testing.TB, e document.Entry) []document.Entry {
	t.Helper()
	var out []document.Entry
	seen := map[string]bool{e.ID: true}
	var walk func(e document.Entry)
	walk = func(e document.Entry) {
		k, _ := document.Lookup(e.Kind)
		w, err := k.Prepare(&document.Context{AccountID: "x"}, e.Document, e.ID)
		if err != nil {
			t.Fatalf("fixture %s %s: %v", e.Kind, e.ID, err)
		}
		for _, r := range w.Refs {
			d, ok := fs.byID[r.ID]
			if !ok {
				t.Fatalf("fixture %s %s names %s, which is no fixture", e.Kind, e.ID, r.ID)
			}
			if !seen[d.ID] {
				seen[d.ID] = true
				walk(d)
				out = append(out, d)
			}
		}
	}
	walk(e)
	return out
}

// importDocs applies entries to an account, failing the test on error.
func importDocs(t testing.TB, s *servertest.Server, account, token string, entries []document.Entry) {
	t.Helper()
	if len(entries) == 0 {
		return
	}
	status, env := s.Do("POST", "/v2/accounts/"+account+"/import", token, map[string]any{"data": document.Bundle{Documents: entries}})
	if status != 200 {
		t.Fatalf("import: %d %v", status, env)
	}
}

// variant is the i-th copy of a fixture body, without its id and with its
// unique values changed, so that several can live in one account.
func variant(t testing.TB, body []byte, i int) map[string]any {
	t.Helper()
	doc, err := document.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	delete(doc, "id")
	suffix := fmt.Sprint(i)
	if n, ok := doc["name"].(string); ok {
		doc["name"] = n + " " + suffix
	}
	if u, ok := doc["username"].(string); ok {
		doc["username"] = u + suffix
	}
	if sip, ok := doc["sip"].(map[string]any); ok {
		sip["username"] = fmt.Sprint(sip["username"], suffix)
	}
	if m, ok := doc["mailbox"].(string); ok {
		doc["mailbox"] = m + suffix
	}
	if _, ok := doc["numbers"]; ok {
		doc["numbers"] = []string{"+1415555" + fmt.Sprintf("%04d", i)}
	}
	if _, ok := doc["source_cidrs"]; ok {
		doc["source_cidrs"] = []string{fmt.Sprintf("198.51.%d.0/24", i)}
	}
	return doc
}

// TestEveryKindThroughHTTP is one suite over every registered kind, so a
// new kind is tested by registering it (and adding its fixture): CRUD,
// revisions and 409, filters, pagination, walls between accounts, and no
// secret in any answer.
func TestEveryKindThroughHTTP(t *testing.T) {
	t.Parallel()
	fx := loadFixtures(t)
	s := servertest.New(t)
	for _, k := range document.Kinds() {
		t.Run(k.Name, func(t *testing.T) {
			if len(fx.byKind[k.Name]) == 0 {
				t.Fatalf("no fixture in testdata/documents/%s", k.Name)
			}
			e := fx.byKind[k.Name][0]
			acct, tok := s.AddAccount("kind " + k.Name)
			other, otherTok := s.AddAccount("other " + k.Name)
			importDocs(t, s, acct, tok, fx.deps(t, e))
			base := "/v2/accounts/" + acct + "/" + k.Name

			var ids, revs []string
			for i := range 3 {
				status, env := s.Do("PUT", base, tok, map[string]any{"data": variant(t, e.Document, i)})
				if status != 201 {
					t.Fatalf("create %d: %d %v", i, status, env)
				}
				ids = append(ids, servertest.Lookup(env, "data.id").(string))
				revs = append(revs, env["revision"].(string))
				noSecrets(t, k, env)
			}
			status, env := s.Do("GET", base+"/"+ids[0], tok, nil)
			if status != 200 || env["revision"] != revs[0] || servertest.Lookup(env, "data.id") != ids[0] {
				t.Fatalf("get: %d %v", status, env)
			}
			noSecrets(t, k, env)

			// Pages of two, then everything, then a filter.
			status, env = s.Do("GET", base+"?page_size=2", tok, nil)
			next, _ := env["next_start_key"].(string)
			if status != 200 || len(env["data"].([]any)) != 2 || next == "" {
				t.Fatalf("page 1: %d %v", status, env)
			}
			status, env = s.Do("GET", base+"?page_size=2&start_key="+next, tok, nil)
			if status != 200 || len(env["data"].([]any)) < 1 || env["next_start_key"] != nil {
				t.Fatalf("page 2: %d %v", status, env)
			}
			status, env = s.Do("GET", base+"?paginate=false", tok, nil)
			if status != 200 || len(env["data"].([]any)) != 3 {
				t.Fatalf("paginate=false: %d %v", status, env)
			}
			status, env = s.Do("GET", base+"?filter_id="+ids[1], tok, nil)
			if rows, _ := env["data"].([]any); status != 200 || len(rows) != 1 || servertest.Lookup(rows[0], "id") != ids[1] {
				t.Fatalf("filter_id: %d %v", status, env)
			}
			status, env = s.Do("GET", base+"?filter_id=nothing", tok, nil)
			if rows, _ := env["data"].([]any); status != 200 || len(rows) != 0 {
				t.Fatalf("filter matching nothing: %d %v", status, env)
			}

			// Revisions: a stale one is refused, the current one accepted.
			status, env = s.Do("POST", base+"/"+ids[0], tok, map[string]any{"data": variant(t, e.Document, 0), "revision": "1-stale"})
			if status != 409 {
				t.Fatalf("stale update: %d %v", status, env)
			}
			status, env = s.Do("POST", base+"/"+ids[0], tok, map[string]any{"data": variant(t, e.Document, 0), "revision": revs[0]})
			if status != 200 || !strings.HasPrefix(env["revision"].(string), "2-") {
				t.Fatalf("update: %d %v", status, env)
			}
			status, env = s.Do("PATCH", base+"/"+ids[0], tok, map[string]any{"data": map[string]any{"x_custom": "kept"}})
			if status != 200 || servertest.Lookup(env, "data.x_custom") != "kept" || !strings.HasPrefix(env["revision"].(string), "3-") {
				t.Fatalf("patch: %d %v", status, env)
			}
			noSecrets(t, k, env)

			// Walls: another account's token is refused; its own path does
			// not find the document.
			if status, _ = s.Do("GET", base+"/"+ids[0], otherTok, nil); status != 403 {
				t.Errorf("other account's token: %d, want 403", status)
			}
			if status, _ = s.Do("GET", "/v2/accounts/"+other+"/"+k.Name+"/"+ids[0], otherTok, nil); status != 404 {
				t.Errorf("other account's path: %d, want 404", status)
			}
			if status, _ = s.Do("DELETE", "/v2/accounts/"+other+"/"+k.Name+"/"+ids[0], otherTok, nil); status != 404 {
				t.Errorf("other account's delete: %d, want 404", status)
			}
			// Another kind's path does not find it either.
			wrong := "media"
			if k.Name == "media" {
				wrong = "users"
			}
			if status, _ = s.Do("GET", "/v2/accounts/"+acct+"/"+wrong+"/"+ids[0], tok, nil); status != 404 {
				t.Errorf("under %s: %d, want 404", wrong, status)
			}

			status, env = s.Do("DELETE", base+"/"+ids[0], tok, nil)
			if status != 200 {
				t.Fatalf("delete: %d %v", status, env)
			}
			noSecrets(t, k, env)
			if status, _ = s.Do("GET", base+"/"+ids[0], tok, nil); status != 404 {
				t.Errorf("after delete: %d, want 404", status)
			}
		})
	}
}

// noSecrets fails when an answer shows a secret of the kind (a hash or a
// clear password or PIN of the fixtures).
func noSecrets(t testing.TB, k *document.Kind, env map[string]any) {
	t.Helper()
	b, _ := json.Marshal(env["data"]) // ids and tokens elsewhere are random hex
	for _, p := range k.Secrets {
		if servertest.Lookup(env["data"], p) != nil {
			t.Errorf("%s answer shows %s: %s", k.Name, p, b)
		}
	}
	for _, clear := range []string{"wonderland-42", "desk-pass-1", `"4826"`, "pbkdf2"} {
		if strings.Contains(string(b), clear) {
			t.Errorf("%s answer shows a secret %q: %s", k.Name, clear, b)
		}
	}
}
