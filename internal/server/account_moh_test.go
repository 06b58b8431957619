package server_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

// tenantWithMedia starts a server with a tenant B (its id and token) and a
// media of B's (mine) and of the operator's (theirs).
func tenantWithMedia(t *testing.T) (s *servertest.Server, b, tokenB, mine, theirs string) {
	t.Helper()
	s = servertest.New(t)
	b, tokenB = s.AddAccount("Tenant B")
	media := func(acct, token, name string) string {
		t.Helper()
		st, env := s.Do("PUT", "/v2/accounts/"+acct+"/media", token, map[string]any{"data": map[string]any{"name": name}})
		if st != http.StatusCreated {
			t.Fatalf("media %s: %d %v", name, st, env)
		}
		return env["data"].(map[string]any)["id"].(string)
	}
	return s, b, tokenB, media(b, tokenB, "B's hold music"), media(s.AccountID, s.Token, "the operator's hold music")
}

// TestAccountMusicOnHoldSetting: an account sets its music on hold (PATCH
// …/accounts/{id} music_on_hold.media_id, Kazoo's account field) to one
// of its media, GET shows it, {} removes it, and it survives a restart.
// The walls: another account's media id, an unknown one and a bad shape
// are 400 and change nothing; a tenant cannot set its parent's.
func TestAccountMusicOnHoldSetting(t *testing.T) {
	t.Parallel()
	s, b, tokenB, mine, theirs := tenantWithMedia(t)
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

// TestAccountReplace: Kazoo's POST /v2/accounts/{id} replaces the
// account's own document: name and music_on_hold as given, a
// music_on_hold left out removed (Kazoo's full replace), what GET showed
// sent back unchanged accepted. Refused with nothing changed: no name,
// a key of the wrong type, another account's media, a tenant
// posting its parent. A new account (PUT) takes no media id: it has
// none, and its parent's is another account's.
func TestAccountReplace(t *testing.T) {
	t.Parallel()
	s, b, tokenB, mine, theirs := tenantWithMedia(t)
	get := func() map[string]any {
		t.Helper()
		st, env := s.Do("GET", "/v2/accounts/"+b, tokenB, nil)
		if st != http.StatusOK {
			t.Fatalf("get: %d %v", st, env)
		}
		return env["data"].(map[string]any)
	}
	post := func(token string, data map[string]any) (int, map[string]any) {
		return s.Do("POST", "/v2/accounts/"+b, token, map[string]any{"data": data})
	}
	moh := func(d map[string]any) any { return d["music_on_hold"].(map[string]any)["media_id"] }

	if st, env := post(tokenB, map[string]any{"name": "B Corp", "music_on_hold": map[string]any{"media_id": mine}}); st != http.StatusOK ||
		moh(env["data"].(map[string]any)) != mine || env["data"].(map[string]any)["name"] != "B Corp" {
		t.Fatalf("post: %d %v", st, env)
	}
	if d := get(); d["name"] != "B Corp" || moh(d) != mine {
		t.Errorf("after posting: %v", d)
	}
	// What GET shows, posted back as it is, changes nothing.
	if st, env := post(tokenB, get()); st != http.StatusOK {
		t.Errorf("posting back what GET showed: %d %v", st, env)
	}
	for _, tc := range []struct {
		name   string
		token  string
		data   map[string]any
		status int
		want   string
	}{
		{"no name", tokenB, map[string]any{"music_on_hold": map[string]any{}}, 400, `"name"`},
		{"a blank name", tokenB, map[string]any{"name": "  "}, 400, `"name"`},
		{"a key of the wrong type", tokenB, map[string]any{"name": "X", "timezone": 7, "caller_id": map[string]any{}}, 400, `"timezone"`},
		{"another account's media", tokenB, map[string]any{"name": "X", "music_on_hold": map[string]any{"media_id": theirs}}, 400, `music_on_hold.media_id`},
		{"an unknown media", tokenB, map[string]any{"name": "X", "music_on_hold": map[string]any{"media_id": "0123456789abcdef0123456789abcdef"}}, 400, `music_on_hold.media_id`},
		{"music of the wrong shape", tokenB, map[string]any{"name": "X", "music_on_hold": "loud"}, 400, `music_on_hold.media_id`},
		{"egress_allow from a tenant", tokenB, map[string]any{"name": "X", "egress_allow": []string{"10.0.0.0/8"}}, 403, `egress_allow`},
	} {
		st, env := post(tc.token, tc.data)
		if st != tc.status || !strings.Contains(fmt.Sprint(env), strings.Trim(tc.want, `"`)) {
			t.Errorf("%s: %d %v, want %d naming %s", tc.name, st, env, tc.status, tc.want)
		}
	}
	if st, env := s.Do("POST", "/v2/accounts/"+s.AccountID, tokenB, map[string]any{"data": map[string]any{"name": "Mine now"}}); st != http.StatusForbidden {
		t.Errorf("a tenant posted its parent: %d %v", st, env)
	}
	if d := get(); d["name"] != "B Corp" || moh(d) != mine {
		t.Errorf("after the refusals: %v", d)
	}
	// Kazoo's full replace: music_on_hold left out is removed.
	if st, env := post(tokenB, map[string]any{"name": "B Corp"}); st != http.StatusOK {
		t.Fatalf("post without music: %d %v", st, env)
	}
	if d := get(); d["music_on_hold"] == nil || len(d["music_on_hold"].(map[string]any)) != 0 {
		t.Errorf("a post without music_on_hold kept %v", d["music_on_hold"])
	}
	// The operator posts with egress_allow; a later post without it keeps it.
	if st, env := post(s.Token, map[string]any{"name": "B Corp", "egress_allow": []string{"10.9.0.0/16"}}); st != http.StatusOK {
		t.Errorf("the operator's post with egress_allow: %d %v", st, env)
	}
	if st, env := post(tokenB, map[string]any{"name": "B Corp"}); st != http.StatusOK {
		t.Errorf("post: %d %v", st, env)
	}
	if err := s.Server.Egress().Check(b, netip.MustParseAddr("10.9.1.1")); err != nil {
		t.Error("a post without egress_allow took the operator's egress_allow back")
	}

	for _, tc := range []struct {
		name   string
		music  any
		status int
	}{
		{"the parent's media", map[string]any{"media_id": theirs}, 400},
		{"the tenant's media", map[string]any{"media_id": mine}, 400},
		{"none", map[string]any{}, 201},
	} {
		st, env := s.Do("PUT", "/v2/accounts/"+s.AccountID, s.Token, map[string]any{"data": map[string]any{"name": "New " + tc.name, "music_on_hold": tc.music}})
		if st != tc.status {
			t.Errorf("a new account with %s: %d %v, want %d", tc.name, st, env, tc.status)
		}
	}
}

// TestMediaInUseAsMusicOnHold: a media an account, a user or a device
// plays as music on hold is not deleted (409 naming each, as …/references
// does) unless forced; a user or device naming a media that is not the
// account's is refused.
func TestMediaInUseAsMusicOnHold(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	bAcct, tokenB := s.AddAccount("Tenant B")
	base := "/v2/accounts/" + s.AccountID
	newDoc := func(path, token string, data map[string]any) (int, string) {
		t.Helper()
		st, env := s.Do("PUT", path, token, map[string]any{"data": data})
		d, _ := env["data"].(map[string]any)
		id, _ := d["id"].(string)
		return st, id
	}
	_, m := newDoc(base+"/media", s.Token, map[string]any{"name": "hold music"})
	_, theirs := newDoc("/v2/accounts/"+bAcct+"/media", tokenB, map[string]any{"name": "B's"})
	if st, env := s.Do("PATCH", base, s.Token, map[string]any{"data": map[string]any{"music_on_hold": map[string]any{"media_id": m}}}); st != 200 {
		t.Fatalf("account music: %d %v", st, env)
	}
	st, user := newDoc(base+"/users", s.Token, map[string]any{"first_name": "Ann", "last_name": "Lee", "music_on_hold": map[string]any{"media_id": m}})
	if st != 201 {
		t.Fatalf("user: %d", st)
	}
	st, dev := newDoc(base+"/devices", s.Token, map[string]any{"name": "desk", "music_on_hold": map[string]any{"media_id": m}})
	if st != 201 {
		t.Fatalf("device: %d", st)
	}
	for _, kind := range []string{"users", "devices"} {
		for _, id := range []string{theirs, "0123456789abcdef0123456789abcdef"} {
			if st, env := s.Do("PUT", base+"/"+kind, s.Token, map[string]any{"data": map[string]any{"name": "x", "first_name": "x", "last_name": "x",
				"music_on_hold": map[string]any{"media_id": id}}}); st != 400 || !strings.Contains(fmt.Sprint(env), "music_on_hold.media_id") {
				t.Errorf("a %s with music %s: %d %v, want 400", kind, id, st, env)
			}
		}
	}
	st, env := s.Do("GET", base+"/media/"+m+"/references", s.Token, nil)
	refs := fmt.Sprint(env["data"])
	if st != 200 || !strings.Contains(refs, "kind:accounts") || !strings.Contains(refs, user) || !strings.Contains(refs, dev) {
		t.Errorf("references: %d %v", st, refs)
	}
	st, env = s.Do("DELETE", base+"/media/"+m, s.Token, nil)
	if got := fmt.Sprint(env); st != 409 || !strings.Contains(got, "kind:accounts") || !strings.Contains(got, "path:music_on_hold.media_id") ||
		!strings.Contains(got, user) || !strings.Contains(got, dev) {
		t.Errorf("deleting the music on hold: %d %v, want 409 naming the account, the user and the device", st, env)
	}
	if st, env := s.Do("DELETE", base+"/media/"+m+"?force=true", s.Token, nil); st != 200 {
		t.Errorf("forced: %d %v", st, env)
	}
}
