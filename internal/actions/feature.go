package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/switchboard/switchboard/internal/engine"
	"github.com/switchboard/switchboard/internal/store"
)

// The feature-code modules (call_forward, do_not_disturb) change a setting
// of whoever dialled them, as Kazoo's feature codes do (*72 / *73 call
// forwarding, *78 / *79 do-not-disturb): the document their "id" names, or
// the calling device's owner, or the calling device itself. The change goes
// through the store's write path (the kind's schema, the revision check,
// the indexes that ring phones), so the next call sees it.

// DocumentWriter changes one stored document of an account the way an API
// PATCH does (the kind's schema and rules, kept secrets, the revision
// check, the watchers), so a feature code dialled from a phone changes its
// owner's settings exactly as an admin's edit would.
type DocumentWriter interface {
	// ChangeDoc reads the document, lets change edit it (decoded, numbers
	// as json.Number) and stores the result on the revision it was read
	// at, again when another write came in between. A missing document
	// wraps store.ErrNotFound.
	ChangeDoc(ctx context.Context, kind, accountID, id string, change func(doc map[string]any) error) (store.Doc, error)
}

// errNoFeatureDoc says a feature code found no document to change: a call
// from a trunk (no device, no owner), or an id naming no user or device of
// the call's account.
var errNoFeatureDoc = errors.New("no user or device to change")

// featureDoc is the document a feature code changes, as read.
type featureDoc struct {
	kind, id string
	body     map[string]any
}

// key is the document's path for traces and logs ("users/abc").
func (d featureDoc) key() string { return d.kind + "/" + d.id }

// object is the document's object under name (call_forward,
// do_not_disturb); empty when it has none.
func (d featureDoc) object(name string) map[string]any {
	m, _ := d.body[name].(map[string]any)
	return m
}

// featureTarget reads the document a feature code changes: the one id
// names when it is a user or device of the call's account, else the
// calling device's owner, else the calling device (Kazoo's order). A
// document of another account is never found: ids are looked up in the
// call's account only.
func featureTarget(ctx context.Context, x *engine.Exec, id string) (featureDoc, error) {
	docs := deps(x).Documents
	if docs == nil {
		return featureDoc{}, errors.New("no document reader configured")
	}
	info := x.Call.Info()
	type cand struct{ kind, id string }
	var cands []cand
	if id != "" {
		cands = append(cands, cand{"", id})
	}
	if info.OwnerID != "" {
		cands = append(cands, cand{"users", info.OwnerID})
	}
	if info.DeviceID != "" {
		cands = append(cands, cand{"devices", info.DeviceID})
	}
	for _, c := range cands {
		d, err := docs.GetDoc(ctx, c.kind, x.Account.ID, c.id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return featureDoc{}, fmt.Errorf("read %s: %w", c.id, err)
		case d.Kind != "users" && d.Kind != "devices":
			continue // a feature code changes users and devices only
		}
		var body map[string]any
		dec := json.NewDecoder(bytes.NewReader(d.Body))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			return featureDoc{}, fmt.Errorf("decode %s %s: %w", d.Kind, d.ID, err)
		}
		return featureDoc{kind: d.Kind, id: d.ID, body: body}, nil
	}
	return featureDoc{}, errNoFeatureDoc
}

// featureWriteTimeout bounds one feature-code write; it is not cut short
// by the caller hanging up, so a change once confirmed is stored.
const featureWriteTimeout = 10 * time.Second

// setFeature stores set (keys of the object name) on the document, leaving
// its other keys alone, and writes one trace "set" line per key.
func setFeature(ctx context.Context, x *engine.Exec, d featureDoc, name string, set map[string]any) error {
	w := deps(x).Writes
	if w == nil {
		return errors.New("no document writer configured")
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), featureWriteTimeout)
	defer cancel()
	_, err := w.ChangeDoc(wctx, d.kind, x.Account.ID, d.id, func(doc map[string]any) error {
		obj, _ := doc[name].(map[string]any)
		if obj == nil {
			obj = map[string]any{}
		}
		maps.Copy(obj, set)
		doc[name] = obj
		return nil
	})
	if err != nil {
		return fmt.Errorf("change %s of %s: %w", name, d.key(), err)
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		x.Trace.Add("set", "key", name+"."+k, "value", set[k], "doc", d.key(), "module", x.Node.Module, "node", x.Node.Path)
	}
	x.Log.Info("feature code applied", "doc", d.key(), "setting", name, "change", set)
	return nil
}

// featureUnavailable ends a feature-code call that found nothing to
// change, as Kazoo does: the caller hears why, the trace says so, and the
// call ends.
func featureUnavailable(ctx context.Context, x *engine.Exec, text string, err error) (string, error) {
	x.Trace.Add("warning", "code", "feature_unavailable", "message", err.Error(), "module", x.Node.Module, "node", x.Node.Path)
	x.Log.Info("feature code not available", "err", err)
	if aerr := x.Call.Answer(ctx); aerr != nil {
		return "", aerr
	}
	if serr := (announcement{text: text}).play(ctx, x); serr != nil {
		return "", serr
	}
	return engine.BranchEnd, nil
}

// isTrue reads a JSON boolean (absent is false).
func isTrue(m map[string]any, key string) bool {
	b, _ := m[key].(bool)
	return b
}

// featureFailedText is what the caller hears when a change could not be
// stored.
const featureFailedText = "Sorry, that setting could not be changed. Please try again later."

// featureFailed ends a feature-code call whose change could not be
// stored: the caller hears so, and the engine writes the error line.
func featureFailed(ctx context.Context, x *engine.Exec, err error) (string, error) {
	if serr := (announcement{text: featureFailedText}).play(ctx, x); serr != nil {
		x.Log.Debug("apology not spoken", "err", serr)
	}
	return engine.BranchEnd, err
}
