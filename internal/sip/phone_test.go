package sip_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/sip/siptest"
)

// phone is a SIP user agent for tests, on sipgo: it places calls with
// DialogUA and answers BYEs; as a callee it runs its hooks.
type phone struct {
	t       testing.TB
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	dc      *sipgo.DialogClientCache
	addr    string // host:port it listens on
	network string
	contact sipmsg.ContactHeader
	byes    chan *sipmsg.Request
	hooks   atomic.Pointer[hooks]
}

// hooks replace the phone's default handling of requests.
type hooks struct {
	invite, ack, bye, notify, refer func(req *sipmsg.Request, tx sipmsg.ServerTransaction)
}

func newPhone(t testing.TB, network string) *phone {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("phone"))
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{t: t, ua: ua, network: network, byes: make(chan *sipmsg.Request, 100)}
	p.srv, _ = sipgo.NewServer(ua)
	addr, conn, serve := siptest.Listen(t, p.srv, network)
	t.Cleanup(func() { conn.Close() })
	host, port := splitAddr(addr)
	p.addr = addr
	p.cli, _ = sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientPort(port))
	p.contact = sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: "phone", Host: host, Port: port}}
	if network == "tcp" {
		p.contact.Address.UriParams = sipmsg.NewParams()
		p.contact.Address.UriParams.Add("transport", "tcp")
	}
	p.dc = sipgo.NewDialogClientCache(p.cli, p.contact)
	p.srv.OnBye(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if h := p.hooks.Load(); h != nil && h.bye != nil {
			h.bye(req, tx)
			return
		}
		p.byes <- req
		if err := p.dc.ReadBye(req, tx); err != nil {
			tx.Respond(sipmsg.NewResponseFromRequest(req, 200, "OK", nil))
		}
	})
	p.srv.OnInvite(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if h := p.hooks.Load(); h != nil && h.invite != nil {
			h.invite(req, tx)
			return
		}
		tx.Respond(sipmsg.NewResponseFromRequest(req, 486, "Busy Here", nil))
	})
	p.srv.OnAck(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if h := p.hooks.Load(); h != nil && h.ack != nil {
			h.ack(req, tx)
		}
	})
	p.srv.OnNotify(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if h := p.hooks.Load(); h != nil && h.notify != nil {
			h.notify(req, tx)
			return
		}
		tx.Respond(sipmsg.NewResponseFromRequest(req, 481, "No Subscription", nil))
	})
	p.srv.OnRefer(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if h := p.hooks.Load(); h != nil && h.refer != nil {
			h.refer(req, tx)
			return
		}
		tx.Respond(sipmsg.NewResponseFromRequest(req, 603, "Decline", nil))
	})
	go serve() // handlers are set: serve
	t.Cleanup(func() { ua.Close() })
	return p
}

func splitAddr(a string) (string, int) {
	h, p, _ := net.SplitHostPort(a)
	n, _ := strconv.Atoi(p)
	return h, n
}

const offer = "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"

// holdOffer is offer with the far end on hold.
var holdOffer = strings.Replace(offer, "t=0 0\r\n", "t=0 0\r\na=sendonly\r\n", 1)

// uri is sip:user@server, over the phone's transport.
func (p *phone) uri(server, user string) sipmsg.Uri {
	host, port := splitAddr(server)
	u := sipmsg.Uri{Scheme: "sip", User: user, Host: host, Port: port}
	if p.network == "tcp" {
		u.UriParams = sipmsg.NewParams()
		u.UriParams.Add("transport", "tcp")
	}
	return u
}

// invite starts a call to number at the server; the dialog is returned
// before the answer (WaitAnswer follows).
func (p *phone) invite(ctx context.Context, server, number string, body string, hdrs ...sipmsg.Header) (*sipgo.DialogClientSession, error) {
	var b []byte
	if body != "" {
		b = []byte(body)
		hdrs = append(hdrs, sipmsg.NewHeader("Content-Type", "application/sdp"))
	}
	return p.dc.Invite(ctx, p.uri(server, number), b, hdrs...)
}

// mustInvite is invite failing the test when the INVITE cannot be sent.
func (p *phone) mustInvite(ctx context.Context, server, number string, body string, hdrs ...sipmsg.Header) *sipgo.DialogClientSession {
	p.t.Helper()
	d, err := p.invite(ctx, server, number, body, hdrs...)
	if err != nil {
		p.t.Fatalf("INVITE %s: %v", number, err)
	}
	return d
}

// call places a call and waits for the final answer; for a 2xx it ACKs.
func (p *phone) call(ctx context.Context, server, number string, hdrs ...sipmsg.Header) (*sipgo.DialogClientSession, int, error) {
	d, err := p.invite(ctx, server, number, offer, hdrs...)
	if err != nil {
		return nil, 0, err
	}
	err = d.WaitAnswer(ctx, sipgo.AnswerOptions{})
	if de, ok := errors.AsType[*sipgo.ErrDialogResponse](err); ok {
		return d, de.Res.StatusCode, nil
	}
	if err != nil {
		return d, 0, err
	}
	return d, 200, d.Ack(ctx)
}

// unacked places a call and waits for its 2xx, which it leaves
// unacknowledged.
func (p *phone) unacked(ctx context.Context, server, number string) *sipgo.DialogClientSession {
	p.t.Helper()
	d := p.mustInvite(ctx, server, number, offer)
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		p.t.Fatalf("call %s: %v", number, err)
	}
	return d
}

// answered is call expecting a 200.
func (p *phone) answered(ctx context.Context, server, number string, hdrs ...sipmsg.Header) *sipgo.DialogClientSession {
	p.t.Helper()
	d, code, err := p.call(ctx, server, number, hdrs...)
	if err != nil || code != 200 {
		p.t.Fatalf("call %s over %s: %d %v", number, p.network, code, err)
	}
	return d
}

// awaitBye waits for the BYE of the server.
func (p *phone) awaitBye(what string) *sipmsg.Request {
	p.t.Helper()
	select {
	case bye := <-p.byes:
		return bye
	case <-time.After(5 * time.Second):
		p.t.Fatalf("%s: no BYE", what)
	}
	return nil
}

// dialogDoer sends requests in a dialog: either side's sipgo session.
type dialogDoer interface {
	Do(ctx context.Context, req *sipmsg.Request) (*sipmsg.Response, error)
}

// inDialog sends method with an SDP body (none when empty) in the dialog
// to target and returns the final response.
func inDialog(ctx context.Context, t testing.TB, d dialogDoer, target sipmsg.Uri, method sipmsg.RequestMethod, body, contentType string) (*sipmsg.Request, *sipmsg.Response) {
	t.Helper()
	req := sipmsg.NewRequest(method, target)
	if body != "" {
		req.AppendHeader(sipmsg.NewHeader("Content-Type", contentType))
		req.SetBody([]byte(body))
	}
	res, err := d.Do(ctx, req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return req, res
}

// ack acknowledges the 2xx res to a re-INVITE to target, as a UAC does.
func (p *phone) ack(target sipmsg.Uri, res *sipmsg.Response) {
	p.t.Helper()
	ack := sipmsg.NewRequest(sipmsg.ACK, target)
	ack.AppendHeader(sipmsg.HeaderClone(res.From()))
	ack.AppendHeader(sipmsg.HeaderClone(res.To()))
	ack.AppendHeader(sipmsg.HeaderClone(res.CallID()))
	ack.AppendHeader(&sipmsg.CSeqHeader{SeqNo: res.CSeq().SeqNo, MethodName: sipmsg.ACK})
	if err := p.cli.WriteRequest(ack); err != nil {
		p.t.Fatal(err)
	}
}

// resend sends a copy of req, a request already sent in a dialog, as a
// new transaction with CSeq seq.
func (p *phone) resend(ctx context.Context, req *sipmsg.Request, seq uint32) *sipmsg.Response {
	p.t.Helper()
	again := req.Clone()
	again.RemoveHeader("Via")
	again.CSeq().SeqNo = seq
	res, err := p.cli.Do(ctx, again)
	if err != nil {
		p.t.Fatalf("%s again: %v", req.Method, err)
	}
	return res
}

// testCtx is the test's context, ended after d.
func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// dialNumber is the number whose flow dials the phone p.
func dialNumber(p *phone) string {
	_, port := splitAddr(p.addr)
	return "dial-" + strconv.Itoa(port)
}
