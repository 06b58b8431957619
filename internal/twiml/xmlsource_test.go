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

func (x *xmlSource) next() (tok, error) {
	t, err := x.d.RawToken()
	if err != nil {
		if err == io.EOF {
			return tok{}, io.EOF
		}
		return tok{}, err
	}
	switch t := t.(type) {
	case xml.StartElement:
		return tok{kind: tokStart, name: t.Name, attr: t.Attr}, nil
	case xml.EndElement:
		return tok{kind: tokEnd, name: t.Name}, nil
	case xml.CharData:
		return tok{kind: tokText, text: t}, nil
	}
	return tok{kind: tokOther}, nil
}

func (x *xmlSource) line() int {
	l, _ := x.d.InputPos()
	return l
}
