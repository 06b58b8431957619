package sip_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/sip"
)

// torture is each RFC 4475 message with the answers RFC 4475 §3 allows a
// UAS like ours (0: dropped, no answer). Requests routed to a number get
// 404 here: no flow handles them.
var torture = map[string][]int{
	// 3.1.1 valid: parsed and handled.
	"wsinv":   {481}, // a To tag: a request in a dialog we do not have
	"intmeth": {501}, "esc01": {404}, "escnull": {405}, "esc02": {501},
	"lwsdisp": {200}, "longreq": {404}, "dblreq": {405},
	"semiuri": {200}, "transports": {200}, "mpart01": {405},
	"unreason": {0}, "noreason": {0}, // responses: no transaction, dropped
	// 3.1.2 invalid: 400 (or dropped where the RFC allows it).
	"badinv01": {400}, "clerr": {400, 0}, "ncl": {400, 0}, "scalar02": {400}, "scalarlg": {0},
	"quotbal": {400}, "ltgtruri": {400}, "lwsruri": {400}, "lwsstart": {400}, "trws": {400}, "escruri": {400},
	"baddate":  {400, 404}, // may be accepted, the Date ignored
	"regbadct": {400, 405}, "badaspec": {400}, "baddn": {400, 200},
	"badvers": {505}, "mismatch01": {400}, "mismatch02": {400, 501}, "bigcode": {0},
	// 3.2 transaction layer.
	"badbranch": {200, 400},
	// 3.3 application layer.
	"insuf": {400}, "unkscm": {416}, "novelsc": {416, 400, 0}, "unksm2": {405, 400},
	"bext01": {420}, "invut": {415}, "regaut01": {405, 401}, "multi01": {400},
	"mcl01": {400, 0}, "bcast": {0}, "zeromf": {200},
	"cparam01": {405}, "cparam02": {405}, "regescrt": {405}, "sdp01": {406, 400},
	// 3.4 backward compatibility.
	"inv2543": {404},
	// Not an RFC 4475 message (the archive's stray file): a truncated INVITE.
	"test": {0, 400},
}

// deviations are where sipgo (v1.7.2) keeps us from the RFC's answer,
// per message and transport: what we answer instead, and why.
var deviations = map[string]struct {
	got map[string]int
	why string
}{
	"wsinv": {map[string]int{"udp": 400, "tcp": 400},
		"its branch lacks the z9hG4bK cookie, so the transaction is keyed RFC 2543 style on the From tag, " +
			"and sipgo does not read `tag =\" 98asjd8\"` (spaces around '='): it answers 400 statelessly"},
	"inv2543": {map[string]int{"udp": 400, "tcp": 400},
		"an RFC 2543 request without branch nor From tag: RFC 3261 §8.1.1.7 and §8.1.1.3 make both mandatory, and we refuse it (issue 13)"},
	"longreq": {map[string]int{"udp": 400, "tcp": 400},
		"its top Via has no branch, which RFC 3261 §8.1.1.7 makes mandatory: we refuse it (issue 13)"},
	"dblreq": {map[string]int{"tcp": 0},
		"a CRLF then an INVITE follow the REGISTER, the INVITE's body 5 bytes longer than its Content-Length: over a stream those 5 bytes are a message that does not parse, and the read holding all three is refused, the connection closed unanswered (CRLFs between messages are skipped: TestCRLFKeepAliveOverTCP)"},
}

// TestTorture sends every RFC 4475 message over UDP and over TCP, checks
// the answer against what the RFC allows, and after each checks that the
// server still answers OPTIONS.
func TestTorture(t *testing.T) {
	t.Parallel()
	dir := sip.TortureDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.dat"))
	if len(files) != 50 {
		t.Fatalf("found %d RFC 4475 messages in %s, want 50", len(files), dir)
	}
	u := newUDPPeer(t)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".dat")
		want, ok := torture[name]
		if !ok {
			t.Errorf("%s: no expectation", name)
			continue
		}
		msg, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// A server per message and transport: messages share branches, and
		// a transaction kept for its timers would take the next one.
		t.Run(name+"/udp", func(t *testing.T) {
			ts := newServer(t, sip.Config{})
			// Where silence is a right answer there is no event to wait
			// for, so a short look; where an answer is due, wait for it.
			patience := 5 * time.Second
			if d, ok := deviations[name]; slices.Contains(want, 0) || ok && d.got["udp"] == 0 {
				patience = 400 * time.Millisecond
			}
			got := u.send(t, ts.Addr(), msg, patience)
			if d, ok := deviations[name]; ok && d.got["udp"] == got {
				t.Logf("answered %d, not %v: %s", got, want, d.why)
			} else if !slices.Contains(want, got) {
				t.Errorf("answered %d, RFC 4475 allows %v", got, want)
			}
			u.options(t, ts.Addr())
		})
		t.Run(name+"/tcp", func(t *testing.T) {
			ts := newServer(t, sip.Config{})
			got := sendTCP(t, ts.Addr(), msg)
			// Over TCP a message that does not frame closes the
			// connection: dropping is allowed for every invalid one.
			if d, ok := deviations[name]; ok && d.got["tcp"] == got {
				t.Logf("answered %d, not %v: %s", got, want, d.why)
			} else if !slices.Contains(want, got) && !(got == 0 && slices.Contains(want, 400)) {
				t.Errorf("answered %d, RFC 4475 allows %v", got, want)
			}
			u.options(t, ts.Addr())
		})
	}
}

// udpPeer sends from one socket and reads the answers there: the server
// answers the port a request came from (rport, forced unless StrictVia).
type udpPeer struct {
	conns []*net.UDPConn
	got   chan []byte
}

func newUDPPeer(t *testing.T) *udpPeer {
	t.Helper()
	u := &udpPeer{got: make(chan []byte, 1000)}
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	u.conns = append(u.conns, c)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			u.got <- bytes.Clone(buf[:n])
		}
	}()
	return u
}

// send sends msg and returns the first final status answered to its
// Call-ID within 400 ms (0 when none).
func (u *udpPeer) send(t *testing.T, server string, msg []byte, patience time.Duration) int {
	t.Helper()
	u.drain()
	addr, _ := net.ResolveUDPAddr("udp", server)
	if _, err := u.conns[0].WriteTo(msg, addr); err != nil {
		t.Fatal(err)
	}
	return firstFinal(u.got, "", patience) // a fresh server: any answer is to msg
}

func (u *udpPeer) drain() {
	for {
		select {
		case <-u.got:
		default:
			return
		}
	}
}

func (u *udpPeer) options(t *testing.T, server string) {
	t.Helper()
	u.drain()
	id := fmt.Sprintf("alive-%d", time.Now().UnixNano())
	msg := "OPTIONS sip:" + server + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + u.conns[0].LocalAddr().String() + ";branch=z9hG4bK" + id + "\r\n" +
		"From: <sip:check@127.0.0.1>;tag=" + id + "\r\nTo: <sip:" + server + ">\r\n" +
		"Call-ID: " + id + "\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	addr, _ := net.ResolveUDPAddr("udp", server)
	u.conns[0].WriteTo([]byte(msg), addr)
	if got := firstFinal(u.got, id, 2*time.Second); got != 200 {
		t.Fatalf("server no longer answers OPTIONS: %d", got)
	}
}

func firstFinal(ch <-chan []byte, callID string, wait time.Duration) int {
	deadline := time.After(wait)
	for {
		select {
		case b := <-ch:
			code := statusOf(b)
			if code >= 200 && (callID == "" || callIDOf(b) == callID) {
				return code
			}
		case <-deadline:
			return 0
		}
	}
}

func sendTCP(t *testing.T, server string, msg []byte) int {
	t.Helper()
	c, err := net.Dial("tcp", server)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(msg)
	// A refusal closes the connection at once; an answer may be slow on a
	// busy machine: the deadline only bounds a server left waiting for
	// the rest of a message.
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0
		}
		if code := statusOf([]byte(line)); code >= 200 {
			return code
		}
	}
}

func statusOf(b []byte) int {
	if !bytes.HasPrefix(b, []byte("SIP/2.0 ")) || len(b) < 11 {
		return 0
	}
	n, err := strconv.Atoi(string(b[8:11]))
	if err != nil {
		return 0
	}
	return n
}

// callIDOf is the first Call-ID of a message's head.
func callIDOf(b []byte) string {
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if k = strings.TrimSpace(k); ok && (strings.EqualFold(k, "call-id") || strings.EqualFold(k, "i")) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
