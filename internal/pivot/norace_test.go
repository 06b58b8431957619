//go:build !race

package pivot

const raceEnabled = false
