package twiml

import (
	"bytes"
	"encoding/xml"
	"io"
)

// xmlSource reads tokens with encoding/xml, the reference the scanner must
// match.
type xmlSource struct{ d *xml.Decoder }

func newXMLSource(b []byte) *xmlSource {
	return &xmlSource{d: xml.NewDecoder(bytes.NewReader(b))}
}

func (x *xmlSource) Next() (tok, error) {
	t, err := x.d.RawToken()
	if err != nil {
		if err == io.EOF {
			return tok{}, io.EOF
		}
		return tok{}, err
	}
	switch t := t.(type) {
	case xml.StartElement:
		return tok{Kind: tokStart, Name: t.Name, Attr: t.Attr}, nil
	case xml.EndElement:
		return tok{Kind: tokEnd, Name: t.Name}, nil
	case xml.CharData:
		return tok{Kind: tokText, Text: t}, nil
	}
	return tok{Kind: tokOther}, nil
}

func (x *xmlSource) Line() int {
	l, _ := x.d.InputPos()
	return l
}
