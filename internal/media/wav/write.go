package wav

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

const headerSize = 44

// Writer streams 16-bit mono PCM into a WAV file and patches the header's
// sizes on Close (or interleaved frames of several channels:
// NewWriterChannels).
type Writer struct {
	w        io.WriteSeeker
	bw       *bufio.Writer
	rate     int
	channels int
	samples  int64
	scratch  [512]byte
	err      error
}

// NewWriter writes a header to w (at its current offset, normally 0) and
// returns a writer for samples at rate Hz.
func NewWriter(w io.WriteSeeker, rate int) (*Writer, error) {
	return NewWriterChannels(w, rate, 1)
}

// NewWriterChannels is NewWriter for interleaved samples of channels
// channels (2: left, right, left …); Samples counts every channel's.
func NewWriterChannels(w io.WriteSeeker, rate, channels int) (*Writer, error) {
	channels = max(channels, 1)
	wr := &Writer{w: w, bw: bufio.NewWriterSize(w, 32<<10), rate: rate, channels: channels}
	if _, err := wr.bw.Write(headerChannels(rate, channels, 0)); err != nil {
		return nil, fmt.Errorf("write wav header: %w", err)
	}
	return wr, nil
}

// Write appends samples.
func (w *Writer) Write(samples []int16) error {
	if w.err != nil {
		return w.err
	}
	for len(samples) > 0 {
		n := min(len(samples), len(w.scratch)/2)
		for i := range n {
			binary.LittleEndian.PutUint16(w.scratch[2*i:], uint16(samples[i]))
		}
		if _, err := w.bw.Write(w.scratch[:2*n]); err != nil {
			w.err = err
			return err
		}
		w.samples += int64(n)
		samples = samples[n:]
	}
	return nil
}

// WriteSilence appends n zero samples.
func (w *Writer) WriteSilence(n int) error {
	var zero [256]int16
	for n > 0 {
		k := min(n, len(zero))
		if err := w.Write(zero[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// Samples is the number of samples written so far.
func (w *Writer) Samples() int64 { return w.samples }

// Close flushes and fixes the header. It does not close the underlying
// file.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		return err
	}
	if _, err := w.w.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := w.w.Write(headerChannels(w.rate, w.channels, w.samples*2)); err != nil {
		return err
	}
	_, err := w.w.Seek(0, io.SeekEnd)
	return err
}

// Encode is a whole 16-bit mono WAV file holding samples.
func Encode(samples []int16, rate int) []byte {
	out := make([]byte, headerSize+2*len(samples))
	copy(out, header(rate, int64(2*len(samples))))
	for i, v := range samples {
		binary.LittleEndian.PutUint16(out[headerSize+2*i:], uint16(v))
	}
	return out
}

func header(rate int, dataBytes int64) []byte { return headerChannels(rate, 1, dataBytes) }

func headerChannels(rate, channels int, dataBytes int64) []byte {
	if dataBytes > 0xFFFFFFFF-36 {
		dataBytes = 0xFFFFFFFF - 36
	}
	h := make([]byte, headerSize)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+dataBytes))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], formatPCM)
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*2*channels))
	binary.LittleEndian.PutUint16(h[32:], uint16(2*channels))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(dataBytes))
	return h
}
