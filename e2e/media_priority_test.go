package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/waitfor"
	"golang.org/x/sys/unix"
)

// TestMediaPriorityWithoutPermission starts the server with
// --media-priority high as a process that may not lower its nice value (no
// CAP_SYS_NICE, RLIMIT_NICE 0): it logs a warning naming what is missing,
// serves, and its threads keep nice 0 (with the 1 ms slice on kernels
// that take one, which needs no privilege).
func TestMediaPriorityWithoutPermission(t *testing.T) {
	setpriv, err1 := exec.LookPath("setpriv")
	prlimit, err2 := exec.LookPath("prlimit")
	if err1 != nil || err2 != nil {
		t.Skip("setpriv and prlimit (util-linux) are needed")
	}
	cmd := exec.Command(setpriv, "--bounding-set=-sys_nice", "--inh-caps=-sys_nice", "--",
		prlimit, "--nice=0:0", "--",
		binary, "serve", "--log-format", "json", "--http-addr", "127.0.0.1:0", "--sip-addr", "127.0.0.1:0",
		"--data-dir", t.TempDir(), "--admin-key", "priority-test-key-0123456789", "--media-priority", "high")
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	addr, warned := make(chan string, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Log("serve:", sc.Text())
			var rec struct {
				Level, Msg, Addr, Err string
			}
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				continue
			}
			switch {
			case rec.Msg == "http listening":
				addr <- rec.Addr
			case strings.HasPrefix(rec.Msg, "media priority"):
				warned <- rec.Level + " " + rec.Err
			}
		}
	}()
	var warning string
	select {
	case warning = <-warned:
	case err := <-done:
		t.Fatalf("serve exited: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("no media priority line logged within 60s")
	}
	if !strings.HasPrefix(warning, "WARN ") || !strings.Contains(warning, "CAP_SYS_NICE") {
		t.Errorf("priority line %q: want a warning naming CAP_SYS_NICE", warning)
	}
	var url string
	select {
	case a := <-addr:
		url = "http://" + a
	case err := <-done:
		t.Fatalf("serve exited: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not listen within 60s")
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", cmd.Process.Pid))
	if len(tasks) == 0 {
		t.Fatal("no threads found")
	}
	for _, task := range tasks {
		var tid int
		fmt.Sscan(filepath.Base(task), &tid)
		a, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			continue // the thread ended
		}
		if a.Nice != 0 {
			t.Errorf("thread %d has nice %d without permission", tid, a.Nice)
		}
	}
}

// TestMediaPriorityFlag: a bad value is refused before anything starts,
// naming the choices.
func TestMediaPriorityFlag(t *testing.T) {
	_, stderr, err := run(t, nil, "", "serve", "--media-priority", "realtime", "--data-dir", t.TempDir())
	if err == nil || !strings.Contains(stderr, `--media-priority: media priority "realtime": want normal, bounded, pacer or high`) {
		t.Errorf("--media-priority realtime: err %v, stderr %q", err, stderr)
	}
	_, stderr, err = run(t, []string{"SWITCHBOARD_MEDIA_PRIORITY=urgent"}, "", "serve", "--data-dir", t.TempDir())
	if err == nil || !strings.Contains(stderr, `"urgent": want normal, bounded, pacer or high`) {
		t.Errorf("SWITCHBOARD_MEDIA_PRIORITY=urgent: err %v, stderr %q", err, stderr)
	}
	out, _, _ := run(t, nil, "", "serve", "--help")
	if !strings.Contains(out, "--media-priority") || !strings.Contains(out, "SWITCHBOARD_MEDIA_PRIORITY") {
		t.Error("serve --help does not describe --media-priority")
	}
}

// TestMediaPriorityDefault: started with no flag the server leaves its
// threads' nice alone (as Asterisk and FreeSWITCH do by default: a server
// that runs out of CPU must not take it from a database beside it), and
// --media-priority high gives every thread nice -10 where permitted.
func TestMediaPriorityDefault(t *testing.T) {
	niceOf := func(args ...string) map[int]int32 {
		p := serve(t, nil, append([]string{"--http-addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--admin-key", "priority-test-key-0123456789"}, args...)...)
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", p.cmd.Process.Pid))
		if len(tasks) < 2 {
			t.Fatalf("threads: %v", tasks)
		}
		nice := map[int]int32{}
		for _, task := range tasks {
			var tid int
			fmt.Sscan(filepath.Base(task), &tid)
			if a, err := unix.SchedGetAttr(tid, 0); err == nil {
				nice[tid] = a.Nice
			}
		}
		return nice
	}
	for tid, n := range niceOf() {
		if n != 0 {
			t.Errorf("default: thread %d has nice %d, want 0", tid, n)
		}
	}
	if !mayLowerNice() {
		t.Skip("this test process may not lower its nice: the server could not either")
	}
	for tid, n := range niceOf("--media-priority", "high") {
		if n != -10 {
			t.Errorf("--media-priority high: thread %d has nice %d, want -10", tid, n)
		}
	}
}

// mayLowerNice tries to lower this thread's nice by one and puts it back
// (raising it is always allowed).
func mayLowerNice() bool {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	a, err := unix.SchedGetAttr(0, 0)
	if err != nil || unix.Setpriority(unix.PRIO_PROCESS, 0, int(a.Nice)-1) != nil {
		return false
	}
	unix.Setpriority(unix.PRIO_PROCESS, 0, int(a.Nice))
	return true
}

// raisedThreads lists pid's threads in another class than SCHED_NORMAL,
// by policy.
func raisedThreads(pid int) map[int]uint32 {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	raised := map[int]uint32{}
	for _, task := range tasks {
		var tid int
		fmt.Sscan(filepath.Base(task), &tid)
		if a, err := unix.SchedGetAttr(tid, 0); err == nil && a.Policy != unix.SCHED_NORMAL {
			raised[tid] = a.Policy
		}
	}
	return raised
}

// TestMediaPriorityRaisedThread: with no --media-priority (bounded, the
// default), while a call plays a prompt, the server has one thread at
// SCHED_FIFO (the pacing thread) and every other thread in the normal
// class; after the call, none is raised.
func TestMediaPriorityRaisedThread(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Skip("raising a thread needs root here (CAP_SYS_NICE)")
	}
	sipTool(t, "sipp")
	s := serveSIP(t) // bounded: the default
	s.flow(t, "2001", map[string]any{"module": "tts", "data": map[string]any{
		"text": "This prompt is long enough for the caller to hang up in the middle of it, which is what happens next.",
	}})
	pid := s.cmd.Process.Pid
	if r := raisedThreads(pid); len(r) != 0 {
		t.Errorf("raised threads before any call: %v", r)
	}
	call := sippCmd(t, "uac_bye.xml", s.SIP, "-s", "2001", "-cid_str", "bounded-%u-%p@%s", "-p", fmt.Sprint(sipFreePort(t)))()
	raised := waitfor.Value(t, 10*time.Second, "a raised pacing thread during the call", func() (map[int]uint32, bool) {
		r := raisedThreads(pid)
		return r, len(r) > 0
	})
	if err := call.Wait(); err != nil {
		t.Fatal(err)
	}
	for tid, policy := range raised {
		if policy != unix.SCHED_FIFO || len(raised) != 1 {
			t.Errorf("raised during the call: %v (thread %d policy %d), want one thread at SCHED_FIFO", raised, tid, policy)
		}
	}
	waitfor.True(t, 10*time.Second, "no raised thread once the call ended", func() bool { return len(raisedThreads(pid)) == 0 })
}
