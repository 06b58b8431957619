package actions

import (
	"context"
	"sync"
	"time"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/pivot"
)

// params builds a request's parameters: the user variables first, then the
// call's base parameters over them (Kazoo's precedence), then the verb's
// callback parameters.
func (s *session) params(extra pivot.Params) pivot.Params {
	return s.paramsInto(nil, extra)
}

// paramsInto is params appended to into[:0] when it has room for them.
func (s *session) paramsInto(into, extra pivot.Params) pivot.Params {
	x := s.x
	info := x.Call.Info()
	status := "ringing"
	if x.Documents() > 1 || x.Call.Answered() {
		status = "in-progress"
	}
	// The caller id as set_cid / prepend_cid left it (info's when unset).
	cidNumber, cidName := x.Vars.CallerID(info)
	vars := x.Vars.All()
	digits := x.Vars.Digits()
	// Sized for the base parameters, so that appending never copies them.
	ps := into[:0]
	if n := len(vars) + len(digits) + len(extra) + 20; cap(ps) < n {
		ps = make(pivot.Params, 0, n)
	}
	if s.format == "kazoo" {
		if len(vars) > 0 {
			cav := map[string]any{}
			for _, kv := range vars {
				cav[kv[0]] = kv[1]
			}
			ps = append(ps, pivot.Param{Key: "Custom-Application-Vars", Value: cav})
		}
		ps = append(ps,
			pivot.Param{Key: "Account-ID", Value: info.AccountID},
			pivot.Param{Key: "Api-Version", Value: "4.x"},
			pivot.Param{Key: "Call-ID", Value: info.ID},
			pivot.Param{Key: "Call-Status", Value: status},
			pivot.Param{Key: "Caller-ID-Name", Value: nonEmpty(cidName, cidNumber)},
			pivot.Param{Key: "Caller-ID-Number", Value: cidNumber},
			pivot.Param{Key: "Direction", Value: "inbound"},
			pivot.Param{Key: "From", Value: info.From},
			pivot.Param{Key: "From-Realm", Value: info.FromRealm},
			pivot.Param{Key: "Language", Value: x.Vars.Language("en-US")},
			pivot.Param{Key: "Request", Value: info.Request},
			pivot.Param{Key: "Request-Realm", Value: info.ToRealm},
			pivot.Param{Key: "To", Value: nonEmpty(info.To, info.Request)},
			pivot.Param{Key: "To-Realm", Value: info.ToRealm},
		)
		if len(info.SIPHeaders) > 0 {
			h := map[string]any{}
			for k, v := range info.SIPHeaders {
				h[k] = v
			}
			ps = append(ps, pivot.Param{Key: "Custom-SIP-Headers", Value: h})
		}
		if len(digits) > 0 {
			d := map[string]any{}
			for k, v := range digits {
				d[k] = v
			}
			ps = append(ps, pivot.Param{Key: "Digits", Value: d})
		}
		return append(ps, kazooNames(extra)...)
	}
	for _, kv := range vars {
		ps = append(ps, pivot.Param{Key: kv[0], Value: kv[1]})
	}
	from, to := cidNumber, nonEmpty(info.To, info.Request)
	ps = append(ps,
		pivot.Param{Key: "CallSid", Value: info.ID},
		pivot.Param{Key: "AccountSid", Value: call.AccountSid(info.AccountID)},
		pivot.Param{Key: "From", Value: from},
		pivot.Param{Key: "To", Value: to},
		pivot.Param{Key: "Caller", Value: from},
		pivot.Param{Key: "Called", Value: to},
		pivot.Param{Key: "CallerName", Value: cidName},
		pivot.Param{Key: "CallStatus", Value: status},
		pivot.Param{Key: "ApiVersion", Value: "2010-04-01"},
		pivot.Param{Key: "Direction", Value: "inbound"},
		pivot.Param{Key: "FromCity", Value: ""}, pivot.Param{Key: "FromState", Value: ""},
		pivot.Param{Key: "FromZip", Value: ""}, pivot.Param{Key: "FromCountry", Value: ""},
		pivot.Param{Key: "ToCity", Value: ""}, pivot.Param{Key: "ToState", Value: ""},
		pivot.Param{Key: "ToZip", Value: ""}, pivot.Param{Key: "ToCountry", Value: ""},
	)
	if info.SIPCallID != "" {
		ps = append(ps, pivot.Param{Key: "SipCallId", Value: info.SIPCallID})
	}
	if d, ok := digits["default"]; ok && !hasKey(extra, "Digits") {
		ps = append(ps, pivot.Param{Key: "Digits", Value: d})
	}
	for name, d := range digits {
		if name != "default" {
			ps = append(ps, pivot.Param{Key: "Digits[" + name + "]", Value: d})
		}
	}
	return append(ps, extra...)
}

// paramBufs keeps the parameter lists of finished requests for the next
// ones: a list lives only while its request is sent and traced (the trace
// keeps its values, not the list).
var paramBufs = sync.Pool{New: func() any { b := make(pivot.Params, 0, 32); return &b }}

// maxPooledParams bounds the parameters a pooled list keeps.
const maxPooledParams = 256

// putParams gives ps's list back to paramBufs, holding no values.
func putParams(b *pivot.Params, ps pivot.Params) {
	if cap(ps) > maxPooledParams {
		return
	}
	clear(ps[:cap(ps)])
	*b = ps[:0]
	paramBufs.Put(b)
}

// kazooNames renames TwiML callback parameters for the kazoo format
// (Digits stays Digits; RecordingUrl becomes Recording-Url …).
func kazooNames(extra pivot.Params) pivot.Params {
	names := map[string]string{
		"RecordingUrl": "Recording-Url", "RecordingDuration": "Recording-Duration", "RecordingSid": "Recording-ID",
		"DialCallStatus": "Dial-Call-Status", "DialSipCallId": "Dial-Call-ID", "DialCallDuration": "Dial-Call-Duration",
		"QueueResult": "Queue-Result", "QueueSid": "Queue-ID", "QueueTime": "Queue-Time",
		"ErrorCode": "Error-Code", "ErrorUrl": "Error-Url",
	}
	out := make(pivot.Params, 0, len(extra))
	for _, p := range extra {
		if p.Key == "FinishedOnKey" || p.Key == "DialBridged" || p.Key == "DialCallSid" {
			continue // TwiML-only details Kazoo's format never carried (its Dial-Call-ID is the leg's Call-ID)
		}
		if n, ok := names[p.Key]; ok {
			p.Key = n
		}
		out = append(out, p)
	}
	return out
}

func hasKey(ps pivot.Params, key string) bool {
	for _, p := range ps {
		if p.Key == key {
			return true
		}
	}
	return false
}

func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// paramsObject is the trace's view of what was sent: key → value, later
// keys over earlier ones, as the request encodes them.
func paramsObject(ps pivot.Params) map[string]any {
	out := make(map[string]any, len(ps))
	for _, p := range ps {
		if p.Value != nil {
			out[p.Key] = p.Value
		}
	}
	return out
}

// postCDR sends the call's detail record to cdr_url once the call ended (a
// form POST, as Kazoo); the answer is ignored, the exchange is logged.
func (s *session) postCDR(ctx context.Context, res engine.Result) {
	x := s.x
	info := x.Call.Info()
	end := x.Now()
	ps := pivot.Params{
		{Key: "CallSid", Value: info.ID}, {Key: "Call-ID", Value: info.ID},
		{Key: "AccountSid", Value: call.AccountSid(info.AccountID)}, {Key: "Account-ID", Value: info.AccountID},
		{Key: "From", Value: info.From}, {Key: "To", Value: nonEmpty(info.To, info.Request)},
		{Key: "Request", Value: info.Request},
		{Key: "CallStatus", Value: "completed"},
		{Key: "CallDuration", Value: int(end.Sub(x.Trace.Start()).Seconds())},
		{Key: "Hangup-Cause", Value: res.Cause}, {Key: "HangupBy", Value: res.By},
		{Key: "Timestamp", Value: end.UTC().Format(time.RFC1123Z)},
		{Key: "Direction", Value: "inbound"},
	}
	_, ex, err := s.deps.Webhooks.Do(asAccount(ctx, x), pivot.Request{
		URL: s.p.CDRURL, Method: "POST", BodyFormat: "form", Params: ps, Timeout: 5 * time.Second,
		SigningKey: x.Account.SigningSecret, SwitchboardKey: x.Account.SigningSecret,
	})
	if err != nil {
		x.Log.Warn("cdr post failed", "url", ex.URL, "err", err)
	}
	s.deps.logWebhook(ctx, x.Log, info, ex, 0)
}
