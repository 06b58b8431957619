// Package siptest is a SIP phone for tests, on sipgo (whose types stay
// inside internal/sip): it places calls over UDP or TCP with a G.711
// offer, keeps the RTP it receives, sends RFC 4733 digits and SIP INFO,
// and answers the BYE of the far end.
package siptest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// Phone is a SIP user agent listening on 127.0.0.1.
type Phone struct {
	t       testing.TB
	network string
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	dc      *sipgo.DialogClientCache
	addr    string
	conn    io.Closer

	mu        sync.Mutex
	calls     map[string]*Call // by Call-ID
	closeOnce sync.Once
}

// NewPhone starts a phone on network ("udp" or "tcp"); it stops when the
// test ends.
func NewPhone(t testing.TB, network string) *Phone {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("siptest"))
	if err != nil {
		t.Fatal(err)
	}
	p := &Phone{t: t, network: network, ua: ua, calls: map[string]*Call{}}
	p.srv, _ = sipgo.NewServer(ua)
	var serve func()
	p.addr, p.conn, serve = Listen(t, p.srv, network)
	host, port := splitHostPort(p.addr)
	p.cli, _ = sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientPort(port))
	contact := sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: "siptest", Host: host, Port: port}}
	if network == "tcp" {
		contact.Address.UriParams = sipmsg.NewParams()
		contact.Address.UriParams.Add("transport", "tcp")
	}
	p.dc = sipgo.NewDialogClientCache(p.cli, contact)
	p.srv.OnBye(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if err := p.dc.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
			return
		}
		p.mu.Lock()
		c := p.calls[req.CallID().Value()]
		p.mu.Unlock()
		if c != nil {
			c.ended()
		}
	})
	p.srv.OnOptions(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go serve()
	t.Cleanup(p.Close)
	return p
}

// Listen binds srv to a free port of 127.0.0.1 on network ("udp" or
// "tcp") and returns its address, its socket and the function that serves
// it (run it once srv's handlers are set). The tests' phones share it.
func Listen(t testing.TB, srv *sipgo.Server, network string) (addr string, conn io.Closer, serve func()) {
	t.Helper()
	if network == "udp" {
		pc, err := net.ListenPacket(network, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return pc.LocalAddr().String(), pc, func() { _ = srv.ServeUDP(pc) }
	}
	if network != "tcp" {
		t.Fatalf("siptest: network %q", network)
	}
	ln, err := net.Listen(network, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln.Addr().String(), ln, func() { _ = srv.ServeTCP(ln) }
}

// Close stops the phone: its listener and connections close.
func (p *Phone) Close() {
	p.closeOnce.Do(func() {
		p.conn.Close()
		p.ua.Close()
	})
}

// Addr is where the phone listens ("127.0.0.1:port").
func (p *Phone) Addr() string { return p.addr }

func splitHostPort(a string) (string, int) {
	h, ps, _ := net.SplitHostPort(a)
	n, _ := strconv.Atoi(ps)
	return h, n
}

// CallOptions tune a call.
type CallOptions struct {
	// Headers are added to the INVITE.
	Headers map[string]string
	// NoSDP sends an INVITE without an offer.
	NoSDP bool
	// OnResponse sees each response to the INVITE.
	OnResponse func(code int, body []byte)
}

// Call is a call placed by the phone.
type Call struct {
	p      *Phone
	dlg    *sipgo.DialogClientSession
	rtp    *net.UDPConn
	remote *net.UDPAddr // the far end's RTP address, from its SDP
	// Status is the final response to the INVITE (0 when none came).
	Status int
	// Answer is the SDP of the 2xx.
	Answer []byte

	mu       sync.Mutex
	packets  map[uint8]int
	audio    []byte // payloads of the audio packets, in order
	seq      uint16
	ts       uint32
	ssrc     uint32
	bye      chan struct{}
	byeOnce  sync.Once
	readDone chan struct{}
}

// Call dials number at server ("127.0.0.1:5060") and waits for the final
// response; a 2xx is ACKed. Status holds the code; the error is only for
// transport failures. Close the call (Hangup, or Close) when done.
func (p *Phone) Call(ctx context.Context, server, number string, o CallOptions) (*Call, error) {
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	c := &Call{p: p, rtp: rtp, packets: map[uint8]int{}, bye: make(chan struct{}), readDone: make(chan struct{}),
		ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32()}
	go c.read()
	host, port := splitHostPort(server)
	u := sipmsg.Uri{Scheme: "sip", User: number, Host: host, Port: port}
	if p.network == "tcp" {
		u.UriParams = sipmsg.NewParams()
		u.UriParams.Add("transport", "tcp")
	}
	var hdrs []sipmsg.Header
	for k, v := range o.Headers {
		hdrs = append(hdrs, sipmsg.NewHeader(k, v))
	}
	var body []byte
	if !o.NoSDP {
		body = []byte(c.offer())
		hdrs = append(hdrs, sipmsg.NewHeader("Content-Type", "application/sdp"))
	}
	dlg, err := p.dc.Invite(ctx, u, body, hdrs...)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.dlg = dlg
	p.mu.Lock()
	p.calls[dlg.InviteRequest.CallID().Value()] = c
	p.mu.Unlock()
	err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sipmsg.Response) error {
		if o.OnResponse != nil {
			o.OnResponse(r.StatusCode, r.Body())
		}
		if r.StatusCode == 183 && len(r.Body()) > 0 {
			c.setRemote(r.Body())
		}
		return nil
	}})
	if dlg.InviteResponse != nil {
		c.Status = dlg.InviteResponse.StatusCode
	}
	if de, ok := errors.AsType[*sipgo.ErrDialogResponse](err); ok {
		c.Status = de.Res.StatusCode
		c.Close()
		return c, nil
	}
	if err != nil {
		c.Close()
		return c, err
	}
	c.Answer = dlg.InviteResponse.Body()
	c.setRemote(c.Answer)
	if err := dlg.Ack(ctx); err != nil {
		return c, err
	}
	return c, nil
}

// offer is a PCMU/PCMA + telephone-event offer on the call's RTP port.
func (c *Call) offer() string {
	port := c.rtp.LocalAddr().(*net.UDPAddr).Port
	return "v=0\r\no=siptest " + strconv.Itoa(port) + " 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio " + strconv.Itoa(port) + " RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n"
}

// setRemote reads the far end's RTP address from its SDP.
func (c *Call) setRemote(sdp []byte) {
	var ip string
	var port int
	for _, line := range strings.Split(string(sdp), "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "c=IN IP4 "); ok {
			ip = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "m=audio "); ok {
			port, _ = strconv.Atoi(strings.Fields(v)[0])
		}
	}
	if ip != "" && port > 0 {
		c.mu.Lock()
		c.remote = &net.UDPAddr{IP: net.ParseIP(ip), Port: port}
		c.mu.Unlock()
	}
}

func (c *Call) read() {
	defer close(c.readDone)
	buf := make([]byte, 1500)
	for {
		n, _, err := c.rtp.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if n < 12 || buf[0]>>6 != 2 {
			continue
		}
		pt := buf[1] & 0x7f
		c.mu.Lock()
		c.packets[pt]++
		if pt == 0 || pt == 8 {
			c.audio = append(c.audio, buf[12:n]...)
		}
		c.mu.Unlock()
	}
}

// Packets is how many RTP packets of payload type pt arrived.
func (c *Call) Packets(pt uint8) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.packets[pt]
}

// Audio is the G.711 payload received, in arrival order.
func (c *Call) Audio() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.audio...)
}

// CallID is the call's SIP Call-ID.
func (c *Call) CallID() string { return c.dlg.InviteRequest.CallID().Value() }

// Ended is closed when the far end sends BYE.
func (c *Call) Ended() <-chan struct{} { return c.bye }

func (c *Call) ended() { c.byeOnce.Do(func() { close(c.bye) }) }

// SendDigits sends RFC 4733 events (payload type 101), 100 ms each with
// 50 ms between, paced like a phone.
func (c *Call) SendDigits(digits string) error {
	c.mu.Lock()
	remote := c.remote
	c.mu.Unlock()
	if remote == nil {
		return errors.New("siptest: no remote RTP address")
	}
	for _, d := range digits {
		ev := strings.IndexRune("0123456789*#ABCD", d)
		if ev < 0 {
			return fmt.Errorf("siptest: digit %q", d)
		}
		c.mu.Lock()
		c.ts += 1600
		ts := c.ts
		c.mu.Unlock()
		for i := range 8 {
			end := i >= 5
			dur := uint16(160 * min(i+1, 5))
			payload := []byte{byte(ev), 10, 0, 0}
			if end {
				payload[1] |= 0x80
			}
			binary.BigEndian.PutUint16(payload[2:], dur)
			if err := c.send(101, i == 0, ts, payload, remote); err != nil {
				return err
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// SendAudio sends G.711 µ-law frames of 160 bytes every 20 ms.
func (c *Call) SendAudio(ulaw []byte) error {
	c.mu.Lock()
	remote := c.remote
	c.mu.Unlock()
	if remote == nil {
		return errors.New("siptest: no remote RTP address")
	}
	next := time.Now()
	for i := 0; i+160 <= len(ulaw); i += 160 {
		c.mu.Lock()
		c.ts += 160
		ts := c.ts
		c.mu.Unlock()
		if err := c.send(0, i == 0, ts, ulaw[i:i+160], remote); err != nil {
			return err
		}
		next = next.Add(20 * time.Millisecond)
		time.Sleep(time.Until(next))
	}
	return nil
}

func (c *Call) send(pt uint8, marker bool, ts uint32, payload []byte, to *net.UDPAddr) error {
	c.mu.Lock()
	c.seq++
	seq := c.seq
	c.mu.Unlock()
	b := make([]byte, 12+len(payload))
	b[0] = 0x80
	b[1] = pt
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], c.ssrc)
	copy(b[12:], payload)
	_, err := c.rtp.WriteToUDP(b, to)
	return err
}

// Info sends a digit by SIP INFO (application/dtmf-relay).
func (c *Call) Info(ctx context.Context, digit string) (int, error) {
	req := sipmsg.NewRequest(sipmsg.INFO, c.target())
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/dtmf-relay"))
	req.SetBody([]byte("Signal=" + digit + "\r\nDuration=160\r\n"))
	res, err := c.dlg.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

func (c *Call) target() sipmsg.Uri {
	if ct := c.dlg.InviteResponse.Contact(); ct != nil {
		return ct.Address
	}
	return c.dlg.InviteRequest.Recipient
}

// Hangup sends BYE (when the call was answered and is not over) and
// releases the call.
func (c *Call) Hangup(ctx context.Context) error {
	defer c.Close()
	select {
	case <-c.bye:
		return nil
	default:
	}
	if c.Status < 200 || c.Status >= 300 {
		return nil
	}
	c.ended()
	return c.dlg.Bye(ctx)
}

// Close releases the call's RTP socket.
func (c *Call) Close() {
	c.rtp.Close()
	<-c.readDone
	if c.dlg != nil {
		c.p.mu.Lock()
		delete(c.p.calls, c.dlg.InviteRequest.CallID().Value())
		c.p.mu.Unlock()
	}
}

// Options sends OPTIONS to server and returns the status.
func (p *Phone) Options(ctx context.Context, server string) (int, error) {
	host, port := splitHostPort(server)
	req := sipmsg.NewRequest(sipmsg.OPTIONS, sipmsg.Uri{Scheme: "sip", Host: host, Port: port})
	if p.network == "tcp" {
		req.SetTransport("TCP")
	}
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}
