package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// customer is the account's web server for Pivot: it records each
// request's path and form, and answers the TwiML of its path.
type customer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []map[string]string
}

func newCustomer(t *testing.T, docs map[string]string) *customer {
	c := &customer{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got := map[string]string{"path": r.URL.Path}
		for k := range r.Form {
			got[k] = r.Form.Get(k)
		}
		c.mu.Lock()
		c.seen = append(c.seen, got)
		c.mu.Unlock()
		doc, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, doc)
	}))
	t.Cleanup(c.Close)
	return c
}

// callSidRE is Twilio's CallSid shape.
var callSidRE = regexp.MustCompile(`^CA[0-9a-f]{32}$`)

func (c *customer) requests() []map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]map[string]string(nil), c.seen...)
}

func pivot(url string) map[string]any {
	return map[string]any{"module": "pivot", "data": map[string]any{"voice_url": url, "method": "POST", "req_format": "twiml"}}
}

// TestSippPivotGatherByRFC2833 is an IVR on a real peer: sipp calls a
// Pivot flow (Say, Gather, Redirect), presses 1 and 2 as RFC 2833 events
// from sipp's pcaps, the customer's server gets Digits=12, and the call
// ends with Switchboard's BYE.
func TestSippPivotGatherByRFC2833(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	c := newCustomer(t, map[string]string{
		"/voice": `<Response><Say>Welcome.</Say><Gather numDigits="2" action="/gathered" timeout="10">` +
			`<Say>Enter two digits.</Say></Gather><Say>Nothing entered.</Say></Response>`,
		"/gathered": `<Response><Redirect>/bye</Redirect></Response>`,
		"/bye":      `<Response><Say>Goodbye.</Say><Hangup/></Response>`,
	})
	s.flow(t, "1000", pivot(c.URL+"/voice"))
	if err := runSipp(t, s, "uac_dtmf.xml", "1000", "dtmf-"); err != nil {
		t.Fatal(err)
	}
	reqs := c.requests()
	var paths []string
	digits := ""
	for _, r := range reqs {
		paths = append(paths, r["path"])
		if r["path"] == "/gathered" {
			digits = r["Digits"]
		}
	}
	if strings.Join(paths, " ") != "/voice /gathered /bye" || digits != "12" {
		t.Errorf("customer saw %v, Digits %q; want /voice /gathered /bye and 12", paths, digits)
	}
	if !callSidRE.MatchString(reqs[0]["CallSid"]) || !strings.HasPrefix(reqs[0]["SipCallId"], "dtmf-") {
		t.Errorf("CallSid %q, SipCallId %q: want CA+32 hex and the SIP Call-ID", reqs[0]["CallSid"], reqs[0]["SipCallId"])
	}
	tr := s.traceOf(t, "dtmf-")
	want := "route module webhook answer say gather webhook redirect webhook say hangup"
	if got := traceOps(tr); got != want {
		t.Errorf("trace\n got %s\nwant %s\n%s", got, want, sipDump(tr))
	}
	if h := tr[len(tr)-1]; h["by"] != "switchboard" {
		t.Errorf("hangup %v, want by switchboard", h)
	}
}

// TestSippRecording records what sipp says (its 7 s speech pcap): the
// recording the customer is told about is fetched from the API and is 3 s
// of sound, not silence.
func TestSippRecording(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	c := newCustomer(t, map[string]string{
		"/voice":    `<Response><Record maxLength="3" timeout="5" playBeep="false" trim="do-not-trim" action="/recorded"/></Response>`,
		"/recorded": `<Response><Hangup/></Response>`,
	})
	s.flow(t, "1001", pivot(c.URL+"/voice"))
	if err := runSipp(t, s, "uac_record.xml", "1001", "rec-"); err != nil {
		t.Fatal(err)
	}
	var rec map[string]string
	for _, r := range c.requests() {
		if r["path"] == "/recorded" {
			rec = r
		}
	}
	if rec == nil || rec["RecordingUrl"] == "" {
		t.Fatalf("no recording posted: %v", c.requests())
	}
	url := rec["RecordingUrl"]
	if !strings.HasPrefix(url, s.URL+"/v2/accounts/"+s.Account+"/recordings/") {
		t.Errorf("RecordingUrl %s is not the API's", url)
	}
	// RecordingUrl is a signed link the customer fetches with no
	// credentials; the plain path needs a token or HTTP Basic.
	for _, c := range []struct {
		url  string
		want int
	}{{url, 200}, {url + ".wav", 200}, {s.URL + "/v2/accounts/" + s.Account + "/recordings/" + path.Base(url), 401}} {
		if resp, err := http.Get(c.url); err == nil {
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("GET %s with no credentials: %d, want %d", c.url, resp.StatusCode, c.want)
			}
		}
	}
	info, err := wavStats(getRecording(t, s, url))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recording: %v, RMS %.1f dBFS, voiced %v; RecordingDuration=%s", info.Duration, info.RMSdB, info.Voiced, rec["RecordingDuration"])
	if info.Duration < 2500*time.Millisecond || info.Duration > 3500*time.Millisecond {
		t.Errorf("recording lasts %v, want about 3 s", info.Duration)
	}
	if info.RMSdB < -40 || info.Voiced < time.Second {
		t.Errorf("recording is near silence: RMS %.1f dBFS, voiced %v", info.RMSdB, info.Voiced)
	}
	if rec["RecordingDuration"] != "3" {
		t.Errorf("RecordingDuration %s, want 3", rec["RecordingDuration"])
	}
}

// TestSippEndings: a CANCEL during early media, a BYE in the middle of a
// prompt, and a number nobody serves all end cleanly, as the traces say.
func TestSippEndings(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	c := newCustomer(t, map[string]string{
		"/wait": `<Response><Pause length="10"/><Say>Too late.</Say></Response>`,
	})
	s.flow(t, "2000", pivot(c.URL+"/wait"))
	s.flow(t, "2001", map[string]any{"module": "tts", "data": map[string]any{
		"text": "This prompt is long enough for the caller to hang up in the middle of it, which is what happens next.",
	}})

	t.Run("cancel", func(t *testing.T) {
		if err := runSipp(t, s, "uac_cancel.xml", "2000", "cancel-"); err != nil {
			t.Fatal(err)
		}
		tr := s.traceOf(t, "cancel-")
		h := tr[len(tr)-1]
		if traceOps(tr) != "route module webhook pause hangup" || h["by"] != "caller" {
			t.Errorf("trace %s", sipDump(tr))
		}
		if p := traceLines(tr, "pause")[0]; p["interrupted"] != true {
			t.Errorf("pause not interrupted: %v", p)
		}
	})
	t.Run("bye mid-prompt", func(t *testing.T) {
		if err := runSipp(t, s, "uac_bye.xml", "2001", "bye-"); err != nil {
			t.Fatal(err)
		}
		tr := s.traceOf(t, "bye-")
		say := traceLines(tr, "say")
		if traceOps(tr) != "route module answer say hangup" || tr[len(tr)-1]["by"] != "caller" || len(say) != 1 || say[0]["interrupted"] != true {
			t.Errorf("trace %s", sipDump(tr))
		}
		if ms := tr[len(tr)-1]["t_ms"].(float64); ms < 1200 || ms > 4000 {
			t.Errorf("hung up at %v ms, want about 1500", ms)
		}
	})
	t.Run("bye mid-prompt over TCP", func(t *testing.T) {
		err := sippCmd(t, "uac_bye.xml", s.SIP, "-s", "2001", "-cid_str", "tcpbye-%u-%p@%s",
			"-p", fmt.Sprint(sipFreePort(t)), "-t", "t1")().Wait()
		if err != nil {
			t.Fatal(err)
		}
		tr := s.traceOf(t, "tcpbye-")
		if traceOps(tr) != "route module answer say hangup" || tr[len(tr)-1]["by"] != "caller" {
			t.Errorf("trace %s", sipDump(tr))
		}
	})
	t.Run("unknown number", func(t *testing.T) {
		if err := runSipp(t, s, "uac_404.xml", "9999", "nobody-"); err != nil {
			t.Fatal(err)
		}
		tr := s.traceOf(t, "nobody-")
		if traceOps(tr) != "route reject hangup" || traceLines(tr, "reject")[0]["reason"] != "sip:404" {
			t.Errorf("trace %s", sipDump(tr))
		}
	})
}

// TestSippDialBridge bridges two real peers: sipp calls a Pivot <Dial> to
// a second sipp that answers, talks 3 s and hangs up; the caller then
// hears the flow go on and gets Switchboard's BYE.
func TestSippDialBridge(t *testing.T) {
	sipTool(t, "sipp")
	s := serveSIP(t)
	farPort := sipFreePort(t)
	far := sippCmd(t, "uas_bye.xml", "-p", fmt.Sprint(farPort))()
	c := newCustomer(t, map[string]string{
		"/voice":  fmt.Sprintf(`<Response><Dial timeout="10" action="/dialed"><Sip>sip:far@127.0.0.1:%d</Sip></Dial></Response>`, farPort),
		"/dialed": `<Response><Say>The other party hung up.</Say><Hangup/></Response>`,
	})
	s.flow(t, "3000", pivot(c.URL+"/voice"))
	if err := runSipp(t, s, "uac_record.xml", "3000", "dial-"); err != nil {
		t.Fatal(err)
	}
	if err := far.Wait(); err != nil {
		t.Fatalf("far end: %v", err)
	}
	var dialed map[string]string
	for _, r := range c.requests() {
		if r["path"] == "/dialed" {
			dialed = r
		}
	}
	if dialed == nil || dialed["DialCallStatus"] != "completed" || dialed["DialCallSid"] == "" {
		t.Errorf("dial action got %v", dialed)
	}
	tr := s.traceOf(t, "dial-")
	d := traceLines(tr, "dial")
	if len(d) != 1 || d[0]["status"] != "completed" || d[0]["duration"].(float64) < 2.5 {
		t.Errorf("trace %s", sipDump(tr))
	}
}

// getRecording downloads a recording with the server's token.
func getRecording(t *testing.T, s *sipServer, url string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("X-Auth-Token", s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wav, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("GET recording: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return wav
}
