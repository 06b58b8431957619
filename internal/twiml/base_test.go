package twiml

import (
	"bytes"
	"encoding/xml"
	"io"
	"testing"
)

func BenchmarkRawTokens(b *testing.B) {
	for b.Loop() {
		d := xml.NewDecoder(bytes.NewReader(benchDoc))
		for {
			_, err := d.RawToken()
			if err == io.EOF {
				break
			}
		}
	}
}
