package server

import (
	"context"
	"encoding/json"

	"github.com/switchboard/switchboard/internal/api"
	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/store"
)

// An account's music on hold is read from the store when a call is put on
// hold (a rare event; no index to keep in step), so a change applies to
// the next hold at once.

var (
	_ api.AccountMusic    = (*Server)(nil)
	_ api.AccountReplacer = (*Server)(nil)
	_ sip.AccountMusic    = (*Server)(nil)
)

// AccountMusicOnHold is an account's music on hold media id, "" when none
// (api.AccountMusic, sip.AccountMusic).
func (s *Server) AccountMusicOnHold(ctx context.Context, accountID string) (string, error) {
	return s.egressDB.AccountMusicOnHold(ctx, accountID)
}

// SetAccountMusicOnHold stores an account's music on hold media id, ""
// removing it (api.AccountMusic); the API checked the media is the
// account's.
func (s *Server) SetAccountMusicOnHold(ctx context.Context, accountID, mediaID string) error {
	return s.egressDB.SetAccountMusicOnHold(ctx, accountID, mediaID)
}

// ReplaceAccount sets an account's name, music on hold and other
// settings in one write (api.AccountReplacer: Kazoo's POST
// /v2/accounts/{id}).
func (s *Server) ReplaceAccount(ctx context.Context, accountID, name, mediaID string, settings json.RawMessage) (store.Account, error) {
	return s.egressDB.ReplaceAccount(ctx, accountID, name, mediaID, settings)
}

// AccountSettings are the other keys of an account's document
// (api.AccountSettings).
func (s *Server) AccountSettings(ctx context.Context, accountID string) (json.RawMessage, error) {
	return s.egressDB.AccountSettings(ctx, accountID)
}

// PatchAccount renames an account and updates its other keys in one write
// (api.AccountSettings: Kazoo's PATCH /v2/accounts/{id}).
func (s *Server) PatchAccount(ctx context.Context, accountID, name string, fn func(old json.RawMessage) (json.RawMessage, error)) error {
	return s.egressDB.PatchAccount(ctx, accountID, name, fn)
}
