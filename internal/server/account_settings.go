package server

import (
	"context"
	"encoding/json"
	"fmt"
)

// What Switchboard uses of an account's other settings (the keys of its
// Kazoo document the API keeps as given): its timezone, for temporal
// routes that name none, and its caller ID, for the phones whose device
// and user set none (Kazoo's device → user → account order). Both are
// read at start and again when the API changes the account.

// accountDefaults is what the server reads of an account's settings.
type accountDefaults struct {
	Timezone string `json:"timezone"`
	CallerID struct {
		Internal cidValue `json:"internal"`
		External cidValue `json:"external"`
	} `json:"caller_id"`
}

type cidValue struct {
	Number string `json:"number"`
	Name   string `json:"name"`
}

// callerID is the account's default caller ID: its internal one, else its
// external one (what its phones present when they set none).
func (d accountDefaults) callerID() (number, name string) {
	if d.CallerID.Internal.Number != "" {
		return d.CallerID.Internal.Number, d.CallerID.Internal.Name
	}
	return d.CallerID.External.Number, d.CallerID.External.Name
}

// readAccountDefaults reads them from stored settings; settings that do
// not decode (the API checked them: not expected) give none.
func readAccountDefaults(raw json.RawMessage) accountDefaults {
	var d accountDefaults
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &d) // a shape the API refused cannot be stored; a wrong one gives zero values
	}
	return d
}

// loadAccountDefaults fills the phone directory with every account's
// default caller ID, at start.
func (s *Server) loadAccountDefaults(ctx context.Context) error {
	accts, err := s.store.ListAccounts(ctx)
	if err != nil {
		return fmt.Errorf("load account settings: %w", err)
	}
	for _, a := range accts {
		raw, err := s.store.AccountSettings(ctx, a.ID)
		if err != nil {
			return fmt.Errorf("load account settings: %w", err)
		}
		number, name := readAccountDefaults(raw).callerID()
		s.phones.setAccountCallerID(a.ID, number, name)
	}
	return nil
}

// accountChanged is told by the API of an account whose auth token or
// settings changed: the call path's cached account and the phone
// directory's caller ID are read again, from one read of the store.
func (s *Server) accountChanged(ctx context.Context, accountID string) {
	d, ok := s.calls.refresh(ctx, accountID)
	if !ok {
		return
	}
	number, name := d.callerID()
	s.phones.setAccountCallerID(accountID, number, name)
}
