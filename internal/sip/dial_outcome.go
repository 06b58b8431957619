package sip

// codeCauses name the hangup cause of a final SIP response to an
// outbound leg, as RFC 3398 §8.2.6.1 maps SIP responses to ISUP causes
// (the Q.850 names FreeSWITCH and Kazoo use): Kazoo's bridges branch on
// the cause first ("USER_BUSY"), then on the code ("sip:486").
var codeCauses = map[int]string{
	400: "NORMAL_TEMPORARY_FAILURE",
	401: "CALL_REJECTED",
	402: "CALL_REJECTED",
	403: "CALL_REJECTED",
	404: "UNALLOCATED_NUMBER",
	405: "SERVICE_UNAVAILABLE",
	406: "SERVICE_NOT_IMPLEMENTED",
	407: "CALL_REJECTED",
	408: "RECOVERY_ON_TIMER_EXPIRE",
	410: "NUMBER_CHANGED",
	413: "INTERWORKING",
	414: "INTERWORKING",
	415: "SERVICE_NOT_IMPLEMENTED",
	416: "INTERWORKING",
	420: "INTERWORKING",
	421: "INTERWORKING",
	423: "INTERWORKING",
	480: "NO_USER_RESPONSE",
	481: "NORMAL_TEMPORARY_FAILURE",
	482: "EXCHANGE_ROUTING_ERROR",
	483: "EXCHANGE_ROUTING_ERROR",
	484: "INVALID_NUMBER_FORMAT",
	485: "NO_ROUTE_DESTINATION",
	486: "USER_BUSY",
	487: "ORIGINATOR_CANCEL",
	488: "INCOMPATIBLE_DESTINATION",
	500: "NORMAL_TEMPORARY_FAILURE",
	501: "SERVICE_NOT_IMPLEMENTED",
	502: "NETWORK_OUT_OF_ORDER",
	503: "NORMAL_TEMPORARY_FAILURE",
	504: "RECOVERY_ON_TIMER_EXPIRE",
	505: "INTERWORKING",
	513: "INTERWORKING",
	600: "USER_BUSY",
	603: "CALL_REJECTED",
	604: "UNALLOCATED_NUMBER",
	606: "INCOMPATIBLE_DESTINATION",
}

// codeCause is the hangup cause of a final response code; a code the
// table does not name gets its class's (RFC 3398: 4xx and 6xx refused,
// 5xx a temporary failure).
func codeCause(code int) string {
	if c, ok := codeCauses[code]; ok {
		return c
	}
	if code >= 500 && code < 600 {
		return "NORMAL_TEMPORARY_FAILURE"
	}
	return "CALL_REJECTED"
}

// dialStatus is the TwiML DialCallStatus of a final response code to a
// leg that did not answer (487 is the caller's or the ring timeout's
// CANCEL: failure decides).
func dialStatus(code int) string {
	switch code {
	case 486, 600:
		return "busy"
	case 408, 480:
		return "no-answer"
	case 487:
		return "canceled"
	}
	return "failed"
}
