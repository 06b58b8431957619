package call

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event is one line of a call trace: an op, its time, and the op's fields
// (see shared/spec/call-trace.md).
type Event struct {
	Op     string
	TMS    int64 // milliseconds since the call arrived
	Fields map[string]any
}

// MarshalJSON writes {"op":…, "t_ms":…, fields…} with op and t_ms first.
func (e Event) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"op":`)
	op, _ := json.Marshal(e.Op)
	b.Write(op)
	fmt.Fprintf(&b, `,"t_ms":%d`, e.TMS)
	if len(e.Fields) > 0 {
		rest, err := marshalNoEscape(e.Fields)
		if err != nil {
			return nil, err
		}
		b.WriteByte(',')
		b.Write(rest[1 : len(rest)-1])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads a trace line back.
func (e *Event) UnmarshalJSON(data []byte) error {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	e.Op, _ = m["op"].(string)
	if t, ok := m["t_ms"].(float64); ok {
		e.TMS = int64(t)
	}
	delete(m, "op")
	delete(m, "t_ms")
	e.Fields = m
	return nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// Trace collects a call's events in order, and streams each as a JSON line
// to an optional writer (simulate's standard output). Safe for concurrent
// use.
//
// Events are kept compact, not as Event values: a line's fields go into
// one slice shared by the call's lines, sorted by key as the JSON writes
// them, strings and integers unboxed. A map and a boxed value per field
// cost about twenty allocations a call on the call path; Events builds the
// maps for the few readers that want them (the API, tests).
type Trace struct {
	mu     sync.Mutex
	start  time.Time
	clock  Clock
	events []event
	fields []field
	w      io.Writer
	ended  bool
	// Room for a short call's lines and fields (route, module, answer,
	// play, hangup: 5 lines, 9 fields) in the Trace's own allocation.
	eventBuf [8]event
	fieldBuf [12]field
	tc       traced // the first Traced channel over this trace (no allocation of its own)
}

// event is one line: its op, time, and fields (Trace.fields[lo:hi]).
type event struct {
	op     string
	tms    int64
	lo, hi int32
}

// field is one field of a line: a string or an int kept unboxed (most
// fields are), or any other value.
type field struct {
	key  string
	str  string
	num  int64
	val  any
	kind fieldKind
}

type fieldKind uint8

const (
	kindAny fieldKind = iota
	kindString
	kindInt
)

// fieldOf keeps v unboxed when it is a plain string or int.
func fieldOf(key string, v any) field {
	switch x := v.(type) {
	case string:
		return field{key: key, str: x, kind: kindString}
	case int:
		return field{key: key, num: int64(x), kind: kindInt}
	}
	return field{key: key, val: v}
}

func strField(key, v string) field { return field{key: key, str: v, kind: kindString} }
func intField(key string, v int) field {
	return field{key: key, num: int64(v), kind: kindInt}
}
func anyField(key string, v any) field { return field{key: key, val: v} }

// value is the field's value as a map of Event holds it.
func (f *field) value() any {
	switch f.kind {
	case kindString:
		return f.str
	case kindInt:
		return int(f.num)
	}
	return f.val
}

// NewTrace starts a trace at the clock's now. w may be nil.
func NewTrace(clock Clock, w io.Writer) *Trace {
	if clock == nil {
		clock = RealClock{}
	}
	t := &Trace{start: clock.Now(), clock: clock, w: w}
	t.events, t.fields = t.eventBuf[:0], t.fieldBuf[:0]
	return t
}

// Add records an op with fields given as key, value pairs. After the
// hangup line nothing more is recorded: hangup is always the last line.
func (t *Trace) Add(op string, kv ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return
	}
	lo := t.begin()
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		t.set(lo, fieldOf(k, kv[i+1]))
	}
	t.end(op, lo)
}

// AddStrings is Add for a line whose values are all strings (route,
// module, hangup, error …): no value is boxed on the way.
func (t *Trace) AddStrings(op string, kv ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return
	}
	lo := t.begin()
	for i := 0; i+1 < len(kv); i += 2 {
		t.set(lo, strField(kv[i], kv[i+1]))
	}
	t.end(op, lo)
}

// AddFields records an op with a field map (copied).
func (t *Trace) AddFields(op string, fields map[string]any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return
	}
	lo := t.begin()
	for k, v := range fields {
		t.set(lo, fieldOf(k, v))
	}
	t.end(op, lo)
}

// add records an op with the fields fs, then more (the traced channel's
// lines).
func (t *Trace) add(op string, fs []field, more ...field) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return
	}
	lo := t.begin()
	for _, f := range fs {
		t.set(lo, f)
	}
	for _, f := range more {
		t.set(lo, f)
	}
	t.end(op, lo)
}

// begin starts a line's fields; under t.mu.
func (t *Trace) begin() int { return len(t.fields) }

// set adds a field to the line whose fields start at lo, keeping them
// sorted by key; a key given twice keeps its last value, as a map would.
// Under t.mu.
func (t *Trace) set(lo int, f field) {
	fs := t.fields[lo:]
	i, found := slices.BinarySearchFunc(fs, f.key, func(e field, k string) int { return strings.Compare(e.key, k) })
	if found {
		fs[i] = f
		return
	}
	t.fields = slices.Insert(t.fields, lo+i, f)
}

// end records the line whose fields start at lo; under t.mu.
func (t *Trace) end(op string, lo int) {
	e := event{op: op, tms: t.clock.Now().Sub(t.start).Milliseconds(), lo: int32(lo), hi: int32(len(t.fields))}
	if e.tms < 0 {
		e.tms = 0
	}
	t.events = append(t.events, e)
	if op == "hangup" {
		t.ended = true
	}
	if t.w != nil {
		if line, err := marshalNoEscape(t.event(e)); err == nil {
			_, _ = t.w.Write(append(line, '\n'))
		}
	}
}

// event builds the Event of a line; under t.mu.
func (t *Trace) event(e event) Event {
	fs := t.fields[e.lo:e.hi]
	m := make(map[string]any, len(fs))
	for i := range fs {
		m[fs[i].key] = fs[i].value()
	}
	return Event{Op: e.op, TMS: e.tms, Fields: m}
}

// Events returns the events so far (each with its own field map).
func (t *Trace) Events() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Event, len(t.events))
	for i, e := range t.events {
		out[i] = t.event(e)
	}
	return out
}

// Len is how many lines the trace holds.
func (t *Trace) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.events)
}

// OpsSince returns the ops of the lines from the from-th on, and how many
// lines the trace holds.
func (t *Trace) OpsSince(from int) (ops []string, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.events[min(max(from, 0), len(t.events)):] {
		ops = append(ops, e.op)
	}
	return ops, len(t.events)
}

// LastTMS is the time of the last line (0 with none).
func (t *Trace) LastTMS() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.events) == 0 {
		return 0
	}
	return t.events[len(t.events)-1].tms
}

// LastField is a field of the last line, as Events would give it.
func (t *Trace) LastField(key string) (any, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.events) == 0 {
		return nil, false
	}
	e := t.events[len(t.events)-1]
	for i := e.lo; i < e.hi; i++ {
		if t.fields[i].key == key {
			return t.fields[i].value(), true
		}
	}
	return nil, false
}

// Ended reports whether the hangup line was written.
func (t *Trace) Ended() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ended
}

// JSONL renders the trace as JSON Lines.
//
// It writes what MarshalJSON would, line by line, from the compact lines:
// their fields are already sorted by key, plain strings and integers are
// written here, and only other values go through encoding/json (one
// encoder and one scratch buffer, made on the first such value).
func (t *Trace) JSONL() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	size := 0
	for _, e := range t.events {
		size += 24 + len(e.op)
	}
	for i := range t.fields {
		f := &t.fields[i]
		size += 6 + len(f.key) + len(f.str) + 20
	}
	var b bytes.Buffer
	b.Grow(size)
	var enc jsonScratch
	for _, e := range t.events {
		n := b.Len()
		b.WriteString(`{"op":`)
		if plainOp(e.op) {
			b.WriteByte('"')
			b.WriteString(e.op)
			b.WriteByte('"')
		} else {
			op, _ := json.Marshal(e.op)
			b.Write(op)
		}
		b.WriteString(`,"t_ms":`)
		b.Write(strconv.AppendInt(b.AvailableBuffer(), e.tms, 10))
		if !appendFields(&b, t.fields[e.lo:e.hi], &enc) {
			b.Truncate(n) // a field json cannot encode: the line is left out
			continue
		}
		b.WriteString("}\n")
	}
	return b.Bytes()
}

// jsonScratch is an encoder without HTML escaping and its buffer, made
// when first used (most traces need neither).
type jsonScratch struct {
	enc     *json.Encoder
	scratch *bytes.Buffer
}

// appendFields writes a line's fields (sorted by key) as encoding/json
// writes a map[string]any (no HTML escaping), each preceded by a comma.
// Plain strings, integers and booleans are written here; anything else
// goes through enc. ok is false if a value cannot be encoded.
func appendFields(b *bytes.Buffer, fields []field, enc *jsonScratch) bool {
	for i := range fields {
		f := &fields[i]
		b.WriteByte(',')
		if !appendPlain(b, f.key) && !appendEncoded(b, f.key, enc) {
			return false
		}
		b.WriteByte(':')
		ok := true
		switch f.kind {
		case kindString:
			if !appendPlain(b, f.str) {
				ok = appendEncoded(b, f.str, enc)
			}
		case kindInt:
			b.Write(strconv.AppendInt(b.AvailableBuffer(), f.num, 10))
		default:
			switch v := f.val.(type) {
			case string:
				if !appendPlain(b, v) {
					ok = appendEncoded(b, v, enc)
				}
			case int64:
				b.Write(strconv.AppendInt(b.AvailableBuffer(), v, 10))
			case bool:
				b.Write(strconv.AppendBool(b.AvailableBuffer(), v))
			case nil:
				b.WriteString("null")
			default:
				ok = appendEncoded(b, v, enc)
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// appendPlain writes s quoted if it needs no escaping in JSON (printable
// ASCII but the quote and the backslash) and reports whether it did.
func appendPlain(b *bytes.Buffer, s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
	return true
}

// appendEncoded writes v as encoding/json encodes it (no HTML escaping).
func appendEncoded(b *bytes.Buffer, v any, s *jsonScratch) bool {
	if s.enc == nil {
		s.scratch = new(bytes.Buffer)
		s.enc = json.NewEncoder(s.scratch)
		s.enc.SetEscapeHTML(false)
	}
	s.scratch.Reset()
	if err := s.enc.Encode(v); err != nil {
		return false
	}
	b.Write(bytes.TrimRight(s.scratch.Bytes(), "\n"))
	return true
}

// plainOp reports whether an op needs no escaping in JSON: every op the
// spec names is lower-case letters and underscores.
func plainOp(op string) bool {
	for i := 0; i < len(op); i++ {
		if c := op[i]; (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

// Start is when the call arrived.
func (t *Trace) Start() time.Time { return t.start }
