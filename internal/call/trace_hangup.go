package call

// Who ended a call: the "by" field of the trace's hangup line.
const (
	HangupBySwitchboard = "switchboard" // the engine called Hangup
	HangupByCaller      = "caller"      // the caller hung up
	HangupByCallee      = "callee"      // the other party of a bridge hung up
)

// RecordCallerHangup writes the hangup line for a call the caller ended
// ("by": "caller"). The engine calls it when context.Cause(ctx) is
// ErrHangup; Traced has already marked the interrupted operation. As with
// every hangup line, nothing is recorded after it.
func RecordCallerHangup(t *Trace, cause string) {
	if cause == "" {
		cause = "NORMAL_CLEARING"
	}
	t.AddStrings("hangup", "cause", cause, "by", HangupByCaller)
}
