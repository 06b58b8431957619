package api_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard/switchboard/internal/servertest"
)

func TestRecordingsAPI(t *testing.T) {
	t.Parallel()
	s := servertest.New(t)
	dir := filepath.Join(s.DataDir, "recordings", s.AccountID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	wav := []byte("RIFF....WAVEfmt fake")
	if err := os.WriteFile(filepath.Join(dir, "call@host-1.wav"), wav, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.DataDir, "secret.wav"), wav, 0o640); err != nil {
		t.Fatal(err)
	}
	idB, tokenB := s.AddAccount("other")
	s.Set("account_b", idB)
	s.Set("token_b", tokenB)
	base := "/v2/accounts/{account}/recordings/"
	servertest.Run(t, s, []servertest.APIScenario{
		{Name: "own file", Method: "GET", URL: base + "call@host-1.wav", ExpectedStatus: 200, ExpectedContent: []string{"RIFF"}},
		{Name: "range", Method: "GET", URL: base + "call@host-1.wav", Header: http.Header{"Range": {"bytes=0-3"}}, ExpectedStatus: 206,
			After: func(t testing.TB, s *servertest.Server, r servertest.Response) {
				if string(r.Body) != "RIFF" {
					t.Errorf("range: %q", r.Body)
				}
			}},
		{Name: "no token", Method: "GET", URL: base + "call@host-1.wav", Token: "-", ExpectedStatus: 401},
		{Name: "missing", Method: "GET", URL: base + "nope.wav", ExpectedStatus: 404},
		{Name: "traversal", Method: "GET", URL: base + "..%2F..%2Fsecret.wav", ExpectedStatus: 404, NotExpectedContent: []string{"RIFF"}},
		{Name: "dot file", Method: "GET", URL: base + ".hidden", ExpectedStatus: 404},
		{Name: "B cannot read A's recording", Method: "GET", URL: base + "call@host-1.wav", Token: "{token_b}", ExpectedStatus: 403,
			NotExpectedContent: []string{"RIFF"}},
		{Name: "B cannot reach A's recording through its own account", Method: "GET", URL: "/v2/accounts/{account_b}/recordings/call@host-1.wav",
			Token: "{token_b}", ExpectedStatus: 404, NotExpectedContent: []string{"RIFF"}},
		{Name: "B cannot climb to A's directory", Method: "GET", URL: "/v2/accounts/{account_b}/recordings/..%2F{account}%2Fcall@host-1.wav",
			Token: "{token_b}", ExpectedStatus: 404, NotExpectedContent: []string{"RIFF"}},
	})
}
