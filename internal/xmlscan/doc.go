// Package xmlscan tokenizes an in-memory XML document exactly as
// encoding/xml's Decoder.RawToken does, several times faster and almost
// without allocating. It is a leaf: the TwiML parser (internal/twiml) and
// the Pivot client's answer check (internal/pivot) both read with it.
package xmlscan
