package e2e

import (
	"bufio"
	binenc "encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
)

// baresip is a headless baresip 1.0 softphone driven through ctrl_tcp
// (netstring-framed JSON): it sends silence (a long WAV, since the end of
// its source ends a call), records what it hears (sndfile: dump-*-dec.wav
// in Rec), and answers nothing.
type baresip struct {
	Rec    string
	Port   int // its SIP port on 127.0.0.1 (it takes calls as sip:alice@…)
	conn   net.Conn
	mu     sync.Mutex
	events []map[string]any
	notify chan struct{}
	// account is the accounts line (see startBaresipAccount).
	account string
}

func startBaresip(t *testing.T) *baresip {
	t.Helper()
	return startBaresipWith(t, silentWAV(90*time.Second))
}

// startBaresipWith is startBaresip sending source (a WAV, 8 kHz mono
// 16-bit, long enough for the call: its end ends the call).
func startBaresipWith(t *testing.T, source []byte) *baresip {
	t.Helper()
	return startBaresipAccount(t, "", source)
}

// startBaresipAccount is startBaresipWith with account as its accounts
// line (%d, when present, is its SIP port); "" is an unregistered alice.
func startBaresipAccount(t *testing.T, account string, source []byte) *baresip {
	t.Helper()
	bin := sipTool(t, "baresip")
	if _, err := os.Stat("/usr/lib/baresip/modules/sndfile.so"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("baresip modules missing")
		}
		t.Skip("baresip modules missing")
	}
	dir := t.TempDir()
	b := &baresip{Rec: filepath.Join(dir, "rec"), notify: make(chan struct{}, 100), account: account}
	os.MkdirAll(b.Rec, 0o750)
	silence := filepath.Join(dir, "source.wav")
	if err := os.WriteFile(silence, source, 0o600); err != nil {
		t.Fatal(err)
	}
	// A port chosen free may be taken before baresip binds it (another
	// peer starting): then baresip exits, and it is started again on
	// other ports.
	var log *syncBuffer
	for attempt := 1; ; attempt++ {
		var err error
		log, err = b.launch(t, bin, dir, silence)
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("baresip ctrl_tcp not up: %v\n%s", err, log.String())
		}
		t.Logf("baresip did not start (attempt %d): %v", attempt, err)
	}
	t.Cleanup(func() { b.conn.Close() })
	go b.read()
	return b
}

// launch writes the config with fresh ports, starts baresip and connects
// to its ctrl_tcp; on failure the process is gone and the error says why.
func (b *baresip) launch(t *testing.T, bin, dir, source string) (*syncBuffer, error) {
	sipPort, ctrlPort, rtp := sipFreePort(t), sipFreePort(t), peerPorts(t, 42)
	b.Port = sipPort
	cfg := strings.Join([]string{
		"poll_method epoll",
		"net_interface 127.0.0.1",
		fmt.Sprintf("sip_listen 127.0.0.1:%d", sipPort),
		"sip_transports udp",
		"audio_player alsa,null",
		"audio_source aufile," + source,
		"audio_alert alsa,null",
		"ausrc_srate 8000", "auplay_srate 8000", "ausrc_channels 1", "auplay_channels 1",
		fmt.Sprintf("rtp_ports %d-%d", rtp, rtp+40),
		"module_path /usr/lib/baresip/modules",
		"module g711.so", "module aufile.so", "module alsa.so", "module sndfile.so",
		"module_app account.so", "module_app menu.so", "module_app ctrl_tcp.so",
		fmt.Sprintf("ctrl_tcp_listen 127.0.0.1:%d", ctrlPort),
		"snd_path " + b.Rec,
	}, "\n") + "\n"
	os.WriteFile(filepath.Join(dir, "config"), []byte(cfg), 0o600)
	account := b.account
	if account == "" {
		account = "<sip:alice@127.0.0.1:%d>;regint=0;answermode=manual;audio_codecs=PCMU,PCMA"
	}
	if strings.Contains(account, "%d") {
		account = fmt.Sprintf(account, sipPort)
	}
	os.WriteFile(filepath.Join(dir, "accounts"), []byte(account+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "contacts"), nil, 0o600)
	cmd := exec.Command(bin, "-f", dir, "-t", "120")
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	var dialErr error
	conn, _ := waitfor.Within(10*time.Second, func() (net.Conn, bool) {
		select {
		case <-exited:
			dialErr = errors.New("baresip exited")
			return nil, true
		default:
		}
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ctrlPort))
		dialErr = err
		return c, err == nil
	})
	if conn == nil {
		cmd.Process.Kill()
		<-exited
		return log, dialErr
	}
	b.conn = conn
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("baresip:\n%s", lastBytes(log.String(), 4000))
		}
	})
	return log, nil
}

// silentWAV is d of 8 kHz mono 16-bit silence.
func silentWAV(d time.Duration) []byte {
	n := int(d / time.Second * 8000)
	b := make([]byte, 44+2*n)
	copy(b, "RIFF")
	binenc.LittleEndian.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	binenc.LittleEndian.PutUint32(b[16:], 16)
	binenc.LittleEndian.PutUint16(b[20:], 1)
	binenc.LittleEndian.PutUint16(b[22:], 1)
	binenc.LittleEndian.PutUint32(b[24:], 8000)
	binenc.LittleEndian.PutUint32(b[28:], 16000)
	binenc.LittleEndian.PutUint16(b[32:], 2)
	binenc.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binenc.LittleEndian.PutUint32(b[40:], uint32(2*n))
	return b
}

// read collects ctrl_tcp's netstrings: command answers and events.
func (b *baresip) read() {
	r := bufio.NewReader(b.conn)
	for {
		lenStr, err := r.ReadString(':')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(lenStr[:len(lenStr)-1]))
		if err != nil || n < 0 || n > 1<<20 {
			return
		}
		msg := make([]byte, n+1)
		if _, err := io.ReadFull(r, msg); err != nil {
			return
		}
		var m map[string]any
		if json.Unmarshal(msg[:n], &m) == nil {
			b.mu.Lock()
			b.events = append(b.events, m)
			b.mu.Unlock()
			select {
			case b.notify <- struct{}{}:
			default:
			}
		}
	}
}

// command sends one ctrl_tcp command.
func (b *baresip) command(t *testing.T, cmd, params string) {
	t.Helper()
	msg, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": cmd})
	if _, err := fmt.Fprintf(b.conn, "%d:%s,", len(msg), msg); err != nil {
		t.Fatalf("baresip %s: %v", cmd, err)
	}
}

// await waits for an event of type typ after the first skip events and
// returns how many events there are then.
func (b *baresip) await(t *testing.T, typ string, from int, timeout time.Duration) int {
	t.Helper()
	deadline := time.After(timeout)
	for {
		b.mu.Lock()
		for i := from; i < len(b.events); i++ {
			if b.events[i]["type"] == typ {
				b.mu.Unlock()
				return i + 1
			}
		}
		b.mu.Unlock()
		select {
		case <-b.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			b.mu.Lock()
			defer b.mu.Unlock()
			t.Fatalf("baresip: no %s within %v; events %v", typ, timeout, b.events[from:])
		}
	}
}

func (b *baresip) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.events)
}

// TestBaresipHearsSpeechAndSendsDigits uses baresip as an independent
// phone: the prompt Switchboard speaks arrives as speech (its length and
// level match the TTS file the server made), and digits baresip sends as
// RFC 2833 reach the customer's server through a Pivot Gather.
func TestBaresipHearsSpeechAndSendsDigits(t *testing.T) {
	s := serveSIP(t)
	bs := startBaresip(t)
	const prompt = "Welcome to the call flow server. Please enter your PIN followed by the pound key."
	s.flow(t, "7001", map[string]any{"module": "tts", "data": map[string]any{"text": prompt}})
	c := newCustomer(t, map[string]string{
		"/voice": `<Response><Gather finishOnKey="#" timeout="10" action="/pin"><Say>Your PIN please.</Say></Gather></Response>`,
		"/pin":   `<Response><Say>Thank you.</Say><Hangup/></Response>`,
	})
	s.flow(t, "7002", pivot(c.URL+"/voice"))

	// 1. The prompt, as heard.
	n := bs.count()
	bs.command(t, "dial", "sip:7001@"+s.SIP)
	n = bs.await(t, "CALL_ESTABLISHED", n, 10*time.Second)
	bs.await(t, "CALL_CLOSED", n, 30*time.Second) // Switchboard hangs up after the prompt
	heard := singleFile(t, filepath.Join(bs.Rec, "dump-*-dec.wav"))
	ref := singleFile(t, filepath.Join(s.Data, "cache", "tts", "*.wav"))
	hi, err := wavStats(readFile(t, heard))
	if err != nil {
		t.Fatal(err)
	}
	ri, err := wavStats(readFile(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("prompt %v (voiced %v, %.1f dBFS); heard %v (voiced %v, %.1f dBFS)", ri.Duration, ri.Voiced, ri.RMSdB, hi.Duration, hi.Voiced, hi.RMSdB)
	if hi.RMSdB < -35 {
		t.Errorf("heard %.1f dBFS: silence, not speech", hi.RMSdB)
	}
	if d := hi.Duration - ri.Duration; d < -200*time.Millisecond || d > 2*time.Second {
		t.Errorf("heard %v for a prompt of %v", hi.Duration, ri.Duration)
	}
	if d := hi.Voiced - ri.Voiced; math.Abs(d.Seconds()) > 0.5 {
		t.Errorf("heard %v of sound, the prompt has %v", hi.Voiced, ri.Voiced)
	}
	if tr := s.traceOf(t, ""); traceOps(tr) != "route module answer say hangup" || tr[len(tr)-1]["by"] != "switchboard" {
		t.Errorf("trace of the prompt call: %s", sipDump(tr))
	}

	// 2. Digits from baresip.
	n = bs.count()
	bs.command(t, "dial", "sip:7002@"+s.SIP)
	n = bs.await(t, "CALL_ESTABLISHED", n, 10*time.Second)
	// Digits queue from the moment the call is up (type-ahead), so the
	// Gather's document being fetched is all there is to wait for.
	waitfor.True(t, 10*time.Second, "the Gather document fetched", func() bool {
		for _, r := range c.requests() {
			if r["path"] == "/voice" {
				return true
			}
		}
		return false
	})
	bs.command(t, "sndcode", "42#")
	bs.await(t, "CALL_CLOSED", n, 30*time.Second)
	var digits string
	for _, r := range c.requests() {
		if r["path"] == "/pin" {
			digits = r["Digits"]
		}
	}
	if digits != "42" {
		t.Errorf("customer got Digits %q, want 42 (requests %v)", digits, c.requests())
	}
}

func singleFile(t *testing.T, pattern string) string {
	t.Helper()
	files, ok := waitfor.Within(5*time.Second, func() ([]string, bool) {
		files, _ := filepath.Glob(pattern)
		return files, len(files) == 1
	})
	if !ok {
		t.Fatalf("want one %s, found %v", pattern, files)
	}
	return files[0]
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
