package server

import (
	"time"

	"github.com/switchboard/switchboard/internal/store"
)

// SetMarkAfter sets how long a call runs before its in-progress row is
// written (markInProgress); before any call.
func SetMarkAfter(s *Server, d time.Duration) { s.calls.markAfter = d }

// StoredCallLog is the call log itself, without the calls in progress
// merged in: what a crash would leave.
func StoredCallLog(s *Server) store.CallLog { return s.callLog }

// LiveCalls is how many calls are in progress.
func LiveCalls(s *Server) int { return s.calls.live.count() }
