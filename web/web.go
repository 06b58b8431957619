// Package web is the call-flow configurator: plain ES modules and custom
// elements, no build step, embedded in the binary.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// FS is the configurator's files, index.html at the root.
func FS() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic("web: no static dir: " + err.Error()) // a build mistake
	}
	return sub
}
