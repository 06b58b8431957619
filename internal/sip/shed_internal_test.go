package sip

import (
	"hash/maphash"
	"testing"
	"time"
)

// TestChallengedInviteCountsOnce: an INVITE admitted as it was read,
// answered 407 (its ACK read) and re-sent with credentials under the same
// Call-ID counts once among the calls in progress, not twice for 2 s (the
// ACK used to wipe the read's time the re-sent INVITE's claim needed),
// and a third try after another 407 claims nothing more; an INVITE's ACK
// still ends its setup once.
func TestChallengedInviteCountsOnce(t *testing.T) {
	var a admission
	a.init(0, true)
	a.limit = 100 // a limit binds: the calls in progress are counted
	now := time.Unix(1_000_000, 0)
	k := a.seen.key([]byte("challenged@host"))
	other := a.seen.key([]byte("other@host"))
	inProgress := func() int {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.inProgressLocked(now)
	}
	for _, key := range []uint64{k, other} { // two INVITEs read in the same slot
		if why := a.admit(now, false, true); why != "" {
			t.Fatalf("admit: %s", why)
		}
		a.seen.put(key, true, now)
	}
	if n := inProgress(); n != 2 {
		t.Fatalf("%d in progress after two INVITEs read, want 2", n)
	}
	// 407, and its ACK read.
	if taken, known, at := a.seen.ack(k); !taken || !known || at/int64(setupSlot) != now.UnixNano()/int64(setupSlot) {
		t.Fatalf("the 407's ACK: taken %v known %v read at %d, want the INVITE's read", taken, known, at)
	} else {
		a.acked(at, now)
	}
	if n, _ := a.setupNow(now); n != 1 {
		t.Errorf("%d calls in setup after one of two ACKed, want 1", n)
	}
	if taken, known, at := a.seen.ack(k); !taken || !known || at != 0 {
		t.Errorf("a second ACK: taken %v known %v, ended the setup again (%d)", taken, known, at)
	}
	// The INVITE re-sent with credentials: taken before, claimed now.
	if taken, known := a.seen.get(k); !taken || !known {
		t.Fatalf("the re-sent INVITE's Call-ID: taken %v known %v", taken, known)
	}
	a.claim(a.seen.claim(k))
	if n := inProgress(); n != 2 {
		t.Errorf("%d in progress once the re-sent INVITE was claimed, want 2 (it and the other)", n)
	}
	// Another 407 and a third try: its claim takes no other call's place.
	a.release(now)
	a.claim(a.seen.claim(k))
	if n := inProgress(); n != 2 {
		t.Errorf("%d in progress after a third try of the same call, want 2", n)
	}
	if at := a.seen.claim(maphash.String(a.seen.seed, "never@host")); at != 0 {
		t.Errorf("claim of an unknown Call-ID: %d, want 0", at)
	}
}
