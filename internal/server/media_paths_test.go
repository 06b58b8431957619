package server_test

import (
	"context"
	"encoding/binary"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/server"
	"github.com/switchboard/switchboard/internal/servertest"
	"github.com/switchboard/switchboard/internal/sip/siptest"
	"github.com/switchboard/switchboard/internal/store"
	"github.com/switchboard/switchboard/internal/waitfor"
)

// writeWAV writes one second of 8 kHz 16-bit silence-free audio.
func writeWAV(t *testing.T, path string) {
	t.Helper()
	pcm := make([]byte, 16000)
	for i := 0; i < len(pcm); i += 2 {
		binary.LittleEndian.PutUint16(pcm[i:], uint16(int16(8000*(i/2%2*2-1))))
	}
	h := make([]byte, 44)
	copy(h, "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+len(pcm)))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1)
	binary.LittleEndian.PutUint16(h[22:], 1)
	binary.LittleEndian.PutUint32(h[24:], 8000)
	binary.LittleEndian.PutUint32(h[28:], 16000)
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(len(pcm)))
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(h, pcm...), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMediaPathsOfATenant: tenant B's flow naming tenant A's recording
// by path, /etc/passwd by file://, or a ../ id plays nothing of them; the
// trace says the reference is not a media id of this account or an
// http(s) URL, in the same words whether the path exists or not.
func TestMediaPathsOfATenant(t *testing.T) {
	t.Parallel()
	s := servertest.New(t, func(c *server.Config) { c.SIP.Addr = "127.0.0.1:0" })
	recA := filepath.Join(s.DataDir, "recordings", s.AccountID, "call-1.wav")
	writeWAV(t, recA)
	b, tokenB := s.AddAccount("Tenant B")
	if status, env := s.Do("PUT", "/v2/accounts/"+b+"/trunks", tokenB, map[string]any{"data": map[string]any{
		"name": "B's PBX", "source_cidrs": []string{"127.0.0.1"}}}); status != http.StatusCreated {
		t.Fatalf("trunk: %d %v", status, env)
	}
	refs := []string{recA, "file://" + recA, "file:///etc/passwd", "/no/such/file.wav", "../recordings/" + s.AccountID + "/call-1"}
	var errs []string
	for i, ref := range refs {
		number := "600" + string(rune('0'+i))
		if status, env := s.Do("PUT", "/v2/accounts/"+b+"/callflows", tokenB, map[string]any{"data": map[string]any{
			"numbers": []string{number}, "flow": map[string]any{"module": "play", "data": map[string]any{"id": ref, "answer": true}},
		}}); status != http.StatusCreated {
			t.Fatalf("flow: %d %v", status, env)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		c, err := siptest.NewPhone(t, "udp").Call(ctx, s.SIPAddr(), number, siptest.CallOptions{})
		if err != nil || c.Status != 200 {
			cancel()
			t.Fatalf("call %s: %d %v", ref, c.Status, err)
		}
		rec := waitfor.Value(t, 15*time.Second, "the call's hangup in the call log", func() (store.CallRecord, bool) {
			rec, err := s.CallLog().GetCall(ctx, b, c.CallID())
			return rec, err == nil && strings.Contains(string(rec.Trace), `"op":"hangup"`)
		})
		c.Close()
		cancel()
		var play string
		for _, line := range strings.Split(string(rec.Trace), "\n") {
			if strings.HasPrefix(line, `{"op":"play"`) {
				play = line
			}
		}
		if !strings.Contains(play, "not a media id of this account or an http(s) URL") {
			t.Errorf("%s: play line %q\n%s", ref, play, rec.Trace)
		}
		msg := regexp.MustCompile(`"error":"([^"]*)"`).FindStringSubmatch(play)
		if len(msg) == 2 {
			errs = append(errs, strings.Replace(msg[1], ref, "REF", 1))
		}
	}
	// An existing path and a missing one read the same.
	if len(errs) == len(refs) && errs[0] != errs[3] {
		t.Errorf("the error tells whether a path exists: %q vs %q", errs[0], errs[3])
	}
}
