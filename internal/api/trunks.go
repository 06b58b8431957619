package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/switchboard/switchboard/internal/store"
)

// Trunks: /v2/accounts/{ACCOUNT_ID}/trunks, the carriers and PBXs an
// account's calls come from and go to. A document is
//
//	{"name": "Carrier", "source_cidrs": ["203.0.113.0/24", "198.51.100.7"],
//	 "outbound_uri": "sip:gw.example.net:5060;transport=tcp"}
//
// with any other keys kept as given. A call from an address in
// source_cidrs belongs to the account; calls the account dials to numbers
// go to outbound_uri, the number as its user part.

var errNoTrunks = &Error{Status: http.StatusServiceUnavailable, Message: "trunks unavailable"}

// trunkStore is the store's trunk part, when it has one.
func (a *API) trunkStore() (store.TrunkStore, error) {
	if ts, ok := a.store.(store.TrunkStore); ok {
		return ts, nil
	}
	return nil, errNoTrunks
}

func (a *API) listTrunks(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.trunkStore()
	if err != nil {
		return err
	}
	list, err := ts.ListTrunks(r.Context(), accountOf(r))
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(list))
	for _, t := range list {
		items = append(items, map[string]any{
			"id": t.ID, "name": t.Name, "source_cidrs": nonNil(t.SourceCIDRs),
			"outbound_uri": t.OutboundURI, "revision": t.Revision,
		})
	}
	return a.success(w, r, http.StatusOK, items, "", map[string]any{"page_size": len(items)})
}

func (a *API) createTrunk(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.trunkStore()
	if err != nil {
		return err
	}
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	t, err := a.prepareTrunk(r, ts, req.Data, store.NewID())
	if err != nil {
		return err
	}
	a.writeMu.Lock()
	defer a.writeMu.Unlock()
	saved, err := ts.CreateTrunk(r.Context(), t)
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusCreated, json.RawMessage(saved.Body), saved.Revision, nil)
}

func (a *API) getTrunk(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.trunkStore()
	if err != nil {
		return err
	}
	t, err := ts.GetTrunk(r.Context(), accountOf(r), r.PathValue("trunk_id"))
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, json.RawMessage(t.Body), t.Revision, nil)
}

// updateTrunk replaces a trunk (Kazoo's POST); a stale revision gets 409.
func (a *API) updateTrunk(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.trunkStore()
	if err != nil {
		return err
	}
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	id := r.PathValue("trunk_id")
	t, err := a.prepareTrunk(r, ts, req.Data, id)
	if err != nil {
		return err
	}
	return a.saveTrunk(w, r, ts, t, req.Revision)
}

// patchTrunk merges the body into the stored trunk (a null removes a key).
func (a *API) patchTrunk(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.trunkStore()
	if err != nil {
		return err
	}
	req, err := a.readRequest(w, r)
	if err != nil {
		return err
	}
	id := r.PathValue("trunk_id")
	cur, err := ts.GetTrunk(r.Context(), accountOf(r), id)
	if err != nil {
		return err
	}
	merged, err := mergeDocument(cur.Body, req.Data, "trunk", id)
	if err != nil {
		return err
	}
	t, err := a.prepareTrunk(r, ts, merged, id)
	if err != nil {
		return err
	}
	rev := req.Revision
	if rev == "" {
		rev = cur.Revision
	}
	return a.saveTrunk(w, r, ts, t, rev)
}

func (a *API) saveTrunk(w http.ResponseWriter, r *http.Request, ts store.TrunkStore, t store.Trunk, ifRevision string) error {
	a.writeMu.Lock()
	defer a.writeMu.Unlock()
	saved, err := ts.UpdateTrunk(r.Context(), t, ifRevision)
	if err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, json.RawMessage(saved.Body), saved.Revision, nil)
}

func (a *API) deleteTrunk(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.trunkStore()
	if err != nil {
		return err
	}
	id := r.PathValue("trunk_id")
	rev := deleteRevision(r)
	a.writeMu.Lock()
	defer a.writeMu.Unlock()
	cur, err := ts.GetTrunk(r.Context(), accountOf(r), id)
	if err != nil {
		return err
	}
	if err := ts.DeleteTrunk(r.Context(), accountOf(r), id, rev); err != nil {
		return err
	}
	return a.success(w, r, http.StatusOK, json.RawMessage(cur.Body), "", nil)
}

// prepareTrunk validates a trunk document and returns it as stored: the
// id set, source_cidrs normalised (a bare address is a /32 or /128), other
// keys as given. A source network may not overlap another account's: a
// call's account is the one whose trunk holds its source.
func (a *API) prepareTrunk(r *http.Request, ts store.TrunkStore, data json.RawMessage, id string) (store.Trunk, error) {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return store.Trunk{}, fieldError(http.StatusBadRequest, "invalid JSON", "data", "json", err.Error())
	}
	bad := map[string]any{}
	fail := func(field, rule, msg string, value any) {
		bad[field] = map[string]any{rule: map[string]any{"message": msg, "value": value}}
	}
	t := store.Trunk{ID: id, AccountID: accountOf(r)}
	name, ok := doc["name"].(string)
	name = strings.TrimSpace(name)
	if !ok || name == "" || utf8.RuneCountInString(name) > 128 {
		fail("name", "required", "a trunk needs a name of 1 to 128 characters", doc["name"])
	}
	t.Name = name
	switch v := doc["source_cidrs"].(type) {
	case nil:
	case []any:
		for i, x := range v {
			s, _ := x.(string)
			p, err := parsePrefix(s)
			if err != nil {
				fail(fmt.Sprintf("source_cidrs.%d", i), "format", "an IP address or a CIDR such as 203.0.113.0/24", x)
				continue
			}
			t.SourceCIDRs = append(t.SourceCIDRs, p.String())
		}
	default:
		fail("source_cidrs", "type", "a list of IP addresses or CIDRs", v)
	}
	switch v := doc["outbound_uri"].(type) {
	case nil:
	case string:
		if v = strings.TrimSpace(v); v != "" && !validSIPURI(v) {
			fail("outbound_uri", "format", "a SIP URI such as sip:gw.example.net:5060;transport=tcp", v)
		}
		t.OutboundURI = strings.TrimSpace(v)
	default:
		fail("outbound_uri", "type", "a SIP URI string", v)
	}
	if len(bad) == 0 && len(t.SourceCIDRs) > 0 {
		if err := overlapsOtherAccount(r, ts, t, fail); err != nil {
			return store.Trunk{}, err
		}
	}
	if len(bad) > 0 {
		return store.Trunk{}, &Error{Status: http.StatusBadRequest, Message: "validation failed", Data: bad}
	}
	doc["id"] = id
	doc["name"] = name
	if t.SourceCIDRs != nil {
		doc["source_cidrs"] = t.SourceCIDRs
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return store.Trunk{}, fmt.Errorf("encode trunk %s: %w", id, err)
	}
	t.Body = body
	return t, nil
}

// overlapsOtherAccount reports, through fail, source networks that
// overlap another account's trunks.
func overlapsOtherAccount(r *http.Request, ts store.TrunkStore, t store.Trunk, fail func(field, rule, msg string, value any)) error {
	return ts.EachTrunk(r.Context(), func(o store.Trunk) error {
		if o.AccountID == t.AccountID {
			return nil
		}
		for i, s := range t.SourceCIDRs {
			p := netip.MustParsePrefix(s)
			for _, os := range o.SourceCIDRs {
				if q, err := netip.ParsePrefix(os); err == nil && p.Overlaps(q) {
					fail(fmt.Sprintf("source_cidrs.%d", i), "unique",
						"this network overlaps a trunk of another account; a source address must belong to one account", s)
				}
			}
		}
		return nil
	})
}

// parsePrefix reads a CIDR or a bare address, masked.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmapBits(p)).Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// unmapBits is what an IPv4-mapped IPv6 prefix loses when unmapped.
func unmapBits(p netip.Prefix) int {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return 96
	}
	return 0
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
