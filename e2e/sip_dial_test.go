package e2e

import (
	binenc "encoding/binary"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
)

// TwiML <Dial> on real SIP peers: a sipp caller reaches a Pivot flow whose
// <Dial><Number> goes out through a `resources` gateway to a sipp carrier;
// the customer's action URL gets the outcome as Twilio maps it.

// dialCase is one <Dial> through a carrier.
type dialCase struct {
	name    string
	carrier string // the carrier's sipp scenario
	caller  string // the caller's (uac_record.xml when empty)
	auth    bool   // the carrier challenges with digest (trunkuser/trunkpass)
	// dial is the <Dial> element; %s is the carrier's number.
	dial string
	// docs are the customer's other documents (/dialed answers <Hangup/>).
	docs  map[string]string
	check func(t *testing.T, s *sipServer, c *customer, dialed map[string]string, trace []map[string]any)
}

// runDialCase runs one case on s: its own number, resource, carrier and
// customer server.
func runDialCase(t *testing.T, s *sipServer, n int, tc dialCase) {
	port := sipFreePort(t)
	carrier := sippCmd(t, tc.carrier, "-p", fmt.Sprint(port))()
	awaitUDPBound(t, port)
	number := fmt.Sprintf("155500000%02d", n)
	gw := map[string]any{"server": "127.0.0.1", "port": port}
	if tc.auth {
		gw["username"], gw["password"], gw["realm"] = "trunkuser", "trunkpass", "carrier.example"
	}
	base := s.URL + "/v2/accounts/" + s.Account
	if st, env := api(t, "PUT", base+"/resources", s.Token, map[string]any{"data": map[string]any{
		"name": "carrier " + tc.name, "weight_cost": 10, "rules": []string{"^" + number + "$"},
		"gateways": []map[string]any{gw},
	}}); st != 201 {
		t.Fatalf("create resource: %d %v", st, env)
	}
	docs := map[string]string{
		"/voice":  "<Response>" + fmt.Sprintf(tc.dial, number) + "<Say>no action</Say></Response>",
		"/dialed": "<Response><Hangup/></Response>",
	}
	for k, v := range tc.docs {
		docs[k] = v
	}
	c := newCustomer(t, docs)
	service := fmt.Sprintf("70%02d", n)
	s.flow(t, service, pivot(c.URL+"/voice"))
	caller := tc.caller
	if caller == "" {
		caller = "uac_record.xml"
	}
	prefix := fmt.Sprintf("dial%02d-", n)
	if err := runSipp(t, s, caller, service, prefix); err != nil {
		t.Fatal(err)
	}
	if err := carrier.Wait(); err != nil {
		t.Fatalf("carrier: %v", err)
	}
	tr := s.traceOf(t, prefix)
	dialed := waitfor.Value(t, 10*time.Second, "the Dial action request", func() (map[string]string, bool) {
		for _, r := range c.requests() {
			if r["path"] == "/dialed" {
				return r, true
			}
		}
		return nil, false
	})
	if callSid := dialed["DialCallSid"]; dialed["DialCallStatus"] == "completed" &&
		(!callSidShape.MatchString(callSid) || !strings.HasSuffix(dialed["DialSipCallId"], "@switchboard")) {
		t.Errorf("completed without a DialCallSid in Twilio's shape and the leg's SIP Call-ID: %v", dialed)
	}
	tc.check(t, s, c, dialed, tr)
	if t.Failed() {
		t.Logf("customer saw %v\ntrace %s", c.requests(), sipDump(tr))
	}
}

// callSidShape is Twilio's CallSid: CA and 32 hex digits.
var callSidShape = regexp.MustCompile(`^CA[0-9a-f]{32}$`)

// wantDial checks the action's outcome parameters.
func wantDial(t *testing.T, dialed map[string]string, status string, bridged bool) {
	t.Helper()
	if dialed["DialCallStatus"] != status || dialed["DialBridged"] != strconv.FormatBool(bridged) {
		t.Errorf("DialCallStatus %q DialBridged %q, want %s %v", dialed["DialCallStatus"], dialed["DialBridged"], status, bridged)
	}
}

// dialDuration is DialCallDuration in seconds.
func dialDuration(t *testing.T, dialed map[string]string) int {
	t.Helper()
	d, err := strconv.Atoi(dialed["DialCallDuration"])
	if err != nil {
		t.Errorf("DialCallDuration %q: %v", dialed["DialCallDuration"], err)
	}
	return d
}

// bridgeStart is when the Dial's bridge began, in the trace's t_ms: the
// dial line is written at its end, duration after the bridge began.
func bridgeStart(t *testing.T, tr []map[string]any) float64 {
	t.Helper()
	d := traceLines(tr, "dial")
	if len(d) != 1 {
		t.Fatalf("%d dial lines", len(d))
	}
	return d[0]["t_ms"].(float64) - 1000*d[0]["duration"].(float64)
}

func TestDialThroughCarrier(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	cases := []dialCase{
		{
			name: "busy", carrier: "uas_carrier_busy.xml",
			dial: `<Dial action="/dialed" timeout="10"><Number>%s</Number></Dial>`,
			check: func(t *testing.T, s *sipServer, c *customer, dialed map[string]string, tr []map[string]any) {
				wantDial(t, dialed, "busy", false)
				if d := traceLines(tr, "dial"); len(d) != 1 || d[0]["cause"] != "USER_BUSY" || d[0]["sip_code"] != 486.0 {
					t.Errorf("dial line %v, want cause USER_BUSY sip_code 486", d)
				}
			},
		},
		{
			name: "no answer within the timeout", carrier: "uas_ring_cancel.xml",
			dial: `<Dial action="/dialed" timeout="5"><Number>%s</Number></Dial>`,
			check: func(t *testing.T, s *sipServer, c *customer, dialed map[string]string, tr []map[string]any) {
				wantDial(t, dialed, "no-answer", false)
				if d := traceLines(tr, "dial"); len(d) != 1 || d[0]["cause"] != "NO_ANSWER" {
					t.Errorf("dial line %v", d)
				}
			},
		},
		{
			name: "answered: completed with its duration", carrier: "uas_carrier_auth.xml", auth: true,
			dial: `<Dial action="/dialed" timeout="10" callerId="+15550001234"><Number>%s</Number></Dial>`,
			check: func(t *testing.T, s *sipServer, c *customer, dialed map[string]string, tr []map[string]any) {
				wantDial(t, dialed, "completed", true)
				if d := dialDuration(t, dialed); d < 1 || d > 4 {
					t.Errorf("DialCallDuration %d, want the carrier's 2 s", d)
				}
			},
		},
		{
			name: "answerOnBridge with a ringTone: early media, answered by the bridge", carrier: "uas_carrier_auth.xml", auth: true,
			dial: `<Dial action="/dialed" answerOnBridge="true" ringTone="uk"><Number>%s</Number></Dial>`,
			check: func(t *testing.T, s *sipServer, c *customer, dialed map[string]string, tr []map[string]any) {
				wantDial(t, dialed, "completed", true)
				if first := c.requests()[0]; first["CallStatus"] != "ringing" {
					t.Errorf("first request's CallStatus %q, want ringing", first["CallStatus"])
				}
				// The answer line of a call the dial answered is written
				// with the dial's, after the bridge began.
				a := traceLines(tr, "answer")
				if len(a) != 1 || a[0]["t_ms"].(float64) < bridgeStart(t, tr)-100 {
					t.Errorf("answer %v before the bridge at %.0f ms", a, bridgeStart(t, tr))
				}
			},
		},
		{
			name: "timeLimit ends the bridge", carrier: "uas_carrier_wait.xml",
			dial: `<Dial action="/dialed" timeLimit="2"><Number>%s</Number></Dial>`,
			check: func(t *testing.T, s *sipServer, c *customer, dialed map[string]string, tr []map[string]any) {
				wantDial(t, dialed, "completed", true)
				if d := dialDuration(t, dialed); d != 2 {
					t.Errorf("DialCallDuration %d, want the 2 s limit", d)
				}
			},
		},
		{
			name: "hangupOnStar drops the callee, the flow goes on", carrier: "uas_carrier_wait.xml", caller: "uac_star.xml",
			dial: `<Dial action="/dialed" hangupOnStar="true" timeLimit="25"><Number>%s</Number></Dial>`,
			docs: map[string]string{"/dialed": `<Response><Say>Back with us.</Say><Hangup/></Response>`},
			check: func(t *testing.T, s *sipServer, c *customer, dialed map[string]string, tr []map[string]any) {
				wantDial(t, dialed, "completed", true)
				if d := dialDuration(t, dialed); d < 1 || d > 10 {
					t.Errorf("DialCallDuration %d, want the 3 s until *", d)
				}
				if len(traceLines(tr, "say")) != 1 {
					t.Errorf("the flow did not go on after *: %s", traceOps(tr))
				}
			},
		},
		{
			name: "whisper plays to the callee before the bridge", carrier: "uas_carrier_wait.xml",
			dial: `<Dial action="/dialed" timeLimit="2"><Number url="/whisper">%s</Number></Dial>`,
			docs: map[string]string{"/whisper": `<Response><Say>You have a call from the web shop.</Say></Response>`},
			check: func(t *testing.T, s *sipServer, c *customer, dialed map[string]string, tr []map[string]any) {
				wantDial(t, dialed, "completed", true)
				var paths []string
				for _, r := range c.requests() {
					paths = append(paths, r["path"])
				}
				if strings.Join(paths, " ") != "/voice /whisper /dialed" {
					t.Errorf("customer saw %v", paths)
				}
				w := traceLines(tr, "whisper")
				if len(w) != 1 || w[0]["accepted"] != true {
					t.Fatalf("whisper lines %v", w)
				}
				if at, bridged := w[0]["t_ms"].(float64), bridgeStart(t, tr); at > bridged+50 {
					t.Errorf("whisper ended at %.0f ms, after the bridge began at %.0f ms", at, bridged)
				}
				if say := whisperSay(tr); say < 500 {
					t.Errorf("the whisper's speech took %.0f ms: not played", say)
				}
			},
		},
		{
			name: "a screening whisper that hangs up refuses the call", carrier: "uas_carrier_wait.xml",
			dial: `<Dial action="/dialed" timeout="15"><Number url="/screen">%s</Number></Dial>`,
			docs: map[string]string{"/screen": `<Response><Gather numDigits="1" timeout="1" action="/accept"><Say>Press 1.</Say></Gather><Hangup/></Response>`},
			check: func(t *testing.T, s *sipServer, c *customer, dialed map[string]string, tr []map[string]any) {
				wantDial(t, dialed, "no-answer", false)
				if w := traceLines(tr, "whisper"); len(w) != 1 || w[0]["accepted"] != false {
					t.Errorf("whisper lines %v", w)
				}
			},
		},
		{
			name: "record: both parties mixed, the callback has the file", carrier: "uas_carrier_wait.xml",
			dial: `<Dial action="/dialed" timeLimit="3" record="record-from-answer" recordingStatusCallback="/recorded"><Number>%s</Number></Dial>`,
			docs: map[string]string{"/recorded": ``},
			check: func(t *testing.T, s *sipServer, c *customer, dialed map[string]string, tr []map[string]any) {
				checkDialRecording(t, c, dialed, 1)
			},
		},
		{
			name: "record dual: one channel per party", carrier: "uas_carrier_wait.xml",
			dial: `<Dial action="/dialed" timeLimit="3" record="record-from-answer-dual" recordingStatusCallback="/recorded"><Number>%s</Number></Dial>`,
			docs: map[string]string{"/recorded": ``},
			check: func(t *testing.T, s *sipServer, c *customer, dialed map[string]string, tr []map[string]any) {
				checkDialRecording(t, c, dialed, 2)
			},
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runDialCase(t, s, i+1, tc) })
	}
}

// whisperSay is how long the whisper ran on the callee's leg, in ms:
// from its document's webhook line (written once it was fetched) to its
// whisper line (written once it ended).
func whisperSay(tr []map[string]any) float64 {
	var hook, end float64
	for _, l := range tr {
		if l["op"] == "webhook" && l["purpose"] == "whisper" {
			hook = l["t_ms"].(float64)
		}
		if l["op"] == "whisper" {
			end = l["t_ms"].(float64)
		}
	}
	return end - hook
}

// checkDialRecording waits for the recording status callback, fetches
// the recording it names (a signed link, no credentials) and checks it
// holds about 3 s of both parties' speech on channels channels.
func checkDialRecording(t *testing.T, c *customer, dialed map[string]string, channels int) {
	t.Helper()
	wantDial(t, dialed, "completed", true)
	cb := waitfor.Value(t, 10*time.Second, "the recording status callback", func() (map[string]string, bool) {
		for _, r := range c.requests() {
			if r["path"] == "/recorded" {
				return r, true
			}
		}
		return nil, false
	})
	if cb["RecordingStatus"] != "completed" || cb["RecordingSource"] != "DialVerb" || cb["RecordingChannels"] != strconv.Itoa(channels) ||
		cb["RecordingUrl"] == "" || cb["RecordingUrl"] != dialed["RecordingUrl"] || !strings.HasPrefix(cb["RecordingSid"], "RE") {
		t.Errorf("callback %v; action %v", cb, dialed)
	}
	resp, err := http.Get(cb["RecordingUrl"])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET recording: %d", resp.StatusCode)
	}
	levels, d, err := channelLevels(b)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := channelLevels(wavHead(b, 700*time.Millisecond))
	t.Logf("recording: %v, channel levels %.1f dBFS, in the first 0.7 s %.1f dBFS", d, levels, first)
	// The carrier's party is silent for its first second, the caller's
	// sipp plays from before the bridge: the callee's channel starts in
	// digital silence, then speaks (the level check below), so it holds
	// its own party, not a copy of the caller's.
	if channels == 2 && (len(first) != 2 || first[1] > -90 || first[0] < -80) {
		t.Errorf("first 0.7 s: caller %.1f dBFS, callee %.1f dBFS; want the callee silent, the caller not", first[0], first[1])
	}
	if len(levels) != channels || d < 2500*time.Millisecond || d > 3600*time.Millisecond {
		t.Errorf("recording has %d channels, lasts %v; want %d, about 3 s", len(levels), d, channels)
	}
	for i, l := range levels {
		if l < -40 {
			t.Errorf("channel %d is near silence: %.1f dBFS", i, l)
		}
	}
}

// wavHead is a 16-bit PCM WAV cut after d (its header's sizes left as
// they are: channelLevels reads the bytes it has).
func wavHead(b []byte, d time.Duration) []byte {
	if len(b) < 44 {
		return b
	}
	channels := int(binenc.LittleEndian.Uint16(b[22:]))
	rate := int(binenc.LittleEndian.Uint32(b[24:]))
	n := 44 + 2*channels*int(int64(rate)*int64(d)/int64(time.Second))
	return b[:min(n, len(b))]
}

// channelLevels is each channel's RMS level (dBFS) of a 16-bit PCM WAV,
// and its length.
func channelLevels(b []byte) ([]float64, time.Duration, error) {
	if len(b) < 44 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, fmt.Errorf("not a WAV file")
	}
	channels := int(binenc.LittleEndian.Uint16(b[22:]))
	rate := int(binenc.LittleEndian.Uint32(b[24:]))
	if channels < 1 || rate == 0 || binenc.LittleEndian.Uint16(b[34:]) != 16 {
		return nil, 0, fmt.Errorf("want 16-bit PCM, got %d channels at %d Hz", channels, rate)
	}
	data := b[44:]
	frames := len(data) / 2 / channels
	sums := make([]float64, channels)
	for i := range frames {
		for ch := range channels {
			v := float64(int16(binenc.LittleEndian.Uint16(data[2*(i*channels+ch):]))) / 32768
			sums[ch] += v * v
		}
	}
	levels := make([]float64, channels)
	for ch := range levels {
		levels[ch] = 10 * math.Log10(sums[ch]/float64(max(frames, 1))+1e-12)
	}
	return levels, time.Duration(frames) * time.Second / time.Duration(rate), nil
}

// upload is one request to the record_call upload server.
type upload struct {
	method, contentType string
	body                []byte
}

// TestRecordCallBridged: a flow's record_call records a real bridged
// call (sipp caller, sipp carrier through a resources gateway), both
// parties mixed, and uploads the file to its url when the call ends; an
// upload server that keeps failing is tried three times and the failure
// is logged.
func TestRecordCallBridged(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	uploads := make(chan upload, 10)
	failing := make(chan upload, 10)
	srv := newUploadServer(t, uploads, failing)
	for i, tc := range []struct {
		name, path string
		got        chan upload
		attempts   int
	}{
		{"uploaded when the call ends", "/ok/rec.wav", uploads, 1},
		{"a failing upload server is tried three times", "/fail/rec.wav", failing, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := sipFreePort(t)
			carrier := sippCmd(t, "uas_carrier_auth.xml", "-p", fmt.Sprint(port))()
			awaitUDPBound(t, port)
			number := fmt.Sprintf("155500001%02d", i)
			base := s.URL + "/v2/accounts/" + s.Account
			if st, env := api(t, "PUT", base+"/resources", s.Token, map[string]any{"data": map[string]any{
				"name": "carrier " + tc.name, "weight_cost": 10, "rules": []string{"^" + number + "$"},
				"gateways": []map[string]any{{"server": "127.0.0.1", "port": port, "username": "trunkuser", "password": "trunkpass"}},
			}}); st != 201 {
				t.Fatalf("create resource: %d %v", st, env)
			}
			service := fmt.Sprintf("71%02d", i)
			s.flow(t, service, map[string]any{"module": "record_call",
				"data":     map[string]any{"action": "start", "format": "wav", "url": srv.URL + tc.path, "method": "put"},
				"children": map[string]any{"_": map[string]any{"module": "resources", "data": map[string]any{"to_did": number, "timeout": 20}}}})
			prefix := fmt.Sprintf("reccall%02d-", i)
			if err := runSipp(t, s, "uac_record.xml", service, prefix); err != nil {
				t.Fatal(err)
			}
			if err := carrier.Wait(); err != nil {
				t.Fatalf("carrier: %v", err)
			}
			var got []upload
			for range tc.attempts {
				select {
				case u := <-tc.got:
					got = append(got, u)
				case <-time.After(30 * time.Second):
					t.Fatalf("%d uploads, want %d", len(got), tc.attempts)
				}
			}
			if tc.attempts > 1 {
				// The failing server answered 503 each time: the call's
				// webhook log (Kazoo's pivot debug) says so.
				id := callIDOf(t, s, prefix)
				hooks := waitfor.Value(t, 10*time.Second, "the upload in the call's log", func() ([]any, bool) {
					_, env := api(t, "GET", base+"/pivot/debug/"+id, s.Token, nil)
					h, _ := env["data"].([]any)
					return h, len(h) > 0
				})
				h := hooks[len(hooks)-1].(map[string]any)
				if h["resp_status_code"] != 503.0 || !strings.Contains(h["error"].(string), "3 attempts") || !strings.HasSuffix(h["uri"].(string), tc.path) {
					t.Errorf("upload log %v", h)
				}
				return
			}
			u := got[0]
			if u.method != "PUT" || u.contentType != "audio/wav" {
				t.Errorf("upload %s %s", u.method, u.contentType)
			}
			levels, d, err := channelLevels(u.body)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("uploaded recording: %v, %.1f dBFS", d, levels)
			if len(levels) != 1 || levels[0] < -40 || d < 1500*time.Millisecond {
				t.Errorf("recording: %d channels, %.1f dBFS, %v; want the bridged call's speech", len(levels), levels, d)
			}
			tr := s.traceOf(t, prefix)
			if rc := traceLines(tr, "record_call"); len(rc) == 0 || rc[0]["action"] != "start" {
				t.Errorf("trace %s", traceOps(tr))
			}
		})
	}
}

// callIDOf is the call id of the ended call whose SIP Call-ID starts
// with prefix.
func callIDOf(t *testing.T, s *sipServer, prefix string) string {
	t.Helper()
	s.traceOf(t, prefix) // the call has ended
	_, env := api(t, "GET", s.URL+"/v2/accounts/"+s.Account+"/calls", s.Token, nil)
	calls, _ := env["data"].([]any)
	for _, c := range calls {
		c := c.(map[string]any)
		if sipID, _ := c["sip_call_id"].(string); strings.HasPrefix(sipID, prefix) {
			return c["call_id"].(string)
		}
	}
	t.Fatalf("no call %s*", prefix)
	return ""
}

// newUploadServer takes record_call's uploads: under /ok it answers 201
// and hands each on ok; under /fail it answers 503 and hands each on fail.
func newUploadServer(t *testing.T, ok, fail chan<- upload) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u := upload{method: r.Method, contentType: r.Header.Get("Content-Type"), body: body}
		if strings.HasPrefix(r.URL.Path, "/fail/") {
			w.WriteHeader(http.StatusServiceUnavailable)
			fail <- u
			return
		}
		w.WriteHeader(http.StatusCreated)
		ok <- u
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestDialWhisperAndDigitsToPhone: a registered baresip is dialled as a
// <Client> with sendDigits and a whisper url. It gets the digits as
// RFC 4733 events, and what it hears starts with the whisper's speech
// before the caller's (another baresip's) tone arrives: the whisper ran
// on its leg before the bridge.
func TestDialWhisperAndDigitsToPhone(t *testing.T) {
	sipTool(t, "baresip")
	s := serveSIP(t)
	alice := newPhone(t, s, "alice", "2200", 700)
	bob := newPhone(t, s, "bob", "2201", 1100)
	c := newCustomer(t, map[string]string{
		"/voice":   `<Response><Dial action="/dialed" timeLimit="4"><Client sendDigits="1#" url="/whisper">bob</Client></Dial></Response>`,
		"/whisper": `<Response><Say>You have a call from the web shop.</Say></Response>`,
		"/dialed":  `<Response><Hangup/></Response>`,
	})
	s.flow(t, "7200", pivot(c.URL+"/voice"))
	na, nb := alice.count(), bob.count()
	alice.command(t, "dial", "7200")
	nb = bob.await(t, "CALL_ESTABLISHED", nb, 15*time.Second)
	d1 := bob.await(t, "CALL_DTMF_START", nb, 10*time.Second)
	d2 := bob.await(t, "CALL_DTMF_START", d1, 10*time.Second)
	bob.mu.Lock()
	keys := fmt.Sprintf("%v %v", bob.events[d1-1]["param"], bob.events[d2-1]["param"])
	bob.mu.Unlock()
	if keys != "1 #" {
		t.Errorf("bob got keys %s, want 1 #", keys)
	}
	alice.await(t, "CALL_CLOSED", na, 30*time.Second) // the Dial action hangs up
	bob.await(t, "CALL_CLOSED", nb, 10*time.Second)   // the time limit hung bob up
	dialed := waitfor.Value(t, 10*time.Second, "the Dial action request", func() (map[string]string, bool) {
		for _, r := range c.requests() {
			if r["path"] == "/dialed" {
				return r, true
			}
		}
		return nil, false
	})
	wantDial(t, dialed, "completed", true)

	samples, rate := heard(t, bob.baresip)
	win := rate / 10
	firstSound, firstTone := -1, -1
	for i := 0; (i+1)*win <= len(samples); i++ {
		w := samples[i*win : (i+1)*win]
		if firstSound < 0 && 10*math.Log10(meanSquare(w)+1e-12) > -40 {
			firstSound = i
		}
		if firstTone < 0 && toneTime(w, rate, alice.Tone) > 0 {
			firstTone = i
		}
	}
	t.Logf("bob heard sound from %d ms, alice's tone from %d ms (of %d ms)", firstSound*100, firstTone*100, len(samples)*1000/rate)
	if firstSound < 0 || firstTone < 0 || firstTone-firstSound < 5 {
		t.Errorf("bob heard sound from window %d, alice's %v Hz tone from window %d: want the whisper first, for at least 0.5 s",
			firstSound, alice.Tone, firstTone)
	}
}

// meanSquare is the mean of the squares of samples.
func meanSquare(w []float64) float64 {
	var sum float64
	for _, v := range w {
		sum += v * v
	}
	return sum / float64(max(len(w), 1))
}

// TestRecordCallPhonesBothParties: record_call before a user module
// records both phones of the bridged call, mixed: the upload holds each
// phone's tone.
func TestRecordCallPhonesBothParties(t *testing.T) {
	sipTool(t, "baresip")
	s := serveSIP(t)
	alice := newPhone(t, s, "alice", "2200", 700)
	bob := newPhone(t, s, "bob", "2201", 1100)
	uploads := make(chan upload, 4)
	srv := newUploadServer(t, uploads, make(chan upload, 4))
	s.flow(t, "2201", map[string]any{"module": "record_call",
		"data":     map[string]any{"action": "start", "format": "wav", "url": srv.URL + "/ok/call.wav", "method": "post"},
		"children": map[string]any{"_": map[string]any{"module": "user", "data": map[string]any{"id": bob.UserID, "timeout": 20}}}})
	na, nb := alice.count(), bob.count()
	alice.command(t, "dial", "2201")
	na = alice.await(t, "CALL_ESTABLISHED", na, 15*time.Second)
	bob.await(t, "CALL_ESTABLISHED", nb, 5*time.Second)
	waitfor.True(t, 15*time.Second, "3 s heard by alice", func() bool {
		files, _ := filepath.Glob(filepath.Join(alice.Rec, "dump-*-dec.wav"))
		return len(files) == 1 && len(readFile(t, files[0])) > 44+3*16000
	})
	alice.command(t, "hangup", "")
	alice.await(t, "CALL_CLOSED", na, 10*time.Second)
	var u upload
	select {
	case u = <-uploads:
	case <-time.After(30 * time.Second):
		t.Fatal("no upload")
	}
	if u.method != "POST" || u.contentType != "audio/wav" {
		t.Errorf("upload %s %s", u.method, u.contentType)
	}
	a, b := tonePower(u.body, alice.Tone), tonePower(u.body, bob.Tone)
	quiet := tonePower(u.body, 1700)
	levels, d, err := channelLevels(u.body)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("upload: %v at %.1f dBFS; %v Hz %.2e, %v Hz %.2e, 1700 Hz %.2e", d, levels, alice.Tone, a, bob.Tone, b, quiet)
	if d < 2*time.Second || a < 100*quiet || b < 100*quiet {
		t.Errorf("the recording does not hold both phones' tones")
	}
}
