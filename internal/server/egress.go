package server

import (
	"context"
	"fmt"
	"maps"
	"net/netip"

	"github.com/switchboard/switchboard/internal/egress"
	"github.com/switchboard/switchboard/internal/store/sqlite"
)

// initEgress builds the egress policy: the operator's networks
// (--webhook-allow), the default account as the one that may reach
// anything, and each account's networks as stored (PATCH of an account's
// egress_allow), so that a restart keeps what the operator set.
func (s *Server) initEgress(ctx context.Context, db *sqlite.DB) error {
	cfg := s.cfg.Egress
	if cfg.DefaultAccount == "" {
		cfg.DefaultAccount = s.bootstrap.AccountID
	}
	accounts := maps.Clone(cfg.Accounts)
	if accounts == nil {
		accounts = map[string][]netip.Prefix{}
	}
	stored, err := db.AccountEgress(ctx)
	if err != nil {
		return fmt.Errorf("egress: %w", err)
	}
	for id, list := range stored {
		nets, err := egress.ParsePrefixes(list)
		if err != nil {
			s.log.Warn("stored egress networks not usable", "account_id", id, "err", err)
			continue
		}
		accounts[id] = append(accounts[id], nets...)
	}
	cfg.Accounts = accounts
	s.egress = egress.New(cfg)
	return nil
}

// Egress is the policy outbound requests and calls go through.
func (s *Server) Egress() *egress.Policy { return s.egress }
