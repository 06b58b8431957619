package server

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/switchboard/switchboard/internal/actions"
	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/routing"
	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/store"
)

// phoneDirectory is the registrar's view of the users and devices
// documents: a docIndex of both kinds, so REGISTER and Dial never read
// the store.
type phoneDirectory struct {
	mu      sync.RWMutex
	devices map[string]devEntry      // account/id
	users   map[string]userEntry     // account/id
	byLogin map[string][]string      // username@realm and username → account/id of devices
	groups  map[string][]call.Target // account/id → members (kind user or device)
	// accountCID is each account's default caller ID (number, name), for
	// the devices whose own and owner's set none.
	accountCID map[string][2]string
}

type devEntry struct {
	account, id, owner string
	username, realm    string
	md5, sha256        string
	cidNumber, cidName string
	disabled, dnd      bool
	forward            callForward
	moh                string // music_on_hold.media_id
}

type userEntry struct {
	account, id, username string
	cidNumber, cidName    string
	disabled, dnd         bool
	forward               callForward
	moh                   string // music_on_hold.media_id
}

// musicOnHold is Kazoo's music_on_hold object of a user or device.
type musicOnHold struct {
	MediaID string `json:"media_id"`
}

var _ sip.Directory = (*phoneDirectory)(nil)

func newPhoneDirectory() *phoneDirectory {
	return &phoneDirectory{devices: map[string]devEntry{}, users: map[string]userEntry{}, byLogin: map[string][]string{},
		groups: map[string][]call.Target{}, accountCID: map[string][2]string{}}
}

// setAccountCallerID sets an account's default caller ID ("" for none).
func (p *phoneDirectory) setAccountCallerID(accountID, number, name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if number == "" && name == "" {
		delete(p.accountCID, accountID)
		return
	}
	p.accountCID[accountID] = [2]string{number, name}
}

// deviceBody is what the directory reads of a devices document.
type deviceBody struct {
	OwnerID string `json:"owner_id"`
	Enabled *bool  `json:"enabled"`
	SIP     struct {
		Username string `json:"username"`
		Realm    string `json:"realm"`
		HA1      struct {
			MD5    string `json:"md5"`
			SHA256 string `json:"sha-256"`
		} `json:"ha1"`
	} `json:"sip"`
	CallerID callerIDs   `json:"caller_id"`
	DND      dnd         `json:"do_not_disturb"`
	Forward  callForward `json:"call_forward"`
	MOH      musicOnHold `json:"music_on_hold"`
}

// callForward is Kazoo's call_forward object of a user or device; a field
// left out is nil (the users schema's default applies).
type callForward struct {
	Enabled         *bool  `json:"enabled"`
	Number          string `json:"number"`
	Substitute      *bool  `json:"substitute"`
	RequireKeypress *bool  `json:"require_keypress"`
	KeepCallerID    *bool  `json:"keep_caller_id"`
	DirectCallsOnly *bool  `json:"direct_calls_only"`
	Failover        *bool  `json:"failover"`
}

// over is c with the fields o sets replacing c's (Kazoo merges the
// owner's call_forward over the device's).
func (c callForward) over(o callForward) callForward {
	pick := func(a, b *bool) *bool {
		if b != nil {
			return b
		}
		return a
	}
	if o.Number != "" {
		c.Number = o.Number
	}
	c.Enabled = pick(c.Enabled, o.Enabled)
	c.Substitute = pick(c.Substitute, o.Substitute)
	c.RequireKeypress = pick(c.RequireKeypress, o.RequireKeypress)
	c.KeepCallerID = pick(c.KeepCallerID, o.KeepCallerID)
	c.DirectCallsOnly = pick(c.DirectCallsOnly, o.DirectCallsOnly)
	c.Failover = pick(c.Failover, o.Failover)
	return c
}

// forward is the forwarding in force, nil when it is off or has no
// number. Unset flags take the users schema's defaults (substitute,
// keep_caller_id and require_keypress on; failover and direct_calls_only
// off).
func (c callForward) forward() *sip.Forward {
	if c.Enabled == nil || !*c.Enabled || strings.TrimSpace(c.Number) == "" {
		return nil
	}
	flag := func(b *bool, dflt bool) bool {
		if b == nil {
			return dflt
		}
		return *b
	}
	return &sip.Forward{Number: strings.TrimSpace(c.Number), Substitute: flag(c.Substitute, true),
		RequireKeypress: flag(c.RequireKeypress, true), KeepCallerID: flag(c.KeepCallerID, true),
		DirectCallsOnly: flag(c.DirectCallsOnly, false), Failover: flag(c.Failover, false)}
}

// dnd is Kazoo's do_not_disturb object of a user or device.
type dnd struct {
	Enabled bool `json:"enabled"`
}

type callerIDs struct {
	Internal struct {
		Number string `json:"number"`
		Name   string `json:"name"`
	} `json:"internal"`
}

type userBody struct {
	Username  string      `json:"username"`
	FirstName string      `json:"first_name"`
	LastName  string      `json:"last_name"`
	Enabled   *bool       `json:"enabled"`
	CallerID  callerIDs   `json:"caller_id"`
	DND       dnd         `json:"do_not_disturb"`
	Forward   callForward `json:"call_forward"`
	MOH       musicOnHold `json:"music_on_hold"`
}

func (p *phoneDirectory) put(d store.Doc) {
	key := d.AccountID + "/" + d.ID
	p.mu.Lock()
	defer p.mu.Unlock()
	switch d.Kind {
	case "devices":
		var b deviceBody
		if json.Unmarshal(d.Body, &b) != nil {
			return
		}
		p.removeLocked(d)
		realm := b.SIP.Realm
		if realm == "" {
			realm = d.AccountID
		}
		e := devEntry{account: d.AccountID, id: d.ID, owner: b.OwnerID, username: b.SIP.Username, realm: realm,
			md5: b.SIP.HA1.MD5, sha256: b.SIP.HA1.SHA256, cidNumber: b.CallerID.Internal.Number,
			cidName: b.CallerID.Internal.Name, disabled: b.Enabled != nil && !*b.Enabled, dnd: b.DND.Enabled,
			forward: b.Forward, moh: strings.TrimSpace(b.MOH.MediaID)}
		p.devices[key] = e
		if e.username != "" {
			for _, login := range []string{e.username + "@" + strings.ToLower(realm), e.username} {
				p.byLogin[login] = append(p.byLogin[login], key)
			}
		}
	case "groups":
		var b struct {
			Endpoints map[string]struct {
				Type string `json:"type"`
			} `json:"endpoints"`
		}
		if json.Unmarshal(d.Body, &b) != nil {
			return
		}
		var members []call.Target
		for id, e := range b.Endpoints {
			if e.Type == "user" || e.Type == "device" {
				members = append(members, call.Target{Kind: e.Type, Value: id})
			}
		}
		slices.SortFunc(members, func(a, b call.Target) int { return strings.Compare(a.Value, b.Value) })
		p.groups[key] = members
	case "users":
		var b userBody
		if json.Unmarshal(d.Body, &b) != nil {
			return
		}
		name := b.CallerID.Internal.Name
		if name == "" {
			name = strings.TrimSpace(b.FirstName + " " + b.LastName)
		}
		p.users[key] = userEntry{account: d.AccountID, id: d.ID, username: strings.ToLower(b.Username),
			cidNumber: b.CallerID.Internal.Number, cidName: name, disabled: b.Enabled != nil && !*b.Enabled, dnd: b.DND.Enabled,
			forward: b.Forward, moh: strings.TrimSpace(b.MOH.MediaID)}
	}
}

func (p *phoneDirectory) remove(d store.Doc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch d.Kind {
	case "devices":
		p.removeLocked(d)
	case "users":
		delete(p.users, d.AccountID+"/"+d.ID)
	case "groups":
		delete(p.groups, d.AccountID+"/"+d.ID)
	}
}

func (p *phoneDirectory) removeLocked(d store.Doc) {
	key := d.AccountID + "/" + d.ID
	old, ok := p.devices[key]
	if !ok {
		return
	}
	delete(p.devices, key)
	for _, login := range []string{old.username + "@" + strings.ToLower(old.realm), old.username} {
		keys := slices.DeleteFunc(p.byLogin[login], func(k string) bool { return k == key })
		if len(keys) == 0 {
			delete(p.byLogin, login)
		} else {
			p.byLogin[login] = keys
		}
	}
}

// deviceLocked builds the registrar's Device: the owner's caller ID
// first, then the device's own, then the account's (its caller_id); the device's call forwarding when it is
// on, else the owner's merged over the device's (Kazoo's merge); the
// device's music on hold, else the owner's.
func (p *phoneDirectory) deviceLocked(e devEntry) sip.Device {
	d := sip.Device{AccountID: e.account, ID: e.id, OwnerID: e.owner, Username: e.username, Realm: e.realm,
		HA1MD5: e.md5, HA1SHA256: e.sha256, CallerIDNumber: e.cidNumber, CallerIDName: e.cidName, Disabled: e.disabled,
		DoNotDisturb: e.dnd, Forward: e.forward.forward(), MusicOnHold: e.moh}
	if u, ok := p.users[e.account+"/"+e.owner]; ok && e.owner != "" {
		if d.MusicOnHold == "" {
			d.MusicOnHold = u.moh
		}
		if d.Forward == nil {
			d.Forward = e.forward.over(u.forward).forward()
		}
		if u.cidNumber != "" {
			d.CallerIDNumber = u.cidNumber
		}
		if u.cidName != "" {
			d.CallerIDName = u.cidName
		}
		d.Disabled = d.Disabled || u.disabled
		d.DoNotDisturb = d.DoNotDisturb || u.dnd
	}
	if cid, ok := p.accountCID[e.account]; ok && d.CallerIDNumber == "" {
		d.CallerIDNumber = cid[0]
		if d.CallerIDName == "" {
			d.CallerIDName = cid[1]
		}
	}
	return d
}

// Device finds a device by SIP username in a realm, or by the username
// alone when a single device holds it.
func (p *phoneDirectory) Device(realm, username string) (sip.Device, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	keys := p.byLogin[username+"@"+strings.ToLower(realm)]
	if len(keys) == 0 {
		keys = p.byLogin[username]
	}
	if len(keys) != 1 {
		return sip.Device{}, false
	}
	return p.deviceLocked(p.devices[keys[0]]), true
}

// Devices lists the devices a Dial target names in an account (a group:
// its users' and devices', each device once).
func (p *phoneDirectory) Devices(accountID string, t call.Target) []sip.Device {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if t.Kind == "group" {
		var out []sip.Device
		for _, m := range p.groups[accountID+"/"+t.Value] {
			for _, d := range p.devicesLocked(accountID, m) {
				if !slices.ContainsFunc(out, func(o sip.Device) bool { return o.ID == d.ID }) {
					out = append(out, d)
				}
			}
		}
		return out
	}
	return p.devicesLocked(accountID, t)
}

func (p *phoneDirectory) devicesLocked(accountID string, t call.Target) []sip.Device {
	var out []sip.Device
	switch t.Kind {
	case "device":
		if e, ok := p.devices[accountID+"/"+t.Value]; ok {
			out = append(out, p.deviceLocked(e))
		}
	case "user", "client":
		owner := t.Value
		if t.Kind == "client" {
			owner = ""
			for _, u := range p.users {
				if u.account == accountID && u.username == strings.ToLower(t.Value) {
					owner = u.id
				}
			}
		}
		for _, e := range p.devices {
			if e.account != accountID {
				continue
			}
			if owner != "" && e.owner == owner || owner == "" && t.Kind == "client" && e.username == t.Value {
				out = append(out, p.deviceLocked(e))
			}
		}
	}
	slices.SortFunc(out, func(a, b sip.Device) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Registrations lists the registrar's live bindings (none with SIP off).
func (s *Server) Registrations(accountID, deviceID string) []store.Registration {
	if s.sip == nil {
		return nil
	}
	return s.sip.Registrations(accountID, deviceID)
}

// extensions is sip.Extensions over the number router and the compiled
// flows: a number whose flow starts with a user or device module is that
// user's or device's extension.
type extensions struct {
	router *routing.Router
	flows  *flowCache
}

var _ sip.Extensions = extensions{}

// Extension finds the user or device an internal number rings.
func (e extensions) Extension(ctx context.Context, accountID, number string) (call.Target, bool) {
	m, ok := e.router.Route(accountID, number)
	if !ok {
		return call.Target{}, false
	}
	f, err := e.flows.Flow(ctx, accountID, m.CallflowID)
	if err != nil || f.Root == nil {
		return call.Target{}, false
	}
	switch a := f.Root.Action.(type) {
	case *actions.User:
		return call.Target{Kind: "user", Value: a.ID}, true
	case *actions.Device:
		return call.Target{Kind: "device", Value: a.ID}, true
	}
	return call.Target{}, false
}
