package server

import "syscall"

// openFileLimit is the process's open-file limit. Go raises the soft limit
// to the hard one at start (since Go 1.19), so this is the real ceiling the
// connection limits must stay under, leaving room for RTP sockets (two per
// call), SIP connections and the database.
func openFileLimit() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == 0 {
		return 1024
	}
	return int(min(lim.Cur, 1<<30))
}
