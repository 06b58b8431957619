package e2e

import (
	binenc "encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
)

// Helpers of the SIP end-to-end tests: a switchboard with SIP on a free
// port, the peers (sipp, baresip) found or skipped, WAV measurements.

// sipTool finds a peer program: the test skips without it, and fails
// without it under CI=true.
func sipTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (CI=true): install it (./dev.sh test does)", name)
		}
		t.Skipf("%s not found; set CI=true to make this fatal", name)
	}
	return path
}

// sipServer is a running switchboard with SIP on 127.0.0.1, and the token
// and id of the account the test works in.
type sipServer struct {
	*proc
	SIP     string // "127.0.0.1:port"
	Data    string
	Token   string
	Account string
}

// sipE2EKey is the admin key of serveSIP's servers.
const sipE2EKey = "sip-e2e-key-0123456789abcdef"

// serveSIP starts a server trusting 127.0.0.1 as a trunk of the default
// account, the account s works in.
func serveSIP(t *testing.T, extra ...string) *sipServer {
	t.Helper()
	return startSIP(t, nil, append([]string{"--trust", "127.0.0.1"}, extra...)...)
}

// startSIP starts a server with SIP on a free port of 127.0.0.1 (env added
// to a clean environment, extra to the arguments) and signs in as its
// operator.
func startSIP(t *testing.T, env []string, extra ...string) *sipServer {
	t.Helper()
	data := t.TempDir()
	// The free port is only free when it is picked: another process may
	// take it before the server binds it, so a taken port is picked again.
	for attempt := 1; ; attempt++ {
		sipAddr := fmt.Sprintf("127.0.0.1:%d", sipFreePort(t))
		args := append([]string{"--http-addr", "127.0.0.1:0", "--data-dir", data, "--admin-key", sipE2EKey,
			"--sip-addr", sipAddr}, extra...)
		p, err := startServe(t, env, args...)
		if errors.Is(err, errPortTaken) && attempt < 5 {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		s := &sipServer{proc: p, SIP: sipAddr, Data: data}
		s.Token, s.Account = signIn(t, p.URL, sipE2EKey)
		return s
	}
}

// flow stores a call flow answering number.
func (s *sipServer) flow(t *testing.T, number string, flow map[string]any) {
	t.Helper()
	body := map[string]any{"data": map[string]any{"name": "e2e " + number, "numbers": []string{number}, "flow": flow}}
	if status, env := api(t, "PUT", s.URL+"/v2/accounts/"+s.Account+"/callflows", s.Token, body); status != 201 {
		t.Fatalf("create flow %s: %d %v", number, status, env)
	}
}

// traceOf waits until the call whose id (or SIP Call-ID) starts with prefix has ended and
// returns its trace lines.
func (s *sipServer) traceOf(t *testing.T, prefix string) []map[string]any {
	t.Helper()
	base := s.URL + "/v2/accounts/" + s.Account
	return waitfor.Value(t, 20*time.Second, "an ended call "+prefix+"* in the call log", func() ([]map[string]any, bool) {
		_, env := api(t, "GET", base+"/calls", s.Token, nil)
		calls, _ := env["data"].([]any)
		for _, c := range calls {
			c := c.(map[string]any)
			id, _ := c["call_id"].(string)
			sipID, _ := c["sip_call_id"].(string)
			if !strings.HasPrefix(id, prefix) && !strings.HasPrefix(sipID, prefix) || c["ended"] == nil {
				continue
			}
			_, env = api(t, "GET", base+"/calls/"+id+"/trace", s.Token, nil)
			var out []map[string]any
			for _, l := range env["data"].([]any) {
				out = append(out, l.(map[string]any))
			}
			if len(out) > 0 && out[len(out)-1]["op"] == "hangup" {
				return out, true
			}
		}
		return nil, false
	})
}

// traceOps lists the ops of a trace.
func traceOps(trace []map[string]any) string {
	var out []string
	for _, l := range trace {
		out = append(out, l["op"].(string))
	}
	return strings.Join(out, " ")
}

// traceLines returns the trace lines of op.
func traceLines(trace []map[string]any, op string) []map[string]any {
	var out []map[string]any
	for _, l := range trace {
		if l["op"] == op {
			out = append(out, l)
		}
	}
	return out
}

func sipDump(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}

// runSipp runs one call of a scenario from testdata/sipp against the
// server, in a directory holding sipp's pcaps; the Call-ID starts with
// prefix.
func runSipp(t *testing.T, s *sipServer, scenario, service, prefix string) error {
	t.Helper()
	return sippCmd(t, scenario, s.SIP, "-s", service, "-cid_str", prefix+"%u-%p@%s",
		"-p", fmt.Sprint(sipFreePort(t)))().Wait()
}

// sippRun is a started sipp.
type sippRun struct {
	cmd  *exec.Cmd
	dir  string
	name string
	out  *syncBuffer
}

// sippCmd prepares one call of a scenario from testdata/sipp (args name
// the target, port and the rest) in a directory holding sipp's pcaps;
// calling the result starts it.
func sippCmd(t *testing.T, scenario string, args ...string) func() *sippRun {
	t.Helper()
	return sippCmdFiles(t, nil, scenario, args...)
}

// sippCmdFiles is sippCmd with files (audio a scenario streams, or the
// scenario itself when files names it) written into sipp's directory
// beside the pcaps.
func sippCmdFiles(t *testing.T, files map[string][]byte, scenario string, args ...string) func() *sippRun {
	t.Helper()
	sipp := sipTool(t, "sipp")
	dir := t.TempDir()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pcaps, _ := filepath.Glob("/usr/share/sip-tester/*.pcap")
	for _, p := range pcaps {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o600)
	}
	sf, err := filepath.Abs(filepath.Join("..", "testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files[scenario]; ok { // a scenario of the test's own
		sf = filepath.Join(dir, scenario)
	}
	args = append(args, "-sf", sf, "-m", "1", "-i", "127.0.0.1", "-mp", fmt.Sprint(sippMediaPort(t)),
		"-timeout", "60s", "-timeout_error", "-nostdin",
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"),
		"-trace_screen", "-screen_file", filepath.Join(dir, "screen.log"))
	return func() *sippRun {
		r := &sippRun{cmd: exec.Command(sipp, args...), dir: dir, name: scenario, out: &syncBuffer{}}
		r.cmd.Dir = dir
		r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if r.cmd.ProcessState == nil {
				r.cmd.Process.Kill()
				r.cmd.Wait()
			}
		})
		return r
	}
}

// Wait waits for sipp's end; an error holds its output and error log.
func (r *sippRun) Wait() error {
	if err := r.cmd.Wait(); err != nil {
		errs, _ := os.ReadFile(filepath.Join(r.dir, "errors.log"))
		screen, _ := os.ReadFile(filepath.Join(r.dir, "screen.log"))
		return fmt.Errorf("sipp %s: %v\n%s\n%s\n%s", r.name, err, lastBytes(r.out.String(), 1500), errs, lastBytes(string(screen), 3000))
	}
	return nil
}

func lastBytes(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// wavStats measures a 16-bit PCM WAV: its length, its RMS level in dBFS,
// and how long it is louder than -40 dBFS (in 20 ms windows).
type wavInfo struct {
	Rate     int
	Duration time.Duration
	RMSdB    float64
	Voiced   time.Duration
}

func wavStats(b []byte) (wavInfo, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return wavInfo{}, errors.New("not a RIFF WAVE file")
	}
	var info wavInfo
	var channels, bits int
	var data []byte
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binenc.LittleEndian.Uint32(b[p+4:p+8]))
		body := b[p+8 : min(len(b), p+8+size)]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return info, errors.New("short fmt chunk")
			}
			channels = int(binenc.LittleEndian.Uint16(body[2:]))
			info.Rate = int(binenc.LittleEndian.Uint32(body[4:]))
			bits = int(binenc.LittleEndian.Uint16(body[14:]))
		case "data":
			data = body
		}
		p += 8 + size + size%2
	}
	if bits != 16 || channels < 1 || info.Rate == 0 || data == nil {
		return info, fmt.Errorf("want 16-bit PCM, got %d bits, %d channels, %d Hz", bits, channels, info.Rate)
	}
	n := len(data) / 2 / channels
	info.Duration = time.Duration(n) * time.Second / time.Duration(info.Rate)
	var sum float64
	win := info.Rate / 50
	var wsum float64
	for i := range n {
		v := float64(int16(binenc.LittleEndian.Uint16(data[2*i*channels:]))) / 32768
		sum += v * v
		wsum += v * v
		if (i+1)%win == 0 {
			if 10*math.Log10(wsum/float64(win)+1e-12) > -40 {
				info.Voiced += 20 * time.Millisecond
			}
			wsum = 0
		}
	}
	info.RMSdB = 10 * math.Log10(sum/float64(max(n, 1))+1e-12)
	return info, nil
}
