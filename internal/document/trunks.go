package document

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/switchboard/switchboard/internal/schema"
	"github.com/switchboard/switchboard/internal/store"
)

// Trunks: /v2/accounts/{ACCOUNT_ID}/trunks, the carriers and PBXs an
// account's calls come from and go to. A document is
//
//	{"name": "Carrier", "source_cidrs": ["203.0.113.0/24", "198.51.100.7"],
//	 "outbound_uri": "sip:gw.example.net:5060;transport=tcp"}
//
// with any other keys kept as given. A call from an address in
// source_cidrs belongs to the account, so a network belongs to one account
// (the store refuses an overlap inside the write), is of a size a tenant
// may claim, and is none of the operator's trusted networks.
func init() {
	Register(Kind{
		Name: "trunks", Label: "trunk", Param: "trunk_id", ListAll: true,
		Normalise: normaliseTrunk,
		Index:     indexTrunk,
		SummaryFunc: func(d store.Doc) map[string]any {
			var idx store.TrunkIndex
			_ = json.Unmarshal(d.Index, &idx)
			return map[string]any{"id": d.ID, "name": d.Name, "source_cidrs": nonNil(idx.SourceCIDRs),
				"outbound_uri": idx.OutboundURI, "revision": d.Revision}
		},
	})
}

// Smallest prefixes a tenant may claim: an IPv4 /16, an IPv6 /48.
const (
	minBits4 = 16
	minBits6 = 48
)

func normaliseTrunk(c *Context, doc map[string]any) (map[string]any, error) {
	var errs schema.ValidationError
	name, ok := doc["name"].(string)
	name = strings.TrimSpace(name)
	if !ok || name == "" || utf8.RuneCountInString(name) > 128 {
		errs = append(errs, schema.FieldError{Path: "name", Rule: "required", Message: "a trunk needs a name of 1 to 128 characters", Value: doc["name"]})
	}
	doc["name"] = name
	var cidrs []string
	switch v := doc["source_cidrs"].(type) {
	case nil:
	case []any:
		for i, x := range v {
			at := fmt.Sprintf("source_cidrs.%d", i)
			s, _ := x.(string)
			p, err := ParsePrefix(s)
			if err != nil {
				errs = append(errs, schema.FieldError{Path: at, Rule: "format", Message: "an IP address or a CIDR such as 203.0.113.0/24", Value: x})
				continue
			}
			if msg := tenantNetwork(p, c.Reserved); msg != "" {
				errs = append(errs, schema.FieldError{Path: at, Rule: "network", Message: msg, Value: s})
				continue
			}
			cidrs = append(cidrs, p.String())
		}
		doc["source_cidrs"] = cidrs
		if cidrs == nil {
			doc["source_cidrs"] = []string{}
		}
	default:
		errs = append(errs, schema.FieldError{Path: "source_cidrs", Rule: "type", Message: "a list of IP addresses or CIDRs", Value: v})
	}
	switch v := doc["outbound_uri"].(type) {
	case nil:
	case string:
		if v = strings.TrimSpace(v); v != "" && !validSIPURI(v) {
			errs = append(errs, schema.FieldError{Path: "outbound_uri", Rule: "format", Message: "a SIP URI such as sip:gw.example.net:5060;transport=tcp", Value: v})
		}
		doc["outbound_uri"] = strings.TrimSpace(v)
	default:
		errs = append(errs, schema.FieldError{Path: "outbound_uri", Rule: "type", Message: "a SIP URI string", Value: v})
	}
	if len(errs) > 0 {
		return nil, errs.Sorted()
	}
	return doc, nil
}

// tenantNetwork says why a tenant may not claim p, or "" when it may.
func tenantNetwork(p netip.Prefix, reserved []netip.Prefix) string {
	if p.Addr().Is4() && p.Bits() < minBits4 {
		return fmt.Sprintf("a source network may be at most an IPv4 /%d", minBits4)
	}
	if !p.Addr().Is4() && p.Bits() < minBits6 {
		return fmt.Sprintf("a source network may be at most an IPv6 /%d", minBits6)
	}
	for _, r := range reserved {
		if r.Overlaps(p) {
			return "this network overlaps the operator's trusted networks, which no account may claim"
		}
	}
	return ""
}

func indexTrunk(_ *Context, doc map[string]any, w *store.DocWrite) error {
	var idx store.TrunkIndex
	for _, s := range stringList(doc["source_cidrs"]) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("trunk source %q: %w", s, err)
		}
		idx.SourceCIDRs = append(idx.SourceCIDRs, s)
		w.Networks = append(w.Networks, p)
	}
	idx.SourceCIDRs = nonNil(idx.SourceCIDRs)
	idx.OutboundURI, _ = doc["outbound_uri"].(string)
	b, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	w.Index = b
	return nil
}

// ParsePrefix reads a CIDR or a bare address (a /32 or /128), masked and
// with IPv4-mapped IPv6 unmapped.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		bits := p.Bits()
		if p.Addr().Is4In6() && bits >= 96 {
			bits -= 96
		}
		return netip.PrefixFrom(p.Addr().Unmap(), bits).Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// validSIPURI checks the shape of a gateway URI: sip: or sips:, a host,
// an optional port and parameters.
func validSIPURI(v string) bool {
	rest, ok := strings.CutPrefix(strings.ToLower(v), "sip:")
	if !ok {
		if rest, ok = strings.CutPrefix(strings.ToLower(v), "sips:"); !ok {
			return false
		}
	}
	if _, after, found := strings.Cut(rest, "@"); found {
		rest = after
	}
	host, _, _ := strings.Cut(rest, ";")
	host = strings.TrimSpace(host)
	return host != "" && !strings.ContainsAny(host, " <>\"")
}
