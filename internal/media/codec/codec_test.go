package codec_test

import (
	"testing"

	"github.com/zaf/g711"

	"github.com/switchboard/switchboard/internal/media/codec"
)

func TestTablesMatchG711(t *testing.T) {
	t.Parallel()
	var all [256]byte
	for i := range all {
		all[i] = byte(i)
	}
	u := codec.PCMU.Decode(make([]int16, 256), all[:])
	a := codec.PCMA.Decode(make([]int16, 256), all[:])
	for i := range all {
		if u[i] != g711.DecodeUlawFrame(uint8(i)) || a[i] != g711.DecodeAlawFrame(uint8(i)) {
			t.Fatalf("code %d: %d/%d", i, u[i], a[i])
		}
	}
	buf := append([]byte(nil), all[:]...)
	codec.Transcode(buf, codec.PCMU, codec.PCMA)
	for i := range buf {
		if buf[i] != g711.Ulaw2AlawFrame(uint8(i)) {
			t.Fatalf("µ→A %d", i)
		}
	}
	codec.Transcode(buf, codec.PCMA, codec.PCMA) // no-op
	if buf[0] != g711.Ulaw2AlawFrame(0) {
		t.Fatal("same-codec transcode changed data")
	}
}

func TestEncodeFrames(t *testing.T) {
	t.Parallel()
	pcm := make([]int16, 161)
	pcm[0] = 1000
	for _, c := range []codec.Codec{codec.PCMU, codec.PCMA} {
		f := c.EncodeFrames(pcm)
		if len(f) != 320 || f[319] != c.Silence() || f[0] == c.Silence() {
			t.Errorf("%s: %d bytes", c, len(f))
		}
		back := c.Decode(make([]int16, 320), f)
		if back[0] < 900 || back[0] > 1100 || back[319] > 16 {
			t.Errorf("%s round trip %d %d", c, back[0], back[319])
		}
	}
	if codec.PCMU.String() != "PCMU" || codec.PCMA.String() != "PCMA" {
		t.Error("names")
	}
}

func BenchmarkTranscode(b *testing.B) {
	buf := make([]byte, 160)
	for b.Loop() {
		codec.Transcode(buf, codec.PCMU, codec.PCMA)
	}
}
