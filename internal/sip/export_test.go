package sip

// TortureDir lets the external tests find the RFC 4475 messages the same
// way the internal ones do.
var TortureDir = tortureDir
