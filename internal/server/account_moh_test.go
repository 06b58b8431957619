package server_test

import (
	"net/http"
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

// TestAccountMusicOnHoldSetting: an account sets its music on hold (PATCH
// …/accounts/{id} music_on_hold.media_id, Kazoo's account field) to one
// of its media, GET shows it, {} removes it, and it survives a restart.
// The walls: another account's media id, an unknown one and a bad shape
// are 400 and change nothing; a tenant cannot set its parent's.
func TestAccountMusicOnHoldSetting(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	b, tokenB := s.AddAccount("Tenant B")
	media := func(acct, token, name string) string {
		t.Helper()
		st, env := s.Do("PUT", "/v2/accounts/"+acct+"/media", token, map[string]any{"data": map[string]any{"name": name}})
		if st != http.StatusCreated {
			t.Fatalf("media %s: %d %v", name, st, env)
		}
		return env["data"].(map[string]any)["id"].(string)
	}
	mine, theirs := media(b, tokenB, "B's hold music"), media(s.AccountID, s.Token, "the operator's hold music")
	moh := func(acct, token string) (int, any) {
		st, env := s.Do("GET", "/v2/accounts/"+acct, token, nil)
		data, _ := env["data"].(map[string]any)
		return st, data["music_on_hold"]
	}
	set := func(acct, token string, v any) (int, map[string]any) {
		return s.Do("PATCH", "/v2/accounts/"+acct, token, map[string]any{"data": map[string]any{"music_on_hold": v}})
	}
	if st, m := moh(b, tokenB); st != http.StatusOK || m == nil || len(m.(map[string]any)) != 0 {
		t.Errorf("unset: %d %v, want {}", st, m)
	}
	if st, env := set(b, tokenB, map[string]any{"media_id": mine}); st != http.StatusOK ||
		env["data"].(map[string]any)["music_on_hold"].(map[string]any)["media_id"] != mine {
		t.Fatalf("set: %d %v", st, env)
	}
	for _, tc := range []struct {
		name string
		v    any
	}{
		{"another account's media", map[string]any{"media_id": theirs}},
		{"an unknown media", map[string]any{"media_id": "0123456789abcdef0123456789abcdef"}},
		{"not an object", "loud"},
		{"a number", map[string]any{"media_id": 7}},
	} {
		if st, env := set(b, tokenB, tc.v); st != http.StatusBadRequest {
			t.Errorf("%s: %d %v, want 400", tc.name, st, env)
		}
	}
	if st, env := s.Do("PATCH", "/v2/accounts/"+b, tokenB, map[string]any{"data": map[string]any{}}); st != http.StatusBadRequest {
		t.Errorf("nothing to set: %d %v, want 400", st, env)
	}
	if st, env := set(s.AccountID, tokenB, map[string]any{"media_id": mine}); st == http.StatusOK {
		t.Errorf("a tenant set its parent's music on hold: %d %v", st, env)
	}
	if _, m := moh(s.AccountID, s.Token); len(m.(map[string]any)) != 0 {
		t.Errorf("the operator's music on hold after the tenant tried: %v", m)
	}
	// The operator (an ancestor) may set a tenant's, to the tenant's media.
	if st, env := set(b, s.Token, map[string]any{"media_id": mine}); st != http.StatusOK {
		t.Errorf("the operator set B's: %d %v", st, env)
	}
	s.Restart()
	if _, m := moh(b, tokenB); m.(map[string]any)["media_id"] != mine {
		t.Errorf("after the refusals and a restart: %v, want %s", m, mine)
	}
	if st, _ := set(b, tokenB, map[string]any{}); st != http.StatusOK {
		t.Errorf("remove: %d", st)
	}
	if _, m := moh(b, tokenB); len(m.(map[string]any)) != 0 {
		t.Errorf("after removing: %v", m)
	}
}
