package server

import (
	"context"
	"fmt"
	"maps"
	"net"
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
	if cfg.Self == nil {
		cfg.Self = s.selfAddrs()
	}
	s.egress = egress.New(cfg)
	s.egressDB = db
	return nil
}

// Egress is the policy outbound requests and calls go through.
func (s *Server) Egress() *egress.Policy { return s.egress }

// Operator is the account that may change egress settings: the default
// account (api.EgressSettings).
func (s *Server) Operator() string { return s.bootstrap.AccountID }

// SetAccountEgress stores an account's extra networks and applies them to
// the live policy (api.EgressSettings), so the next request already goes
// under them.
func (s *Server) SetAccountEgress(ctx context.Context, accountID string, allow []string) error {
	nets, err := egress.ParsePrefixes(allow)
	if err != nil {
		return fmt.Errorf("egress_allow: %w", err)
	}
	if err := s.egressDB.SetAccountEgress(ctx, accountID, allow); err != nil {
		return err
	}
	s.egress.SetAccount(accountID, nets)
	return nil
}

// selfAddrs are this host's public addresses (its interfaces and
// --public-ip), which tenants' webhooks may not reach: the server's own
// API listens there. Private ones are refused to tenants anyway.
func (s *Server) selfAddrs() []netip.Prefix {
	var out []netip.Prefix
	add := func(a netip.Addr) {
		if a = a.Unmap(); egress.Public(a) {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	if ifs, err := net.InterfaceAddrs(); err == nil {
		for _, ia := range ifs {
			if n, ok := ia.(*net.IPNet); ok {
				if a, ok := netip.AddrFromSlice(n.IP); ok {
					add(a)
				}
			}
		}
	} else {
		s.log.Warn("interface addresses unknown; the egress policy cannot refuse them", "err", err)
	}
	if a, err := netip.ParseAddr(s.cfg.Media.PublicIP); err == nil {
		add(a)
	}
	return out
}
