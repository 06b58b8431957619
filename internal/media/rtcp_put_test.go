package media

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/pion/rtcp"
)

// TestRTCPPutMatchesPion: the compound packet we write by hand is the
// one pion/rtcp marshals for the same SR or RR and CNAME, byte for byte.
func TestRTCPPutMatchesPion(t *testing.T) {
	blocks := []*rtcpBlock{nil,
		{ssrc: 0xdeadbeef, fraction: 12, lost: 0x123456, extMax: 0x0001fffe, jitter: 97},
		{ssrc: 1, fraction: 255, lost: 0xffffff, extMax: 0xffffffff, jitter: 0xffffffff},
	}
	for _, ssrc := range []uint32{0, 0x0000000a, 0x89abcdef, 0xffffffff} {
		for _, sending := range []bool{true, false} {
			for _, k := range blocks {
				r := rtcpReport{sending: sending, ssrc: ssrc, rtpTime: 0x01020304, ntp: 0xe8f1a2b3c4d5e6f7, packets: 4242, octets: 4242 * 160}
				var reports []rtcp.ReceptionReport
				if k != nil {
					r.hasBlock, r.block = true, *k
					reports = []rtcp.ReceptionReport{{SSRC: k.ssrc, FractionLost: k.fraction, TotalLost: k.lost, LastSequenceNumber: k.extMax, Jitter: k.jitter}}
				}
				var report rtcp.Packet = &rtcp.ReceiverReport{SSRC: ssrc, Reports: reports}
				if sending {
					report = &rtcp.SenderReport{SSRC: ssrc, NTPTime: r.ntp, RTPTime: r.rtpTime, PacketCount: r.packets, OctetCount: r.octets, Reports: reports}
				}
				sdes := &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{
					Source: ssrc,
					Items:  []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: fmt.Sprintf("%08x@switchboard", ssrc)}},
				}}}
				want, err := rtcp.Marshal([]rtcp.Packet{report, sdes})
				if err != nil {
					t.Fatal(err)
				}
				var buf [rtcpMaxLen]byte
				if got := r.put(buf[:]); !bytes.Equal(got, want) {
					t.Errorf("ssrc %08x sending %v block %v:\n got % x\nwant % x", ssrc, sending, k != nil, got, want)
				}
			}
		}
	}
}

// BenchmarkRTCPPut is one report of ours written.
func BenchmarkRTCPPut(b *testing.B) {
	r := rtcpReport{sending: true, ssrc: 0x89abcdef, hasBlock: true, block: rtcpBlock{ssrc: 7, extMax: 100}}
	var buf [rtcpMaxLen]byte
	b.ReportAllocs()
	for b.Loop() {
		r.put(buf[:])
	}
}
