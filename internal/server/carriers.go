package server

import (
	"cmp"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/store"
)

// carrierTable is the accounts' resources documents (outbound carriers)
// as a docIndex: what a call to a number needs, with the rules compiled
// once per write, never per call.
type carrierTable struct {
	log *slog.Logger

	mu        sync.RWMutex
	resources map[string]carrier // account/id
}

type carrier struct {
	account, id string
	weight      int
	rules       []*regexp.Regexp
	cidRules    []*regexp.Regexp
	gateways    []carrierGateway
}

type carrierGateway struct {
	Server       string `json:"server"`
	Port         int    `json:"port"`
	Transport    string `json:"transport"`
	Username     string `json:"username"`
	Password     string `json:"password"`
	Prefix       string `json:"prefix"`
	Suffix       string `json:"suffix"`
	Enabled      *bool  `json:"enabled"`
	InviteFormat string `json:"invite_format"`
}

var _ sip.Carriers = (*carrierTable)(nil)

func newCarrierTable(log *slog.Logger) *carrierTable {
	return &carrierTable{log: log, resources: map[string]carrier{}}
}

func (c *carrierTable) put(d store.Doc) {
	var b struct {
		Enabled    *bool            `json:"enabled"`
		WeightCost int              `json:"weight_cost"`
		Rules      []string         `json:"rules"`
		CIDRules   []string         `json:"cid_rules"`
		Gateways   []carrierGateway `json:"gateways"`
	}
	key := d.AccountID + "/" + d.ID
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.resources, key)
	if err := json.Unmarshal(d.Body, &b); err != nil {
		c.log.Error("resource unreadable", "account_id", d.AccountID, "resource_id", d.ID, "err", err)
		return
	}
	if b.Enabled != nil && !*b.Enabled {
		return
	}
	r := carrier{account: d.AccountID, id: d.ID, weight: b.WeightCost}
	compile := func(list []string) ([]*regexp.Regexp, error) {
		var out []*regexp.Regexp
		for _, s := range list {
			re, err := regexp.Compile(s)
			if err != nil {
				return nil, fmt.Errorf("rule %q: %w", s, err)
			}
			out = append(out, re)
		}
		return out, nil
	}
	var err error
	if r.rules, err = compile(b.Rules); err == nil {
		r.cidRules, err = compile(b.CIDRules)
	}
	if err != nil {
		c.log.Warn("resource not usable", "account_id", d.AccountID, "resource_id", d.ID, "err", err)
		return
	}
	for _, g := range b.Gateways {
		if g.Enabled == nil || *g.Enabled {
			r.gateways = append(r.gateways, g)
		}
	}
	c.resources[key] = r
}

func (c *carrierTable) remove(d store.Doc) {
	c.mu.Lock()
	delete(c.resources, d.AccountID+"/"+d.ID)
	c.mu.Unlock()
}

// Gateways are the gateways of the account's resources whose rules match
// the number (and whose caller-ID rules, if any, match the caller ID),
// cheapest resource first (weight_cost, then id), each resource's
// gateways in their order.
func (c *carrierTable) Gateways(accountID, number, callerID string) []sip.Gateway {
	c.mu.RLock()
	var match []carrier
	for _, r := range c.resources {
		if r.account == accountID && matchAny(r.rules, number) && (len(r.cidRules) == 0 || matchAny(r.cidRules, callerID)) {
			match = append(match, r)
		}
	}
	c.mu.RUnlock()
	slices.SortFunc(match, func(a, b carrier) int {
		return cmp.Or(cmp.Compare(a.weight, b.weight), strings.Compare(a.id, b.id))
	})
	var out []sip.Gateway
	for _, r := range match {
		for _, g := range r.gateways {
			out = append(out, sip.Gateway{URI: g.uri(number), Username: g.Username, Password: g.Password})
		}
	}
	return out
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// uri is the Request-URI for number at this gateway, the number written
// as its invite_format asks.
func (g carrierGateway) uri(number string) string {
	digits := strings.TrimPrefix(number, "+")
	user := number
	switch g.InviteFormat {
	case "e164":
		user = "+" + digits
	case "npan":
		if len(digits) >= 10 {
			user = digits[len(digits)-10:]
		}
	case "1npan":
		if len(digits) >= 10 {
			user = "1" + digits[len(digits)-10:]
		}
	case "strip_plus":
		user = digits
	}
	host := g.Server
	if g.Port > 0 {
		host = net.JoinHostPort(strings.Trim(g.Server, "[]"), strconv.Itoa(g.Port))
	}
	u := "sip:" + g.Prefix + user + g.Suffix + "@" + host
	if g.Transport != "" && g.Transport != "udp" {
		u += ";transport=" + g.Transport
	}
	return u
}
