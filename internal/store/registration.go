package store

import "time"

// Registration is one contact a registered device bound (RFC 3261 §10):
// kept in the call log database so phones stay reachable across a
// restart, until their binding expires.
type Registration struct {
	AccountID string    `json:"account_id"`
	DeviceID  string    `json:"device_id"`
	OwnerID   string    `json:"owner_id,omitempty"`
	Username  string    `json:"username"`
	Realm     string    `json:"realm"`
	Contact   string    `json:"contact"`              // the Contact URI as the phone sent it
	Source    string    `json:"source"`               // the address it registered from (received/rport)
	Transport string    `json:"transport"`            // udp, tcp, tls
	CallID    string    `json:"call_id"`              // the REGISTER's Call-ID
	CSeq      uint32    `json:"cseq"`                 // its CSeq, to ignore reordered requests
	UserAgent string    `json:"user_agent,omitempty"` // the phone's User-Agent
	Expires   time.Time `json:"expires"`              // when the binding lapses
	Updated   time.Time `json:"updated"`              // the last REGISTER that refreshed it
}
