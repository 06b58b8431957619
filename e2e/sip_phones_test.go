package e2e

import (
	binenc "encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
)

// phone is a user with one device whose baresip registered with digest
// auth, sending a tone of its own.
type phone struct {
	*baresip
	Name             string
	UserID, DeviceID string
	Tone             float64
}

// newPhone creates a user and its device (SIP username and password) and
// starts a baresip registered as it, auto-answering, sending tone Hz.
func newPhone(t *testing.T, s *sipServer, name, ext string, tone float64) *phone {
	t.Helper()
	base := s.URL + "/v2/accounts/" + s.Account
	st, env := api(t, "PUT", base+"/users", s.Token, map[string]any{"data": map[string]any{
		"first_name": name, "last_name": "Phone", "username": name,
		"caller_id": map[string]any{"internal": map[string]any{"number": ext, "name": name}},
	}})
	if st != 201 {
		t.Fatalf("create user %s: %d %v", name, st, env)
	}
	uid := env["data"].(map[string]any)["id"].(string)
	st, env = api(t, "PUT", base+"/devices", s.Token, map[string]any{"data": map[string]any{
		"name": name + " desk", "owner_id": uid,
		"sip": map[string]any{"username": name, "password": name + "-secret-pw"},
	}})
	if st != 201 {
		t.Fatalf("create device %s: %d %v", name, st, env)
	}
	did := env["data"].(map[string]any)["id"].(string)
	// The phone registers at the server's address: the realm it answers
	// in is the one challenged (the account id).
	b := startBaresipAccount(t, fmt.Sprintf(`<sip:%s@%s>;auth_pass=%s-secret-pw;regint=300;answermode=auto;audio_codecs=PCMU,PCMA`,
		name, s.SIP, name), toneWAV(tone, 90*time.Second))
	// Registered, as the API shows it (baresip may register before its
	// control socket is up, so its event is not awaited).
	waitfor.True(t, 10*time.Second, name+" registered", func() bool {
		st, env := api(t, "GET", base+"/devices/"+did+"/registrations", s.Token, nil)
		regs, _ := env["data"].([]any)
		return st == 200 && len(regs) == 1
	})
	return &phone{baresip: b, Name: name, UserID: uid, DeviceID: did, Tone: tone}
}

// tonePower is the Goertzel power of hz in the 16-bit PCM of a WAV (past
// its 44-byte header), per sample, relative to full scale.
func tonePower(wav []byte, hz float64) float64 {
	if len(wav) <= 44 {
		return 0
	}
	pcm := wav[44:]
	n := len(pcm) / 2
	coeff := 2 * math.Cos(2*math.Pi*hz/8000)
	var s1, s2 float64
	for i := range n {
		x := float64(int16(binenc.LittleEndian.Uint16(pcm[2*i:]))) / 32768
		s0 := x + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - coeff*s1*s2
	return p / float64(n) / float64(n)
}

// TestPhonesCallEachOther: two baresips register with digest auth; one
// dials the other's extension (a user call flow); the other answers by
// itself; each hears the other's tone; the caller's BYE ends both legs.
func TestPhonesCallEachOther(t *testing.T) {
	s := serveSIP(t)
	alice := newPhone(t, s, "alice", "2200", 700)
	bob := newPhone(t, s, "bob", "2201", 1100)
	s.flow(t, "2201", map[string]any{"module": "user", "data": map[string]any{"id": bob.UserID, "timeout": 20}})

	// The registrations, as the API shows them.
	base := s.URL + "/v2/accounts/" + s.Account
	st, env := api(t, "GET", base+"/devices/"+bob.DeviceID+"/registrations", s.Token, nil)
	if regs, _ := env["data"].([]any); st != 200 || len(regs) != 1 {
		t.Errorf("bob's registrations: %d %v", st, env)
	}

	na, nb := alice.count(), bob.count()
	alice.command(t, "dial", "2201")
	na = alice.await(t, "CALL_ESTABLISHED", na, 15*time.Second)
	nb = bob.await(t, "CALL_ESTABLISHED", nb, 5*time.Second)
	// Three seconds of audio each way, as the recordings grow.
	for _, p := range []*phone{alice, bob} {
		waitfor.True(t, 15*time.Second, "3 s recorded", func() bool {
			files, _ := filepath.Glob(filepath.Join(p.Rec, "dump-*-dec.wav"))
			if len(files) != 1 {
				return false
			}
			return len(readFile(t, files[0])) > 44+3*16000
		})
	}
	alice.command(t, "hangup", "")
	alice.await(t, "CALL_CLOSED", na, 10*time.Second)
	bob.await(t, "CALL_CLOSED", nb, 10*time.Second) // the BYE went through to bob

	for _, c := range []struct{ hearer, talker *phone }{{alice, bob}, {bob, alice}} {
		heard := readFile(t, singleFile(t, filepath.Join(c.hearer.Rec, "dump-*-dec.wav")))
		other, own := tonePower(heard, c.talker.Tone), tonePower(heard, c.hearer.Tone)
		info, err := wavStats(heard)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("heard %v at %.1f dBFS: tone %v Hz power %.2e, own %v Hz %.2e", info.Duration, info.RMSdB,
			c.talker.Tone, other, c.hearer.Tone, own)
		if info.RMSdB < -35 || info.Duration < 2*time.Second {
			t.Errorf("recording is %v at %.1f dBFS: not the other side", info.Duration, info.RMSdB)
		}
		if other < 100*own || other < 1e-4 {
			t.Errorf("the %v Hz tone of the other phone is not in the recording (%.2e vs %.2e)", c.talker.Tone, other, own)
		}
	}
	tr := s.traceOf(t, "")
	if traceOps(tr) == "" || len(traceLines(tr, "dial")) != 1 {
		t.Errorf("trace of the phone call: %s", sipDump(tr))
	}
}
