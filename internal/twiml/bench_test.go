package twiml

import "testing"

// benchDoc is a typical ~1 KB answer: a menu, a fallback message, a dial
// to two numbers and a redirect.
var benchDoc = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<Response>
    <Gather action="/ivr/menu-choice" method="POST" numDigits="1" timeout="7" finishOnKey="#">
        <Say voice="Polly.Joanna" language="en-US">
            Thank you for calling Example Plumbing &amp; Heating.
            For sales, press 1. For support, press 2.
            To reach the accounts department, press 3.
            To hear these options again, stay on the line.
        </Say>
    </Gather>
    <Say voice="Polly.Joanna" language="en-US">We did not receive any input. Please hold while we connect you to the next available agent.</Say>
    <Dial action="/ivr/dial-status" method="POST" timeout="25" callerId="+14155550100" timeLimit="3600" record="record-from-answer">
        <Number sendDigits="ww1234" statusCallback="https://example.com/ivr/number-status" statusCallbackEvent="answered completed">+14155550123</Number>
        <Number statusCallback="https://example.com/ivr/number-status" statusCallbackEvent="answered completed">+14155550124</Number>
    </Dial>
    <Redirect method="POST">https://example.com/ivr/voicemail?reason=no-answer&amp;attempt=1</Redirect>
</Response>
`)

func BenchmarkParse(b *testing.B) {
	b.SetBytes(int64(len(benchDoc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(benchDoc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkParseEncodingXML is the same parse with encoding/xml's
// tokenizer instead of the scanner, for comparison.
func BenchmarkParseEncodingXML(b *testing.B) {
	b.SetBytes(int64(len(benchDoc)))
	b.ReportAllocs()
	for b.Loop() {
		p, lines, _ := prepare(benchDoc)
		if _, err := parse(newXMLSource(p), lines); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}
