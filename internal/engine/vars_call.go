package engine

import "github.com/switchboard/switchboard/internal/call"

// callerID is what set_cid and prepend_cid changed of the caller id that
// later modules present (webhooks, dials). The call's call.Info keeps the
// caller id as it arrived.
type callerID struct {
	number, name             string // set_cid; "" = the call's own
	numberPrefix, namePrefix string // prepend_cid
}

// CallerID is the caller id later modules present: the call's From and
// FromName, unless set_cid replaced them, with prepend_cid's prefixes. A
// call no module changed gets info.From and info.FromName unchanged.
func (v *Vars) CallerID(info call.Info) (number, name string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	number, name = info.From, info.FromName
	if v.callerID.number != "" {
		number = v.callerID.number
	}
	if v.callerID.name != "" {
		name = v.callerID.name
	}
	if v.callerID.numberPrefix != "" {
		number = v.callerID.numberPrefix + number
	}
	if v.callerID.namePrefix != "" {
		name = v.callerID.namePrefix + name
	}
	return number, name
}

// SetCallerID replaces the caller id's number and name (Kazoo's set_cid);
// an empty value leaves that part as it is.
func (v *Vars) SetCallerID(number, name string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if number != "" {
		v.callerID.number = number
	}
	if name != "" {
		v.callerID.name = name
	}
}

// PrependCallerID adds prefixes to the caller id (Kazoo's prepend_cid):
// before the prefixes already added, or with replace, instead of them.
func (v *Vars) PrependCallerID(numberPrefix, namePrefix string, replace bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if replace {
		v.callerID.numberPrefix, v.callerID.namePrefix = numberPrefix, namePrefix
		return
	}
	v.callerID.numberPrefix = numberPrefix + v.callerID.numberPrefix
	v.callerID.namePrefix = namePrefix + v.callerID.namePrefix
}

// ResetCallerIDPrefix drops prepend_cid's prefixes (its "reset" action).
func (v *Vars) ResetCallerIDPrefix() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.callerID.numberPrefix, v.callerID.namePrefix = "", ""
}

// SetLanguage sets the call's language ("fr-FR"): the language module.
func (v *Vars) SetLanguage(lang string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.language = lang
}

// Language is the call's language, or def when no module set one.
func (v *Vars) Language(def string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.language == "" {
		return def
	}
	return v.language
}
