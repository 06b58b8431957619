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

// TestDialCalleeEarlyMedia: alice (a baresip phone) calls out to a
// carrier that answers 183 Session Progress with SDP and streams a 1,900
// Hz tone for 3 s (an announcement, a remote ringback), then answers and
// streams 2,300 Hz. Alice gets the carrier's early media relayed (her
// phone records the 1,900 Hz tone before the answer), then the
// conversation. With two legs ringing, the first with early media wins:
// the other's (2,900 Hz, half a second later) is not heard, and that leg
// gets CANCEL when the first answers.
func TestDialCalleeEarlyMedia(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	alice := newPhone(t, s, "alice", "2200", 700)
	tones := map[string][]byte{
		"early.al": alawTone(1900, 2900*time.Millisecond), "talk.al": alawTone(2300, 10*time.Second),
		"late.al": alawTone(2900, 10*time.Second),
	}
	startCarrier := func(scenario string) (*sippRun, int) {
		port := sipFreePort(t)
		r := sippCmdFiles(t, tones, scenario, "-p", fmt.Sprint(port))()
		awaitUDPBound(t, port)
		return r, port
	}
	t.Run("through a carrier", func(t *testing.T) {
		carrier, port := startCarrier("uas_carrier_early.xml")
		base := s.URL + "/v2/accounts/" + s.Account
		if st, env := api(t, "PUT", base+"/resources", s.Token, map[string]any{"data": map[string]any{
			"name": "early carrier", "weight_cost": 10, "rules": []string{`^1555\d{7}$`},
			"gateways": []map[string]any{{"server": "127.0.0.1", "port": port}},
		}}); st != 201 {
			t.Fatalf("create resource: %d %v", st, env)
		}
		s.flow(t, "15551230001", map[string]any{"module": "resources", "data": map[string]any{"timeout": 20}})
		wav := earlyCall(t, alice, "15551230001", carrier)
		checkEarly(t, wav, 2300)
	})
	t.Run("two legs ringing: the first early media wins", func(t *testing.T) {
		first, p1 := startCarrier("uas_carrier_early.xml")
		second, p2 := startCarrier("uas_early_cancel.xml")
		c := newCustomer(t, map[string]string{"/voice": fmt.Sprintf(
			`<Response><Dial timeout="20"><Sip>sip:first@127.0.0.1:%d</Sip><Sip>sip:second@127.0.0.1:%d</Sip></Dial></Response>`, p1, p2)})
		s.flow(t, "3301", pivot(c.URL+"/voice"))
		wav := earlyCall(t, alice, "3301", first)
		if err := second.Wait(); err != nil {
			t.Errorf("the second leg: %v", err)
		}
		checkEarly(t, wav, 2900)
	})
	for _, tr := range s.traces(t, 2) {
		if d := traceLines(tr, "dial"); len(d) != 1 || d[0]["status"] != "completed" {
			t.Errorf("trace %s", sipDump(tr))
		}
	}
}

// earlyCall has p dial number, records 5 s of the call, hangs up and
// returns what p heard once carrier ended.
func earlyCall(t *testing.T, p *phone, number string, carrier *sippRun) []byte {
	t.Helper()
	before, _ := filepath.Glob(filepath.Join(p.Rec, "dump-*-dec.wav"))
	n := p.count()
	p.command(t, "dial", number)
	n = p.await(t, "CALL_ESTABLISHED", n, 20*time.Second)
	var file string
	waitfor.True(t, 20*time.Second, "5 s recorded", func() bool {
		files, _ := filepath.Glob(filepath.Join(p.Rec, "dump-*-dec.wav"))
		if len(files) == len(before) {
			return false
		}
		file = files[len(files)-1]
		return len(readFile(t, file)) > 44+5*16000
	})
	p.command(t, "hangup", "")
	p.await(t, "CALL_CLOSED", n, 10*time.Second)
	if err := carrier.Wait(); err != nil {
		t.Fatalf("carrier: %v", err)
	}
	return readFile(t, file)
}

// checkEarly checks a recording holds the early tone (1,900 Hz) before
// the answer, neither the talk tone (2,300 Hz) nor other (another leg's)
// meanwhile, and the talk tone after the answer.
func checkEarly(t *testing.T, wav []byte, other float64) {
	t.Helper()
	head, tail := wavSpan(wav, 500*time.Millisecond, 2500*time.Millisecond), wavSpan(wav, 4*time.Second, 5*time.Second)
	early, talk, stray := tonePower(head, 1900), tonePower(head, 2300), tonePower(head, other)
	after := tonePower(tail, 2300)
	t.Logf("heard in 0.5–2.5 s: 1900 Hz %.2e, 2300 Hz %.2e, %.0f Hz %.2e; in 4–5 s: 2300 Hz %.2e", early, talk, other, stray, after)
	if early < 1e-4 || early < 100*talk || early < 100*stray {
		t.Errorf("the caller did not hear the first early media alone before the answer (1900 Hz %.2e, 2300 Hz %.2e, %.0f Hz %.2e)", early, talk, other, stray)
	}
	if after < 1e-4 {
		t.Errorf("the caller does not hear the carrier after the answer (2300 Hz %.2e)", after)
	}
}
