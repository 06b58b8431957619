package server

import (
	"testing"

	"github.com/switchboard/switchboard/internal/call"
	"github.com/switchboard/switchboard/internal/sip"
	"github.com/switchboard/switchboard/internal/store"
)

// TestDirectoryForwarding: a device's call forwarding is its own when
// enabled, else its owner's merged over its own (Kazoo's merge); unset
// flags take the users schema's defaults; forwarding without a number, or
// off, is none; do-not-disturb of the owner covers the device; documents
// of another account are not seen.
func TestDirectoryForwarding(t *testing.T) {
	p := newPhoneDirectory()
	put := func(account, kind, id, body string) {
		p.put(store.Doc{Kind: kind, ID: id, AccountID: account, Body: []byte(body)})
	}
	put("a1", "users", "u1", `{"first_name":"A","last_name":"B","caller_id":{"internal":{"number":"2200","name":"Alice"}},
		"call_forward":{"enabled":true,"number":"5551234","substitute":false,"failover":true}}`)
	put("a1", "devices", "d1", `{"owner_id":"u1","sip":{"username":"d1"}}`)
	put("a1", "devices", "d2", `{"owner_id":"u1","sip":{"username":"d2"},"call_forward":{"enabled":true,"number":"777","keep_caller_id":false}}`)
	put("a1", "devices", "d3", `{"sip":{"username":"d3"},"call_forward":{"enabled":false,"number":"888"}}`)
	put("a1", "users", "u2", `{"first_name":"C","last_name":"D","call_forward":{"enabled":true}}`)
	put("a1", "devices", "d4", `{"owner_id":"u2","sip":{"username":"d4"},"call_forward":{"number":"999","require_keypress":false}}`)
	put("a2", "devices", "x1", `{"owner_id":"u1","sip":{"username":"x1"}}`)

	byID := func(t call.Target) map[string]sip.Device {
		out := map[string]sip.Device{}
		for _, d := range p.Devices("a1", t) {
			out[d.ID] = d
		}
		return out
	}
	u1 := byID(call.Target{Kind: "user", Value: "u1"})
	if len(u1) != 2 {
		t.Fatalf("user u1's devices: %v", u1)
	}
	want := sip.Forward{Number: "5551234", Substitute: false, Failover: true, KeepCallerID: true, RequireKeypress: true}
	if f := u1["d1"].Forward; f == nil || *f != want {
		t.Errorf("d1 follows its owner: %+v, want %+v", f, want)
	}
	want = sip.Forward{Number: "777", Substitute: true, KeepCallerID: false, RequireKeypress: true}
	if f := u1["d2"].Forward; f == nil || *f != want {
		t.Errorf("d2 keeps its own: %+v, want %+v", f, want)
	}
	if f := byID(call.Target{Kind: "device", Value: "d3"})["d3"].Forward; f != nil {
		t.Errorf("d3 forwarding is off: %+v", f)
	}
	want = sip.Forward{Number: "999", Substitute: true, KeepCallerID: true, RequireKeypress: false}
	if f := byID(call.Target{Kind: "device", Value: "d4"})["d4"].Forward; f == nil || *f != want {
		t.Errorf("d4: the owner's enabled over the device's number: %+v, want %+v", f, want)
	}

	put("a1", "users", "u1", `{"first_name":"A","last_name":"B","do_not_disturb":{"enabled":true},"call_forward":{"enabled":false,"number":"5551234"}}`)
	u1 = byID(call.Target{Kind: "user", Value: "u1"})
	if u1["d1"].Forward != nil || !u1["d1"].DoNotDisturb || !u1["d2"].DoNotDisturb {
		t.Errorf("after the owner turned forwarding off and do-not-disturb on: d1 %+v, d2 %+v", u1["d1"], u1["d2"])
	}
	if f := u1["d2"].Forward; f == nil || f.Number != "777" {
		t.Errorf("d2's own forwarding is kept: %+v", f)
	}
}

// TestDirectoryMusicOnHold: a device's music_on_hold.media_id is its
// own, else its owner's; none leaves it empty (silence).
func TestDirectoryMusicOnHold(t *testing.T) {
	p := newPhoneDirectory()
	put := func(account, kind, id, body string) {
		p.put(store.Doc{Kind: kind, ID: id, AccountID: account, Body: []byte(body)})
	}
	put("a1", "users", "u1", `{"first_name":"A","music_on_hold":{"media_id":"user-moh"}}`)
	put("a1", "devices", "d1", `{"owner_id":"u1","sip":{"username":"d1"}}`)
	put("a1", "devices", "d2", `{"owner_id":"u1","sip":{"username":"d2"},"music_on_hold":{"media_id":"desk-moh"}}`)
	put("a1", "devices", "d3", `{"sip":{"username":"d3"},"music_on_hold":{}}`)
	for id, want := range map[string]string{"d1": "user-moh", "d2": "desk-moh", "d3": ""} {
		ds := p.Devices("a1", call.Target{Kind: "device", Value: id})
		if len(ds) != 1 || ds[0].MusicOnHold != want {
			t.Errorf("%s: %+v, want music on hold %q", id, ds, want)
		}
	}
}

// TestDirectoryAccountCallerID: a device whose own caller ID and whose
// owner's are unset presents its account's (caller_id.internal, else
// caller_id.external); a device or owner that sets one keeps it; another
// account's is never used; removing the account's takes it back.
func TestDirectoryAccountCallerID(t *testing.T) {
	p := newPhoneDirectory()
	put := func(account, kind, id, body string) {
		p.put(store.Doc{Kind: kind, ID: id, AccountID: account, Body: []byte(body)})
	}
	put("a1", "users", "u1", `{"first_name":"Ann","last_name":"Lee"}`)
	put("a1", "users", "u2", `{"first_name":"Bo","last_name":"Kim","caller_id":{"internal":{"number":"201"}}}`)
	put("a1", "devices", "d1", `{"owner_id":"u1","sip":{"username":"ann"}}`)
	put("a1", "devices", "d2", `{"owner_id":"u2","sip":{"username":"bo"}}`)
	put("a1", "devices", "d3", `{"sip":{"username":"lobby"}}`)
	put("a2", "devices", "d4", `{"sip":{"username":"other"}}`)
	for _, raw := range []string{
		`{"caller_id":{"external":{"number":"+14155550100","name":"A1 Corp"}}}`,
		`{"caller_id":{"internal":{"number":"+14155550100","name":"A1 Corp"},"external":{"number":"+1999"}}}`,
	} {
		number, name := readAccountDefaults([]byte(raw)).callerID()
		p.setAccountCallerID("a1", number, name)
		for _, tc := range []struct{ id, number, name string }{
			{"d1", "+14155550100", "Ann Lee"}, // the owner's name, the account's number
			{"d2", "201", "Bo Kim"},
			{"d3", "+14155550100", "A1 Corp"},
		} {
			ds := p.Devices("a1", call.Target{Kind: "device", Value: tc.id})
			if len(ds) != 1 {
				t.Fatalf("%s: %d devices", tc.id, len(ds))
			}
			d := ds[0]
			if d.CallerIDNumber != tc.number || d.CallerIDName != tc.name {
				t.Errorf("%s with %s: %q %q, want %q %q", tc.id, raw, d.CallerIDNumber, d.CallerIDName, tc.number, tc.name)
			}
		}
	}
	if d, ok := p.Device("a2", "other"); !ok || d.CallerIDNumber != "" {
		t.Errorf("another account's device took a1's caller ID: %q", d.CallerIDNumber)
	}
	p.setAccountCallerID("a1", "", "")
	if d, ok := p.Device("a1", "lobby"); !ok || d.CallerIDNumber != "" || d.CallerIDName != "" {
		t.Errorf("after removing it: %q %q", d.CallerIDNumber, d.CallerIDName)
	}
}
