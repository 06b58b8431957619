package sip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
)

// referTimeout bounds the wait for a REFER's outcome: the far end rings
// its target meanwhile.
const referTimeout = 60 * time.Second

// referWait receives the sipfrag statuses of the NOTIFYs that answer a
// REFER we sent in a dialog.
type referWait struct{ notes chan int }

var _ call.Referrer = (*inLeg)(nil)

// Refer is call.Referrer: REFER in the caller's dialog asking it to call
// o.Target, then the statuses of its NOTIFYs until a final one, the time
// out (no-answer), or the end of ctx. The call is answered first.
func (l *inLeg) Refer(ctx context.Context, o call.ReferOptions) (call.ReferResult, error) {
	res := call.ReferResult{Status: "failed"}
	target, err := referTarget(o.Target)
	if err != nil {
		return res, err
	}
	if err := l.referAllowed(ctx, target); err != nil {
		l.log.Warn("refer refused", "target", target, "err", err)
		return res, err
	}
	if err := l.Answer(ctx); err != nil {
		return res, err
	}
	w := &referWait{notes: make(chan int, 8)}
	if _, busy := l.s.refers.LoadOrStore(l.id, w); busy {
		return res, errors.New("refer: another REFER is under way")
	}
	defer l.s.refers.CompareAndDelete(l.id, w)
	req := l.newRequest(sipmsg.REFER)
	req.AppendHeader(sipmsg.NewHeader("Refer-To", "<"+target+">"))
	if f, ok := l.from.(*sipmsg.FromHeader); ok {
		req.AppendHeader(sipmsg.NewHeader("Referred-By", "<"+f.Address.String()+">"))
	}
	rctx, cancel := context.WithTimeout(ctx, referTimeout)
	defer cancel()
	r, err := l.s.do(rctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return res, fmt.Errorf("refer: %w", context.Cause(ctx))
		}
		l.log.Info("refer not answered", "err", err)
		return res, nil
	}
	res.ReferCode = r.StatusCode
	if r.StatusCode >= 300 {
		l.log.Info("refer refused", "code", r.StatusCode)
		return res, nil
	}
	for {
		select {
		case code := <-w.notes:
			res.NotifyCode = code
			if code >= 200 {
				res.Status = referStatus(code)
				return res, nil
			}
		case <-rctx.Done():
			if ctx.Err() != nil {
				return res, fmt.Errorf("refer: %w", context.Cause(ctx))
			}
			res.Status = "no-answer"
			return res, nil
		}
	}
}

// referAllowed checks a REFER's target against the account's egress
// policy as a <Dial><Sip> to it would be checked, before the REFER goes
// out: the far end would place that call on our word (toll fraud through
// a webhook answer naming any host).
func (l *inLeg) referAllowed(ctx context.Context, target string) error {
	raw, _, _ := strings.Cut(target, "?")
	var u sipmsg.Uri
	if err := sipmsg.ParseUri(raw, &u); err != nil {
		return fmt.Errorf("refer: target %q: %w", raw, err)
	}
	if _, err := l.s.destination(ctx, l.info.AccountID, call.Target{Kind: "sip", Value: raw}, u); err != nil {
		return fmt.Errorf("refer: %w", err)
	}
	return nil
}

// referStatus is ReferCallStatus for a final sipfrag status.
func referStatus(code int) string {
	switch {
	case code < 300:
		return "in-progress"
	case code == 486 || code == 600:
		return "busy"
	case code == 408 || code == 480:
		return "no-answer"
	case code == 487:
		return "canceled"
	}
	return "failed"
}

// referTarget checks a <Refer> target: a sip: or sips: URI whose headers
// are name=value pairs, with nothing that could break out of the
// Refer-To header.
func referTarget(v string) (string, error) {
	v = strings.TrimSpace(v)
	if strings.ContainsAny(v, "<>\"\r\n \t") {
		return "", fmt.Errorf("refer: target %q: characters not allowed in a URI", v)
	}
	raw, query, _ := strings.Cut(v, "?")
	var u sipmsg.Uri
	if err := sipmsg.ParseUri(raw, &u); err != nil || u.Host == "" {
		return "", fmt.Errorf("refer: target %q: not a SIP URI", v)
	}
	if s := strings.ToLower(u.Scheme); s != "sip" && s != "sips" {
		return "", fmt.Errorf("refer: target %q: scheme %s is not sip", v, u.Scheme)
	}
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			if k, _, ok := strings.Cut(kv, "="); !ok || !isToken(k) {
				return "", fmt.Errorf("refer: target %q: bad URI header %q", v, kv)
			}
		}
		return raw + "?" + query, nil
	}
	return raw, nil
}

// readNotify takes a NOTIFY in a dialog where we sent a REFER: its
// sipfrag status goes to the waiting Refer. Any other gets 481.
func (d *dialog) readNotify(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	d.mu.Lock()
	ok := d.inSequenceLocked(req)
	d.mu.Unlock()
	if !ok {
		d.s.refuse(tx, req, refuseOutOfOrder)
		return
	}
	v, waiting := d.s.refers.Load(d.id)
	event := ""
	if h := req.GetHeader("Event"); h != nil {
		event, _, _ = strings.Cut(h.Value(), ";")
	} else if h := req.GetHeader("o"); h != nil {
		event, _, _ = strings.Cut(h.Value(), ";")
	}
	if !waiting || !strings.EqualFold(strings.TrimSpace(event), "refer") {
		d.s.respond(tx, req, 481, "Subscription Does Not Exist")
		return
	}
	code := sipfragStatus(req.Body())
	if code == 0 {
		d.s.respond(tx, req, 400, "Bad Sipfrag")
		return
	}
	d.s.respond(tx, req, 200, "OK")
	d.log.Debug("refer progress", "status", code)
	select {
	case v.(*referWait).notes <- code:
	default:
	}
}

// sipfragStatus reads the status code of a message/sipfrag body ("SIP/2.0
// 180 Ringing"); 0 when it is none.
func sipfragStatus(body []byte) int {
	line, _, _ := strings.Cut(string(body), "\n")
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(strings.ToUpper(f[0]), "SIP/") {
		return 0
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 100 || n > 699 {
		return 0
	}
	return n
}
