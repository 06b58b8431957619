package call

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
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
type Trace struct {
	mu     sync.Mutex
	start  time.Time
	clock  Clock
	events []Event
	w      io.Writer
	ended  bool
}

// NewTrace starts a trace at the clock's now. w may be nil.
func NewTrace(clock Clock, w io.Writer) *Trace {
	if clock == nil {
		clock = RealClock{}
	}
	// Room for a short call's lines (module, webhook, answer, say,
	// hangup …) at once, not by four doublings.
	return &Trace{start: clock.Now(), clock: clock, w: w, events: make([]Event, 0, 8)}
}

// Add records an op with fields given as key, value pairs. After the
// hangup line nothing more is recorded: hangup is always the last line.
func (t *Trace) Add(op string, kv ...any) {
	fields := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		fields[k] = kv[i+1]
	}
	t.add(op, fields)
}

// AddFields records an op with a field map (copied).
func (t *Trace) AddFields(op string, fields map[string]any) {
	t.add(op, maps.Clone(fields))
}

// add records an op, keeping fields as they are.
func (t *Trace) add(op string, fields map[string]any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return
	}
	e := Event{Op: op, TMS: t.clock.Now().Sub(t.start).Milliseconds(), Fields: fields}
	if e.TMS < 0 {
		e.TMS = 0
	}
	t.events = append(t.events, e)
	if op == "hangup" {
		t.ended = true
	}
	if t.w != nil {
		if line, err := marshalNoEscape(e); err == nil {
			_, _ = t.w.Write(append(line, '\n'))
		}
	}
}

// Events returns a copy of the events so far.
func (t *Trace) Events() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Event(nil), t.events...)
}

// Ended reports whether the hangup line was written.
func (t *Trace) Ended() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ended
}

// JSONL renders the trace as JSON Lines.
//
// It writes what MarshalJSON would, line by line, through one encoder and
// one scratch buffer: encoding each event on its own (an encoder, two
// buffers and a validating pass over MarshalJSON's output per event) cost
// 4 KB a call, every call, for the call log.
func (t *Trace) JSONL() []byte {
	events := t.Events()
	var b, scratch bytes.Buffer
	b.Grow(96 * len(events))
	enc := json.NewEncoder(&scratch)
	enc.SetEscapeHTML(false)
	var keys []string
	for _, e := range events {
		n := b.Len()
		b.WriteString(`{"op":`)
		if plainOp(e.Op) {
			b.WriteByte('"')
			b.WriteString(e.Op)
			b.WriteByte('"')
		} else {
			op, _ := json.Marshal(e.Op)
			b.Write(op)
		}
		b.WriteString(`,"t_ms":`)
		b.Write(strconv.AppendInt(b.AvailableBuffer(), e.TMS, 10))
		var ok bool
		if keys, ok = appendFields(&b, e.Fields, keys, enc, &scratch); !ok {
			b.Truncate(n) // a field json cannot encode: the line is left out
			continue
		}
		b.WriteString("}\n")
	}
	return b.Bytes()
}

// appendFields writes a trace line's fields as encoding/json writes a
// map[string]any (keys sorted, no HTML escaping), each preceded by a
// comma. Plain strings, integers and booleans are written here; anything
// else goes through enc (which writes to scratch). Encoding each map with
// encoding/json cost about twenty allocations a call. keys is scratch
// space, returned for reuse; ok is false if a value cannot be encoded.
func appendFields(b *bytes.Buffer, fields map[string]any, keys []string, enc *json.Encoder, scratch *bytes.Buffer) ([]string, bool) {
	keys = keys[:0]
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteByte(',')
		if !appendPlain(b, k) && !appendEncoded(b, k, enc, scratch) {
			return keys, false
		}
		b.WriteByte(':')
		ok := true
		switch v := fields[k].(type) {
		case string:
			if !appendPlain(b, v) {
				ok = appendEncoded(b, v, enc, scratch)
			}
		case int:
			b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(v), 10))
		case int64:
			b.Write(strconv.AppendInt(b.AvailableBuffer(), v, 10))
		case bool:
			b.Write(strconv.AppendBool(b.AvailableBuffer(), v))
		case nil:
			b.WriteString("null")
		default:
			ok = appendEncoded(b, v, enc, scratch)
		}
		if !ok {
			return keys, false
		}
	}
	return keys, true
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

// appendEncoded writes v as enc encodes it.
func appendEncoded(b *bytes.Buffer, v any, enc *json.Encoder, scratch *bytes.Buffer) bool {
	scratch.Reset()
	if err := enc.Encode(v); err != nil {
		return false
	}
	b.Write(bytes.TrimRight(scratch.Bytes(), "\n"))
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
