package e2e

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
)

// alawTone is d of a sine at hz as raw G.711 A-law at 8 kHz (what sipp's
// rtp_stream sends with payload type 8).
func alawTone(hz float64, d time.Duration) []byte {
	n := int(d.Seconds() * 8000)
	out := make([]byte, n)
	for i := range n {
		out[i] = alaw(int16(0.25 * 32767 * math.Sin(2*math.Pi*hz*float64(i)/8000)))
	}
	return out
}

// alaw encodes one 16-bit sample as G.711 A-law.
func alaw(v int16) byte {
	x := int(v) >> 3 // 13-bit
	mask := byte(0xD5)
	if x < 0 {
		mask = 0x55
		x = -x - 1
	}
	seg := 0
	for lim := 0x1F; seg < 8 && x > lim; lim = lim<<1 | 1 {
		seg++
	}
	if seg >= 8 {
		return 0x7F ^ mask
	}
	var a byte
	if seg < 2 {
		a = byte(x >> 1 & 0x0F)
	} else {
		a = byte(x >> seg & 0x0F)
	}
	return (byte(seg)<<4 | a) ^ mask
}

// wavSpan is the part of a 16-bit mono 8 kHz WAV from from to to, as a
// WAV (its header kept) for tonePower.
func wavSpan(b []byte, from, to time.Duration) []byte {
	if len(b) <= 44 {
		return b
	}
	at := func(d time.Duration) int { return min(44+2*int(d.Seconds()*8000), len(b)) }
	return append(append([]byte{}, b[:44]...), b[at(from):at(to)]...)
}

// TestDialCalleeEarlyMedia: alice (a baresip phone) calls a number that
// goes out through a carrier; the carrier answers 183 Session Progress
// with SDP and streams a 1,900 Hz tone for 3 s (an announcement, a
// remote ringback), then answers and streams 2,300 Hz. Alice gets the
// carrier's early media relayed (her phone records the 1,900 Hz tone
// before the answer), then the conversation.
func TestDialCalleeEarlyMedia(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	alice := newPhone(t, s, "alice", "2200", 700)
	port := sipFreePort(t)
	carrier := sippCmdFiles(t, map[string][]byte{
		"early.al": alawTone(1900, 2900*time.Millisecond), "talk.al": alawTone(2300, 10*time.Second),
	}, "uas_carrier_early.xml", "-p", fmt.Sprint(port))()
	awaitUDPBound(t, port)
	base := s.URL + "/v2/accounts/" + s.Account
	if st, env := api(t, "PUT", base+"/resources", s.Token, map[string]any{"data": map[string]any{
		"name": "early carrier", "weight_cost": 10, "rules": []string{`^1555\d{7}$`},
		"gateways": []map[string]any{{"server": "127.0.0.1", "port": port}},
	}}); st != 201 {
		t.Fatalf("create resource: %d %v", st, env)
	}
	s.flow(t, "15551230001", map[string]any{"module": "resources", "data": map[string]any{"timeout": 20}})

	na := alice.count()
	alice.command(t, "dial", "15551230001")
	na = alice.await(t, "CALL_ESTABLISHED", na, 20*time.Second)
	var file string
	waitfor.True(t, 20*time.Second, "alice recorded 5 s", func() bool {
		files, _ := filepath.Glob(filepath.Join(alice.Rec, "dump-*-dec.wav"))
		if len(files) == 0 {
			return false
		}
		file = files[len(files)-1]
		return len(readFile(t, file)) > 44+5*16000
	})
	alice.command(t, "hangup", "")
	alice.await(t, "CALL_CLOSED", na, 10*time.Second)
	if err := carrier.Wait(); err != nil {
		t.Fatalf("carrier: %v", err)
	}
	wav := readFile(t, file)
	head, tail := wavSpan(wav, 500*time.Millisecond, 2500*time.Millisecond), wavSpan(wav, 4*time.Second, 5*time.Second)
	earlyTone, talkEarly := tonePower(head, 1900), tonePower(head, 2300)
	talkTone := tonePower(tail, 2300)
	t.Logf("alice's first 0.5–2.5 s: 1900 Hz %.2e, 2300 Hz %.2e; 4–5 s: 2300 Hz %.2e", earlyTone, talkEarly, talkTone)
	if earlyTone < 1e-4 || earlyTone < 100*talkEarly {
		t.Errorf("alice did not hear the carrier's early media before the answer (1900 Hz %.2e, 2300 Hz %.2e)", earlyTone, talkEarly)
	}
	if talkTone < 1e-4 {
		t.Errorf("alice does not hear the carrier after the answer (2300 Hz %.2e)", talkTone)
	}
	tr := s.traces(t, 1)[0]
	if d := traceLines(tr, "dial"); len(d) != 1 || d[0]["status"] != "completed" {
		t.Errorf("trace %s", sipDump(tr))
	}
}
