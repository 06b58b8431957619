package media

import (
	"strings"
	"sync"

	"github.com/switchboard/switchboard/internal/media/dtmf"
)

// maxQueuedDigits bounds the digit queue; the oldest digit goes first.
const maxQueuedDigits = 64

// digitQueue is the one queue every digit source feeds (RFC 4733, SIP
// INFO, in-band tones) and Play, Gather and Record read.
type digitQueue struct {
	mu sync.Mutex
	q  []byte
	ch chan struct{}
}

func (d *digitQueue) push(b byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.q) >= maxQueuedDigits {
		d.q = append(d.q[:0], d.q[1:]...)
	}
	d.q = append(d.q, b)
	if d.ch != nil {
		close(d.ch)
		d.ch = nil
	}
}

// watch returns a channel closed at the next push. Take it before looking
// at the queue, so that no digit slips in between unseen.
func (d *digitQueue) watch() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ch == nil {
		d.ch = make(chan struct{})
	}
	return d.ch
}

// has reports whether a queued digit is one of keys.
func (d *digitQueue) has(keys string) bool {
	if keys == "" {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, b := range d.q {
		if strings.IndexByte(keys, b) >= 0 {
			return true
		}
	}
	return false
}

// take removes the first queued digit that is one of keys.
func (d *digitQueue) take(keys string) (byte, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, b := range d.q {
		if strings.IndexByte(keys, b) >= 0 {
			d.q = append(d.q[:i], d.q[i+1:]...)
			return b, true
		}
	}
	return 0, false
}

func (d *digitQueue) pop() (byte, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.q) == 0 {
		return 0, false
	}
	b := d.q[0]
	d.q = append(d.q[:0], d.q[1:]...)
	return b, true
}

func (d *digitQueue) clear() {
	d.mu.Lock()
	d.q = d.q[:0]
	d.mu.Unlock()
}

func (d *digitQueue) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.q)
}

// InjectDigit feeds a digit received by SIP INFO to digit collection.
// Anything but 0-9 * # A-D is ignored.
func (s *Session) InjectDigit(d byte) {
	if d >= 'a' && d <= 'd' {
		d -= 'a' - 'A'
	}
	if !dtmf.Valid(d) {
		return
	}
	s.digits.push(d)
}

// normKeys upper-cases a-d in a key set.
func normKeys(keys string) string { return strings.ToUpper(keys) }
