package call

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Twilio's identifiers are a two-letter kind and 32 hex digits. Apps
// check the prefixes (CA…, AC…, RE…) and store them in columns sized for
// them, so Switchboard hands out the same shapes.

// NewCallSid returns a fresh CallSid ("CA" + 32 random hex digits): the
// call's id in the trace, the call log, the API and every webhook. The
// SIP Call-ID is kept apart (Info.SIPCallID) because it is chosen by the
// caller, may hold '@' and is not unique across trunks.
func NewCallSid() string {
	var r [16]byte
	_, _ = rand.Read(r[:]) // never fails (crypto/rand since Go 1.24)
	var b [34]byte         // one allocation, the string, not two
	b[0], b[1] = 'C', 'A'
	hex.Encode(b[2:], r[:])
	return string(b[:])
}

// AccountSid is an account's Twilio-shaped id ("AC" + 32 hex), derived
// stably from its Switchboard id so that it never changes and needs no
// storage: an id that already is 32 lower-case hex digits is used as
// is, any other is hashed.
func AccountSid(accountID string) string {
	if accountID == "" {
		return ""
	}
	if isHex32(accountID) {
		return "AC" + accountID
	}
	return "AC" + hash32(accountID)
}

// RecordingSid is a recording's Twilio-shaped id ("RE" + 32 hex),
// derived stably from the account and the recording's file name, so the
// action request, the status callback and the API agree without a table.
func RecordingSid(accountID, file string) string {
	if file == "" {
		return ""
	}
	file = strings.TrimSuffix(strings.TrimSuffix(file, ".wav"), ".mp3")
	return "RE" + hash32(accountID+"/"+file)
}

// LegSid is the Twilio-shaped id ("CA" + 32 hex) of a leg Switchboard
// placed (Dial's DialCallSid), derived stably from the leg's SIP Call-ID
// so that a whisper document's request and the Dial's action name the
// same leg without a table; the Call-ID itself stays visible beside it
// (DialSipCallId, the trace's call_id). An id that already is a CallSid
// is kept.
func LegSid(legCallID string) string {
	switch {
	case legCallID == "":
		return ""
	case strings.HasPrefix(legCallID, "CA") && isHex32(legCallID[2:]):
		return legCallID
	}
	return "CA" + hash32("leg/"+legCallID)
}

func hash32(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

func isHex32(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
