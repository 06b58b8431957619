package twiml

import (
	"context"
	"encoding/xml"
	"errors"
	"strconv"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/egress"
)

// CodeReferSIP is Twilio's error when <Refer> runs on a call that is not
// a SIP call (or names no SIP target).
const CodeReferSIP = 13801

// Refer asks the caller's SIP endpoint to place the call to Target
// itself (SIP REFER): <Refer action method><Sip>uri</Sip></Refer>.
type Refer struct {
	// Target is the <Sip> URI, trimmed; custom X- headers and
	// User-to-User ride in its query.
	Target    string
	Action    string // may be relative
	ActionSet bool
	Method    string // GET or POST (default)
	Attrs     map[string]string
}

// Name returns "Refer".
func (*Refer) Name() string { return "Refer" }

var referAttrs = nameSet("action", "method")

func (p *parser) refer(se xml.StartElement) (*Refer, error) {
	a := p.attrs("Refer", se, referAttrs)
	v := &Refer{Method: a.method("method", CodeSchema), Attrs: a.m}
	v.Action, v.ActionSet = a.value("action")
	text := func(b []byte) {
		if !isSpace(b) {
			p.warn(CodeSchema, "Refer", "", "text %q in <Refer> ignored (the target goes in <Sip>)", excerpt(b))
		}
	}
	err := p.walk(se, text, func(c xml.StartElement) error {
		if c.Name.Local != "Sip" {
			p.unexpectedChild("Refer", c)
			return p.skip(c)
		}
		n, err := p.noun(c, "sip")
		if err == nil {
			if v.Target != "" {
				p.warn(CodeSchema, "Sip", "", "<Refer> takes one <Sip>; the first is used")
			} else {
				v.Target = n.Value
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if v.Target == "" {
		p.warn(CodeReferSIP, "Refer", "", "<Refer> has no <Sip> target")
	}
	return v, nil
}

// refer runs <Refer>: the REFER and its outcome, traced; the action, when
// set, gets ReferCallStatus, ReferSipResponseCode and
// NotifySipResponseCode, else the next verb runs. A call that is not a
// SIP call cannot be referred (13801): traced, and the action is told
// failed.
func (in *Interpreter) refer(ctx context.Context, v *Refer, base string) (*Request, error) {
	res := call.ReferResult{Status: "failed"}
	r, ok := call.As[call.Referrer](in.Call)
	switch {
	case v.Target == "":
		in.Trace.Add("error", "code", CodeReferSIP, "message", "<Refer> has no <Sip> target", "verb", "Refer")
	case !ok:
		in.Trace.Add("error", "code", CodeReferSIP, "message", "<Refer> needs a SIP call", "verb", "Refer")
	default:
		if err := in.Call.Answer(ctx); err != nil {
			return nil, err
		}
		var err error
		res, err = r.Refer(ctx, call.ReferOptions{Target: v.Target})
		in.Trace.Add("refer", "target", v.Target, "status", res.Status, "refer_code", res.ReferCode, "notify_code", res.NotifyCode)
		if err != nil && ctx.Err() != nil {
			return nil, err
		}
		switch {
		case errors.Is(err, egress.ErrRefused):
			// As for <Dial>: the trace names the policy that stopped it.
			in.Trace.Add("error", "code", "egress_refused", "message", err.Error(), "verb", "Refer")
		case err != nil:
			in.Trace.Add("error", "code", CodeReferSIP, "message", err.Error(), "verb", "Refer")
		}
	}
	if !v.ActionSet {
		return nil, nil
	}
	u, err := in.actionURL(base, v.Action, true, "Refer")
	if err != nil {
		return nil, err
	}
	params := []Param{{Key: "ReferCallStatus", Value: res.Status}}
	if res.ReferCode != 0 {
		params = append(params, Param{Key: "ReferSipResponseCode", Value: strconv.Itoa(res.ReferCode)})
	}
	if res.NotifyCode != 0 {
		params = append(params, Param{Key: "NotifySipResponseCode", Value: strconv.Itoa(res.NotifyCode)})
	}
	return &Request{URL: u, Method: v.Method, Params: params}, nil
}
