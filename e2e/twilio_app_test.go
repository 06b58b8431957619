package e2e

import (
	"bufio"
	binenc "encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
)

// The proof of issue 14: a Twilio-style Node app (e2e/twilio-app, the
// twilio package's validateRequest with the auth token read from the API)
// run against the real binary, called by baresip, which records what it
// hears. Tones stand for phrases: each scenario's audio has its own
// frequency, found in the caller's recording with a Goertzel filter.

// twilioApp is the running Node app.
type twilioApp struct {
	URL        string
	AccountSid string
}

// entry is one request the app saw.
type entry struct {
	Path   string            `json:"path"`
	Query  map[string]string `json:"query"`
	Body   map[string]string `json:"body"`
	Valid  bool              `json:"valid"`
	At     int64             `json:"at"`
	Checks map[string]struct {
		Status int    `json:"status"`
		Type   string `json:"type"`
		Bytes  int    `json:"bytes"`
		Head   string `json:"head"`
	} `json:"checks"`
}

func startTwilioApp(t *testing.T, s *sipServer, static string) *twilioApp {
	t.Helper()
	node := sipTool(t, "node")
	dir, _ := filepath.Abs("twilio-app")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "twilio")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("e2e/twilio-app: run npm ci there (./dev.sh test does)")
		}
		t.Skip("e2e/twilio-app has no node_modules; run npm ci there")
	}
	cmd := exec.Command(node, filepath.Join(dir, "server.js"))
	cmd.Env = append(os.Environ(), "SWITCHBOARD_URL="+s.URL, "SWITCHBOARD_ACCOUNT="+s.Account,
		"SWITCHBOARD_TOKEN="+s.Token, "STATIC_DIR="+static)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("twilio-app stderr:\n%s", lastBytes(stderr.String(), 3000))
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("twilio-app did not start: %v\n%s", err, stderr.String())
	}
	var port int
	var sid string
	if _, err := fmt.Sscanf(line, "listening %d %s", &port, &sid); err != nil {
		t.Fatalf("twilio-app said %q: %v", line, err)
	}
	go io.Copy(io.Discard, stdout)
	return &twilioApp{URL: fmt.Sprintf("http://127.0.0.1:%d", port), AccountSid: sid}
}

func (a *twilioApp) log(t *testing.T) []entry {
	t.Helper()
	resp, err := http.Get(a.URL + "/_log")
	if err != nil {
		t.Fatalf("twilio-app log: %v", err)
	}
	defer resp.Body.Close()
	var out []entry
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("twilio-app log: %v", err)
	}
	return out
}

func (a *twilioApp) find(t *testing.T, path string) []entry {
	t.Helper()
	var out []entry
	for _, e := range a.log(t) {
		if e.Path == path {
			out = append(out, e)
		}
	}
	return out
}

// toneWAV is d of a sine at freq Hz (-12 dBFS), 8 kHz mono 16-bit.
func toneWAV(freq float64, d time.Duration) []byte {
	b := silentWAV(d)
	n := (len(b) - 44) / 2
	for i := range n {
		v := 0.25 * math.Sin(2*math.Pi*freq*float64(i)/8000)
		binenc.LittleEndian.PutUint16(b[44+2*i:], uint16(int16(v*32767)))
	}
	return b
}

// pcm8k reads a 16-bit WAV's first channel, resampled to nothing: the
// recordings and our tones are 8 kHz.
func pcm8k(t *testing.T, b []byte) ([]float64, int) {
	t.Helper()
	info, err := wavStats(b)
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	channels := 1
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binenc.LittleEndian.Uint32(b[p+4:p+8]))
		body := b[p+8 : min(len(b), p+8+size)]
		if id == "fmt " {
			channels = int(binenc.LittleEndian.Uint16(body[2:]))
		}
		if id == "data" {
			data = body
		}
		p += 8 + size + size%2
	}
	n := len(data) / 2 / channels
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(int16(binenc.LittleEndian.Uint16(data[2*i*channels:]))) / 32768
	}
	return out, info.Rate
}

// toneTime is how long freq dominates the audio: 100 ms windows louder
// than -40 dBFS whose energy at freq (Goertzel) is most of the window's.
func toneTime(samples []float64, rate int, freq float64) time.Duration {
	win := rate / 10
	var got time.Duration
	for start := 0; start+win <= len(samples); start += win {
		w := samples[start : start+win]
		var energy float64
		for _, v := range w {
			energy += v * v
		}
		if 10*math.Log10(energy/float64(win)+1e-12) < -40 {
			continue
		}
		k := 2 * math.Cos(2*math.Pi*freq/float64(rate))
		var s1, s2 float64
		for _, v := range w {
			s0 := v + k*s1 - s2
			s2, s1 = s1, s0
		}
		power := s1*s1 + s2*s2 - k*s1*s2 // |X(f)|², ≈ (A·N/2)² for a sine of amplitude A
		if power/(float64(win)/2)/energy > 0.5 {
			got += 100 * time.Millisecond
		}
	}
	return got
}

// heard is what baresip recorded of its last call.
func heard(t *testing.T, b *baresip) ([]float64, int) {
	t.Helper()
	return pcm8k(t, readFile(t, singleFile(t, filepath.Join(b.Rec, "dump-*-dec.wav"))))
}

// writeMP3 encodes a tone to MP3 with lame, as a customer's prompt.
func writeMP3(t *testing.T, path string, freq float64, d time.Duration) {
	t.Helper()
	lame := sipTool(t, "lame")
	wav := path + ".wav"
	if err := os.WriteFile(wav, toneWAV(freq, d), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(lame, "--quiet", "-b", "32", "--resample", "16", wav, path).CombinedOutput(); err != nil {
		t.Fatalf("lame: %v: %s", err, out)
	}
}

var twilioSid = regexp.MustCompile(`^(CA|AC|RE)[0-9a-f]{32}$`)

// TestTwilioApp runs the Node app's scenarios on real calls.
func TestTwilioApp(t *testing.T) {
	s := serveSIP(t)
	static := t.TempDir()
	writeMP3(t, filepath.Join(static, "prompt.mp3"), 700, 3*time.Second)
	writeMP3(t, filepath.Join(static, "music.mp3"), 300, 4*time.Second)
	os.WriteFile(filepath.Join(static, "not-audio.txt"), []byte("this is not audio"), 0o600)
	app := startTwilioApp(t, s, static)
	voice := func(number, path string) {
		s.flow(t, number, pivot(app.URL+path))
	}
	voice("8001", "/mp3")
	voice("8002", "/record")
	voice("8003", "/slow")
	voice("8004", "/ivr")
	voice("8006", "/enqueue")
	voice("8007", "/agent")

	t.Run("MP3 prompt heard; unplayable media is an error and the next verb runs", func(t *testing.T) {
		bs := startBaresip(t)
		n := bs.count()
		bs.command(t, "dial", "sip:8001@"+s.SIP)
		n = bs.await(t, "CALL_ESTABLISHED", n, 10*time.Second)
		bs.await(t, "CALL_CLOSED", n, 30*time.Second)
		pcm, rate := heard(t, bs)
		if got := toneTime(pcm, rate, 700); got < 2*time.Second {
			t.Errorf("heard %v of the MP3's 700 Hz, want about 3 s", got)
		}
		tr := s.traceOf(t, app.find(t, "/mp3")[0].Body["CallSid"])
		errs := traceLines(tr, "error")
		if len(errs) != 1 || errs[0]["code"] != float64(13420) {
			t.Errorf("error lines %v, want one 13420\n%s", errs, sipDump(tr))
		}
		if plays := traceLines(tr, "play"); len(plays) != 2 || plays[1]["error"] != nil {
			t.Errorf("play lines %v", plays)
		}
		mp3 := app.find(t, "/mp3")
		if len(mp3) != 1 || !mp3[0].Valid {
			t.Fatalf("app saw %v", mp3)
		}
		b := mp3[0].Body
		if !twilioSid.MatchString(b["CallSid"]) || !strings.HasPrefix(b["CallSid"], "CA") || b["AccountSid"] != app.AccountSid ||
			!strings.HasPrefix(b["AccountSid"], "AC") || b["SipCallId"] == "" || strings.HasPrefix(b["SipCallId"], "CA") {
			t.Errorf("identifiers CallSid %q AccountSid %q SipCallId %q (auth token's account %s)", b["CallSid"], b["AccountSid"], b["SipCallId"], app.AccountSid)
		}
	})

	t.Run("record, then hear it back through RecordingUrl", func(t *testing.T) {
		bs := startBaresipWith(t, toneWAV(500, 60*time.Second))
		n := bs.count()
		bs.command(t, "dial", "sip:8002@"+s.SIP)
		n = bs.await(t, "CALL_ESTABLISHED", n, 10*time.Second)
		bs.await(t, "CALL_CLOSED", n, 30*time.Second)
		rec := app.find(t, "/recorded")
		if len(rec) != 1 || !rec[0].Valid {
			t.Fatalf("app saw %v", app.log(t))
		}
		b := rec[0].Body
		if !strings.HasPrefix(b["RecordingSid"], "RE") || !twilioSid.MatchString(b["RecordingSid"]) || b["RecordingDuration"] != "3" {
			t.Errorf("RecordingSid %q RecordingDuration %q", b["RecordingSid"], b["RecordingDuration"])
		}
		for name, want := range map[string]struct {
			status int
			head   string
		}{"signed": {200, "RIFF"}, "wav": {200, "RIFF"}, "basic": {200, "RIFF"}, "plain": {401, ""}, "mp3": {200, ""}} {
			c := rec[0].Checks[name]
			if c.Status != want.status || want.head != "" && c.Head != want.head {
				t.Errorf("the app's GET of RecordingUrl (%s): %d %s %q", name, c.Status, c.Type, c.Head)
			}
		}
		if c := rec[0].Checks["mp3"]; c.Type != "audio/mpeg" || c.Bytes < 1000 {
			t.Errorf("RecordingUrl.mp3: %s, %d bytes", c.Type, c.Bytes)
		}
		st := waitfor.Value(t, 5*time.Second, "the recording status callback", func() ([]entry, bool) {
			e := app.find(t, "/recstatus")
			return e, len(e) == 1
		})
		if sb := st[0].Body; sb["RecordingSid"] != b["RecordingSid"] || sb["RecordingStatus"] != "completed" ||
			sb["RecordingUrl"] != b["RecordingUrl"] || sb["RecordingDuration"] != "3" || !st[0].Valid {
			t.Errorf("recordingStatusCallback %v", st[0])
		}
		// The caller sent 500 Hz all along: heard back only through the
		// <Play> of RecordingUrl (Switchboard never echoes).
		pcm, rate := heard(t, bs)
		if got := toneTime(pcm, rate, 500); got < 2*time.Second {
			t.Errorf("heard %v of the recording played back, want about 3 s", got)
		}
	})

	t.Run("a 10 s webhook: 180 at once, then the answer, no apology", func(t *testing.T) {
		bs := startBaresip(t)
		n := bs.count()
		start := time.Now()
		bs.command(t, "dial", "sip:8003@"+s.SIP)
		n2 := bs.await(t, "CALL_RINGING", n, 3*time.Second)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("180 after %v", d)
		}
		bs.await(t, "CALL_ESTABLISHED", n2, 15*time.Second)
		bs.await(t, "CALL_CLOSED", n2, 30*time.Second)
		tr := s.traceOf(t, app.find(t, "/slow")[0].Body["CallSid"])
		says := traceLines(tr, "say")
		if len(traceLines(tr, "error")) > 0 || len(says) != 1 || says[0]["text"] != "Thank you for waiting." {
			t.Errorf("trace %s", sipDump(tr))
		}
		if w := traceLines(tr, "webhook"); len(w) != 1 || w[0]["status"] != float64(200) {
			t.Errorf("webhooks %v", w)
		}
	})

	t.Run("a 30-round IVR completes", func(t *testing.T) {
		bs := startBaresip(t)
		n := bs.count()
		bs.command(t, "dial", "sip:8004@"+s.SIP)
		n = bs.await(t, "CALL_ESTABLISHED", n, 10*time.Second)
		for round := 1; round <= 30; round++ {
			waitfor.True(t, 15*time.Second, fmt.Sprintf("round %d asked", round), func() bool {
				return len(app.find(t, "/ivr")) >= round
			})
			bs.command(t, "sndcode", "1")
		}
		bs.await(t, "CALL_CLOSED", n, 30*time.Second)
		ivr := app.find(t, "/ivr")
		if len(ivr) != 31 {
			t.Fatalf("%d IVR requests, want 31", len(ivr))
		}
		for _, e := range ivr[1:] {
			if e.Body["Digits"] != "1" || !e.Valid {
				t.Errorf("round %s: Digits %q valid %v", e.Query["round"], e.Body["Digits"], e.Valid)
			}
		}
		tr := s.traceOf(t, ivr[0].Body["CallSid"])
		says := traceLines(tr, "say")
		if len(traceLines(tr, "error")) > 0 || len(says) == 0 || says[len(says)-1]["text"] != "All rounds done." {
			t.Errorf("IVR trace ends %s", sipDump(tr[max(0, len(tr)-4):]))
		}
	})

	t.Run("ringback during a Dial", func(t *testing.T) {
		callee := startBaresip(t) // rings, never answers
		caller := startBaresip(t)
		s.flow(t, "8005", pivot(app.URL+"/dial?to=sip:alice@127.0.0.1:"+fmt.Sprint(callee.Port)))
		n := caller.count()
		caller.command(t, "dial", "sip:8005@"+s.SIP)
		n = caller.await(t, "CALL_ESTABLISHED", n, 10*time.Second)
		caller.await(t, "CALL_CLOSED", n, 30*time.Second)
		pcm, rate := heard(t, caller)
		// US ringback is 440 + 480 Hz: each carries half the energy.
		r440, r480 := toneTimeShare(pcm, rate, 440), toneTimeShare(pcm, rate, 480)
		if r440 < 1500*time.Millisecond || r480 < 1500*time.Millisecond {
			t.Errorf("heard %v of 440 Hz and %v of 480 Hz during a 6 s ring, want 2 s or more of each", r440, r480)
		}
		d, _ := waitfor.Within(10*time.Second, func() ([]entry, bool) {
			d := app.find(t, "/dialed")
			return d, len(d) > 0
		})
		if len(d) != 1 || d[0].Body["DialCallStatus"] != "no-answer" || d[0].Body["DialBridged"] != "false" {
			t.Errorf("Dial action %v", d)
		}
	})

	t.Run("enqueue then dequeue: audio both ways", func(t *testing.T) {
		caller := startBaresipWith(t, toneWAV(500, 60*time.Second))
		agent := startBaresipWith(t, toneWAV(900, 60*time.Second))
		n := caller.count()
		caller.command(t, "dial", "sip:8006@"+s.SIP)
		n = caller.await(t, "CALL_ESTABLISHED", n, 10*time.Second)
		wait := waitfor.Value(t, 10*time.Second, "the wait document", func() ([]entry, bool) {
			e := app.find(t, "/wait")
			return e, len(e) > 0
		})
		// grown waits until a phone has recorded d more of what it hears
		// (8 kHz 16-bit: 16000 bytes a second).
		grown := func(b *baresip, what string, d time.Duration) {
			rec := singleFile(t, filepath.Join(b.Rec, "dump-*-dec.wav"))
			size := func() int64 {
				fi, err := os.Stat(rec)
				if err != nil {
					return 0
				}
				return fi.Size()
			}
			from := size()
			waitfor.True(t, d+10*time.Second, what, func() bool { return size() >= from+int64(d/time.Millisecond)*16 })
		}
		grown(caller, "3 s of wait music heard", 3*time.Second)
		for _, k := range []string{"QueueSid", "QueueTime", "QueuePosition", "AvgQueueTime", "CurrentQueueSize", "MaxQueueSize"} {
			if _, ok := wait[0].Body[k]; !ok {
				t.Errorf("wait request has no %s: %v", k, wait[0].Body)
			}
		}
		m := agent.count()
		agent.command(t, "dial", "sip:8007@"+s.SIP)
		m = agent.await(t, "CALL_ESTABLISHED", m, 10*time.Second)
		waitfor.True(t, 10*time.Second, "the whisper document", func() bool { return len(app.find(t, "/whisper")) == 1 })
		// The whisper (about a second), then 4 s of bridge before the agent
		// hangs up.
		grown(agent, "5 s of the agent's call", 5*time.Second)
		agent.command(t, "hangup", "")
		agent.await(t, "CALL_CLOSED", m, 10*time.Second)
		caller.await(t, "CALL_CLOSED", n, 15*time.Second)
		cp, cr := heard(t, caller)
		ap, ar := heard(t, agent)
		if got := toneTime(cp, cr, 900); got < 2*time.Second {
			t.Errorf("the caller heard %v of the agent's 900 Hz", got)
		}
		if got := toneTime(ap, ar, 500); got < 2*time.Second {
			t.Errorf("the agent heard %v of the caller's 500 Hz", got)
		}
		if got := toneTime(cp, cr, 300); got < time.Second {
			t.Errorf("the caller heard %v of the MP3 wait music (300 Hz)", got)
		}
		left := app.find(t, "/left")
		if len(left) != 1 || left[0].Body["QueueResult"] != "bridged" {
			t.Errorf("Enqueue action %v", left)
		}
		for _, k := range []string{"QueueSid", "QueueTime", "QueuePosition", "AvgQueueTime", "CurrentQueueSize", "MaxQueueSize"} {
			if len(left) == 1 && left[0].Body[k] == "" {
				t.Errorf("Enqueue action has no %s: %v", k, left[0].Body)
			}
		}
		// The agent hung up: its own call is over, so its Dial action is
		// not requested (the caller's <Enqueue> action is).
	})

	for _, e := range app.log(t) {
		if !e.Valid {
			t.Errorf("X-Twilio-Signature of %s did not validate", e.Path)
		}
	}
}

// toneTimeShare is toneTime for one component of a two-tone signal: the
// window's energy at freq is a good share (a quarter) of the whole.
func toneTimeShare(samples []float64, rate int, freq float64) time.Duration {
	win := rate / 10
	var got time.Duration
	for start := 0; start+win <= len(samples); start += win {
		w := samples[start : start+win]
		var energy float64
		for _, v := range w {
			energy += v * v
		}
		if 10*math.Log10(energy/float64(win)+1e-12) < -45 {
			continue
		}
		k := 2 * math.Cos(2*math.Pi*freq/float64(rate))
		var s1, s2 float64
		for _, v := range w {
			s0 := v + k*s1 - s2
			s2, s1 = s1, s0
		}
		if (s1*s1+s2*s2-k*s1*s2)/(float64(win)/2)/energy > 0.25 {
			got += 100 * time.Millisecond
		}
	}
	return got
}
