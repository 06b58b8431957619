// Package actions holds the call-flow modules, one file each; every file
// registers its module with the engine from init(). Import it for its side
// effects: _ "github.com/switchboard/switchboard/internal/actions".
package actions

import "embed"

//go:embed schemas/*.json
var schemas embed.FS

// schema returns the embedded JSON Schema of a module's data. A missing file
// is a build mistake, so it panics at init.
func schema(name string) []byte {
	b, err := schemas.ReadFile("schemas/" + name + ".json")
	if err != nil {
		panic("actions: no schema for module " + name + ": " + err.Error())
	}
	return b
}
