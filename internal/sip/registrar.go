package sip

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/icholy/digest"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/store"
)

// Device is what the registrar knows of a devices document: who may
// register as it, whom it belongs to and what caller ID its calls carry.
type Device struct {
	AccountID, ID, OwnerID string
	Username, Realm        string
	HA1MD5, HA1SHA256      string // the stored digest hashes (sip.ha1)
	CallerIDNumber         string // the owner's (else the device's) internal caller ID
	CallerIDName           string
	Disabled               bool
	// DoNotDisturb (the device's or its owner's do_not_disturb) keeps
	// the device from ringing; it still registers and calls out.
	DoNotDisturb bool
	// Forward, when set, is the call forwarding in force for the device
	// (its own call_forward when enabled, else its owner's): calls to the
	// device ring Forward.Number instead of it, or as well.
	Forward *Forward
	// MusicOnHold is the media id (Kazoo's music_on_hold.media_id, the
	// device's else its owner's) the other party hears while this phone
	// holds the call; empty: silence.
	MusicOnHold string
}

// Forward is Kazoo's call_forward of a user or device, enabled and with a
// number.
type Forward struct {
	// Number is where calls go: an extension a flow of the account routes
	// to a user or device, else a number dialled through the account's
	// carriers.
	Number string
	// Substitute rings the number instead of the phones; false rings both.
	Substitute bool
	// Failover rings the number only when the phones do not answer, are
	// busy or are not registered.
	Failover bool
	// KeepCallerID shows the original caller to the forwarded party;
	// false shows the forwarding user.
	KeepCallerID bool
	// DirectCallsOnly forwards calls to the user or device itself, not
	// those of a ring group it belongs to.
	DirectCallsOnly bool
	// RequireKeypress asks the forwarded party to press 1 to take the
	// call (a voicemail answering the forwarded number does not take it).
	RequireKeypress bool
}

// Directory finds devices for the registrar and for Dial; the server
// keeps it from the documents.
type Directory interface {
	// Device is the device with a SIP username in a realm; when no device
	// has that realm, a username held by a single device still matches
	// (phones registering at the server's address).
	Device(realm, username string) (Device, bool)
	// Devices are the devices a Dial target names: kind "device" (an id),
	// "user" (the devices owned by a user id), "client" (a user's
	// username, or a device's SIP username) or "group" (a groups
	// document's users and devices), in the account.
	Devices(accountID string, t call.Target) []Device
}

// Extensions finds the user or device an internal number rings: a call
// forwarded to an extension rings that user's phones, as Kazoo's loopback
// forward through the account's call flows does.
type Extensions interface {
	// Extension is the target (kind "user" or "device") of the account's
	// flow for number when that flow starts by ringing one; ok is false
	// otherwise (the number is then dialled out).
	Extension(ctx context.Context, accountID, number string) (t call.Target, ok bool)
}

// Bindings keeps contact bindings across a restart (the call log
// database implements it).
type Bindings interface {
	SaveRegistration(ctx context.Context, r store.Registration) error
	DeleteRegistration(ctx context.Context, accountID, deviceID, contact string) error
	Registrations(ctx context.Context, now time.Time) ([]store.Registration, error)
}

// RegistrarConfig turns on the registrar; a zero field means the
// documented default.
type RegistrarConfig struct {
	Directory Directory
	Bindings  Bindings // nil keeps bindings in memory only
	// Extensions, when set, lets a call forwarded to an internal number
	// ring the phones behind it; without it every forward number is
	// dialled through the carriers.
	Extensions Extensions
	// MinExpires, MaxExpires and DefaultExpires bound a binding's life:
	// shorter than MinExpires is refused (423), longer is cut to
	// MaxExpires; 60 s, 2 h and 1 h by default.
	MinExpires, MaxExpires, DefaultExpires time.Duration
	// NonceTTL is how long a nonce is good (stale=true after); 5 min.
	NonceTTL time.Duration
	// MaxFailures failed authentications from one source address within
	// FailureWindow get it refused without a challenge until the window
	// passes; 10 per minute by default.
	MaxFailures   int
	FailureWindow time.Duration
	// MaxContacts bounds the contacts of one device; 10 by default.
	MaxContacts int
	// Algorithms are the digest algorithms challenged, in order: "MD5"
	// and "SHA-256" (RFC 8760). MD5 alone by default: some phones
	// (baresip 1.0) fail the whole challenge when one algorithm is
	// unknown to them.
	Algorithms []string
	// KeepAlive is how often a binding behind NAT (its Contact names
	// another address than the one it registered from) gets an OPTIONS,
	// which keeps the NAT's mapping open; 0 sends none (serve's
	// --sip-keepalive is 30 s). A binding that leaves KeepAliveFailures
	// probes in a row unanswered (3 by default), each given
	// KeepAliveTimeout (5 s, at most KeepAlive), is dropped.
	KeepAlive         time.Duration
	KeepAliveTimeout  time.Duration
	KeepAliveFailures int
}

func (c RegistrarConfig) withDefaults() RegistrarConfig {
	if c.MinExpires <= 0 {
		c.MinExpires = 60 * time.Second
	}
	if c.MaxExpires <= 0 {
		c.MaxExpires = 2 * time.Hour
	}
	if c.DefaultExpires <= 0 {
		c.DefaultExpires = time.Hour
	}
	c.DefaultExpires = min(max(c.DefaultExpires, c.MinExpires), c.MaxExpires)
	if c.NonceTTL <= 0 {
		c.NonceTTL = 5 * time.Minute
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = 10
	}
	if c.FailureWindow <= 0 {
		c.FailureWindow = time.Minute
	}
	if c.MaxContacts <= 0 {
		c.MaxContacts = 10
	}
	if len(c.Algorithms) == 0 {
		c.Algorithms = []string{"MD5"}
	}
	if c.KeepAliveTimeout <= 0 {
		c.KeepAliveTimeout = 5 * time.Second
	}
	if c.KeepAlive > 0 {
		c.KeepAliveTimeout = min(c.KeepAliveTimeout, c.KeepAlive)
	}
	if c.KeepAliveFailures <= 0 {
		c.KeepAliveFailures = 3
	}
	return c
}

// registrar holds the bindings of registered devices.
type registrar struct {
	cfg      RegistrarConfig
	nonces   *nonces
	throttle *throttle

	mu       sync.Mutex
	bindings map[string][]store.Registration // account/device → contacts

	keep keepAliveState
}

func devKey(account, device string) string { return account + "/" + device }

// EnableRegistrar serves REGISTER against cfg.Directory and lets
// registered devices place calls. Call it before Start: it loads the
// bindings kept by cfg.Bindings.
func (s *Server) EnableRegistrar(ctx context.Context, cfg RegistrarConfig) error {
	if cfg.Directory == nil {
		return errors.New("sip: registrar: a directory is required")
	}
	cfg = cfg.withDefaults()
	r := &registrar{
		cfg: cfg, nonces: newNonces(cfg.NonceTTL, cfg.Algorithms),
		throttle: newThrottle(cfg.MaxFailures, cfg.FailureWindow),
		bindings: map[string][]store.Registration{},
		keep:     keepAliveState{misses: map[string]int{}},
	}
	if cfg.Bindings != nil {
		regs, err := cfg.Bindings.Registrations(ctx, time.Now())
		if err != nil {
			return fmt.Errorf("sip: registrar: %w", err)
		}
		for _, b := range regs {
			k := devKey(b.AccountID, b.DeviceID)
			r.bindings[k] = append(r.bindings[k], b)
		}
		s.log.Info("registrations restored", "count", len(regs))
	}
	s.reg = r
	for _, bs := range r.bindings {
		if slices.ContainsFunc(bs, behindNAT) {
			s.startKeepAlive()
			break
		}
	}
	s.srv.OnRegister(s.onRegister)
	return nil
}

// Registrations are the live bindings of an account, of one device when
// deviceID is set, sorted by device then contact.
func (s *Server) Registrations(accountID, deviceID string) []store.Registration {
	if s.reg == nil {
		return nil
	}
	now := time.Now()
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	var out []store.Registration
	for k, bs := range s.reg.bindings {
		acct, dev, _ := strings.Cut(k, "/")
		if acct != accountID || deviceID != "" && dev != deviceID {
			continue
		}
		for _, b := range bs {
			if b.Expires.After(now) {
				out = append(out, b)
			}
		}
	}
	slices.SortFunc(out, func(a, b store.Registration) int {
		return strings.Compare(a.DeviceID+"\x00"+a.Contact, b.DeviceID+"\x00"+b.Contact)
	})
	return out
}

// contacts are a device's live bindings.
func (r *registrar) contacts(accountID, deviceID string, now time.Time) []store.Registration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []store.Registration
	for _, b := range r.bindings[devKey(accountID, deviceID)] {
		if b.Expires.After(now) {
			out = append(out, b)
		}
	}
	return out
}

// authenticate checks a request's digest credentials against the device
// its user names. When they are missing, stale or wrong it answers the
// request itself (401 with a challenge, 403, or 403 when the source is
// throttled) and returns false.
func (s *Server) authenticate(req *sipmsg.Request, tx sipmsg.ServerTransaction, user, realm string, proxy bool) (Device, bool) {
	r, now := s.reg, time.Now()
	src := sourceIP(req)
	if r.throttle.blocked(src, now) {
		s.log.Info("sip auth throttled", "source", req.Source(), "method", req.Method.String())
		s.respond(tx, req, 403, "Forbidden")
		return Device{}, false
	}
	dev, found := r.cfg.Directory.Device(realm, user)
	if found {
		realm = dev.Realm
	}
	authz, challenge, code := "Authorization", "WWW-Authenticate", 401
	if proxy {
		authz, challenge, code = "Proxy-Authorization", "Proxy-Authenticate", 407
	}
	var cred *digest.Credentials
	for _, h := range req.GetHeaders(authz) {
		c, err := digest.ParseCredentials(h.Value())
		if err == nil && c.Realm == realm {
			cred = c
			break
		}
	}
	ask := func(stale bool) {
		var hdrs []sipmsg.Header
		for _, c := range r.nonces.challenges(realm, stale, now) {
			hdrs = append(hdrs, sipmsg.NewHeader(challenge, c))
		}
		s.respond(tx, req, code, reason(code), hdrs...)
	}
	if cred == nil {
		ask(false)
		return Device{}, false
	}
	ha1 := dev.HA1MD5
	if strings.EqualFold(cred.Algorithm, "SHA-256") {
		ha1 = dev.HA1SHA256
	}
	nc := r.nonces.check(realm, cred.Nonce, now)
	ok := found && !dev.Disabled && nc != nonceBad && cred.Username == dev.Username && digestValid(cred, req.Method.String(), ha1)
	switch {
	case ok && nc == nonceStale:
		ask(true)
		return Device{}, false
	case !ok:
		r.throttle.fail(src, now)
		s.log.Info("sip auth failed", "source", req.Source(), "method", req.Method.String(), "username", cred.Username, "realm", realm)
		s.respond(tx, req, 403, "Forbidden")
		return Device{}, false
	}
	r.throttle.succeed(src)
	return dev, true
}

// onRegister binds, refreshes or removes a device's contacts (RFC 3261
// §10.3) once its digest credentials check.
func (s *Server) onRegister(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	if r := s.check(req); r != nil {
		s.refuse(tx, req, r)
		return
	}
	to := req.To()
	dev, ok := s.authenticate(req, tx, unescape(to.Address.User), to.Address.Host, false)
	if !ok {
		return
	}
	r, now := s.reg, time.Now()
	star, contacts, bad := registerContacts(req)
	if bad {
		s.respond(tx, req, 400, "Bad Contact")
		return
	}
	dflt := r.cfg.DefaultExpires
	if h := req.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			dflt = time.Duration(n) * time.Second
		}
	}
	key := devKey(dev.AccountID, dev.ID)
	ctx := context.WithoutCancel(s.ctx)
	if star {
		if dflt != 0 || len(contacts) > 0 {
			s.respond(tx, req, 400, "Wildcard Contact Needs Expires 0")
			return
		}
		r.mu.Lock()
		delete(r.bindings, key)
		r.mu.Unlock()
		s.persist(ctx, store.Registration{AccountID: dev.AccountID, DeviceID: dev.ID}, true)
		s.log.Info("device unregistered", "account_id", dev.AccountID, "device_id", dev.ID)
		s.respond(tx, req, 200, "OK")
		return
	}
	// 423 before anything changes: a request is applied whole or not.
	for _, c := range contacts {
		exp := contactExpires(c, dflt)
		if exp != 0 && exp < r.cfg.MinExpires {
			s.respond(tx, req, 423, "Interval Too Brief",
				sipmsg.NewHeader("Min-Expires", strconv.Itoa(int(r.cfg.MinExpires/time.Second))))
			return
		}
	}
	callID, cseq := callID(req), req.CSeq().SeqNo
	ua := ""
	if h := req.GetHeader("User-Agent"); h != nil {
		ua = h.Value()
	}
	r.mu.Lock()
	bs := slices.DeleteFunc(slices.Clone(r.bindings[key]), func(b store.Registration) bool { return !b.Expires.After(now) })
	var saved, removed []store.Registration
	for _, c := range contacts {
		uri := c.Address.String()
		i := slices.IndexFunc(bs, func(b store.Registration) bool { return b.Contact == uri })
		if i >= 0 && bs[i].CallID == callID && bs[i].CSeq >= cseq {
			continue // an old request arriving late (RFC 3261 §10.3 step 7)
		}
		exp := contactExpires(c, dflt)
		if exp == 0 {
			if i >= 0 {
				removed = append(removed, bs[i])
				bs = slices.Delete(bs, i, i+1)
			}
			continue
		}
		exp = min(exp, r.cfg.MaxExpires)
		b := store.Registration{
			AccountID: dev.AccountID, DeviceID: dev.ID, OwnerID: dev.OwnerID, Username: dev.Username, Realm: dev.Realm,
			Contact: uri, Source: req.Source(), Transport: strings.ToLower(req.Transport()),
			CallID: callID, CSeq: cseq, UserAgent: ua, Expires: now.Add(exp), Updated: now,
		}
		if i >= 0 {
			bs[i] = b
		} else {
			if len(bs) >= r.cfg.MaxContacts { // the oldest binding makes way
				removed = append(removed, bs[0])
				bs = bs[1:]
			}
			bs = append(bs, b)
		}
		saved = append(saved, b)
	}
	if len(bs) == 0 {
		delete(r.bindings, key)
	} else {
		r.bindings[key] = bs
	}
	current := slices.Clone(bs)
	r.mu.Unlock()
	for _, b := range removed {
		s.persist(ctx, b, true)
	}
	for _, b := range saved {
		s.persist(ctx, b, false)
		if behindNAT(b) {
			s.startKeepAlive()
		}
	}
	if len(saved) > 0 || len(removed) > 0 {
		s.log.Info("device registered", "account_id", dev.AccountID, "device_id", dev.ID,
			"contacts", len(current), "source", req.Source())
	}
	hdrs := make([]sipmsg.Header, 0, len(current)+1)
	for _, b := range current {
		secs := int(max(b.Expires.Sub(now).Round(time.Second)/time.Second, 1))
		hdrs = append(hdrs, sipmsg.NewHeader("Contact", "<"+b.Contact+">;expires="+strconv.Itoa(secs)))
	}
	hdrs = append(hdrs, sipmsg.NewHeader("Date", now.UTC().Format(time.RFC1123)))
	s.respond(tx, req, 200, "OK", hdrs...)
}

// persist writes a binding change through to the bindings store; a
// failure is logged, the binding stays in memory.
func (s *Server) persist(ctx context.Context, b store.Registration, remove bool) {
	st := s.reg.cfg.Bindings
	if st == nil {
		return
	}
	var err error
	if remove {
		err = st.DeleteRegistration(ctx, b.AccountID, b.DeviceID, b.Contact)
	} else {
		err = st.SaveRegistration(ctx, b)
	}
	if err != nil {
		s.log.Warn("registration not kept", "device_id", b.DeviceID, "err", err)
	}
}

// registerContacts reads a REGISTER's Contact headers: "*" alone, or
// addresses; bad when one does not parse.
func registerContacts(req *sipmsg.Request) (star bool, out []*sipmsg.ContactHeader, bad bool) {
	for _, h := range req.GetHeaders("Contact") {
		if strings.TrimSpace(h.Value()) == "*" {
			star = true
			continue
		}
		c, ok := h.(*sipmsg.ContactHeader)
		if !ok || c.Address.Host == "" {
			return false, nil, true
		}
		out = append(out, c)
	}
	return star, out, false
}

// contactExpires is a contact's expires parameter, else dflt.
func contactExpires(c *sipmsg.ContactHeader, dflt time.Duration) time.Duration {
	if v, ok := c.Params.Get("expires"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
	}
	return dflt
}
