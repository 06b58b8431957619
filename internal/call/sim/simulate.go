package sim

import (
	"errors"
	"time"
)

// SimulateOptions are one simulated call's caller and script, as the API's
// POST …/simulate body and `switchboard simulate` give them. It lives here,
// beside Script, so the API (which decodes it) and the server (which runs
// it) share one type without importing each other. The JSON tags are the
// API's field names; the type's name shows in the API's decoding errors.
type SimulateOptions struct {
	// AccountID is the account whose call flows route To; the default
	// account when empty. The API sets it from the token, never the body.
	AccountID string `json:"-"`
	// To is the dialled number.
	To string `json:"to"`
	// From is the caller's number; +15555550100 when empty.
	From string `json:"from,omitempty"`
	// CallerName is the caller's name.
	CallerName string `json:"caller_name,omitempty"`
	// Inputs and Dials are the Script.
	Inputs []string `json:"inputs,omitempty"`
	Dials  []string `json:"dials,omitempty"`
	// At is when the simulated call happens (RFC 3339), for time-of-day
	// rules; now when zero.
	At time.Time `json:"at,omitzero"`
}

// Script is the caller's part of the options.
func (o SimulateOptions) Script() Script { return Script{Inputs: o.Inputs, Dials: o.Dials} }

// Errors a simulation fails with before any call runs, wrapped with what
// was asked, so the API can tell a number that routes nowhere (404) and a
// script the caller cannot follow (400) from a failure of ours (500).
var (
	// ErrNoRoute: no call flow of the account handles the dialled number.
	// Wrapped as "no call flow of account A handles "N"".
	ErrNoRoute = errors.New("no call flow")
	// ErrBadScript: an input is not keys or "hangup", or a dial outcome is
	// unknown. Wrapped as "script: <what is wrong>".
	ErrBadScript = errors.New("script")
)
