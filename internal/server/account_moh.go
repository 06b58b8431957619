package server

import (
	"context"

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

// ReplaceAccount sets an account's name and music on hold in one write
// (api.AccountReplacer: Kazoo's POST /v2/accounts/{id}).
func (s *Server) ReplaceAccount(ctx context.Context, accountID, name, mediaID string) (store.Account, error) {
	return s.egressDB.ReplaceAccount(ctx, accountID, name, mediaID)
}
