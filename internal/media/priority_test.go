package media

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestParsePriority(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Priority
		bad  bool
	}{
		{"normal", PriorityNormal, false},
		{"high", PriorityHigh, false},
		{"pacer", PriorityPacer, false},
		{"bounded", PriorityBounded, false},
		{"Bounded", 0, true},
		{"deadline", 0, true},
		{"", 0, true},
		{"HIGH", 0, true},
		{"realtime", 0, true},
		{"-10", 0, true},
	} {
		got, err := ParsePriority(c.in)
		if c.bad {
			if err == nil || !strings.Contains(err.Error(), "want normal, bounded, pacer or high") {
				t.Errorf("ParsePriority(%q) = %v, %v; want an error naming the choices", c.in, got, err)
			}
			continue
		}
		if err != nil || got != c.want || got.String() != c.in {
			t.Errorf("ParsePriority(%q) = %v, %v", c.in, got, err)
		}
	}
}

// threadSched reads a thread's nice and slice from the kernel.
func threadSched(t *testing.T, tid int) (int, time.Duration) {
	t.Helper()
	a, err := unix.SchedGetAttr(tid, 0)
	if err != nil {
		t.Fatal(err)
	}
	return int(a.Nice), time.Duration(a.Runtime)
}

// TestPriorityInherited: every thread gets the priority, and a thread the
// runtime makes afterwards inherits it.
func TestPriorityInherited(t *testing.T) {
	if os.Getenv("MEDIA_PRIORITY_CHILD") == "" {
		runPriorityChild(t, "TestPriorityInherited", false)
		return
	}
	nice, slice := ApplyPriority(PriorityHigh, nil)
	t.Logf("applied nice %d slice %v", nice, slice)
	if nice != highNice {
		t.Skipf("no permission to lower nice here (got %d)", nice)
	}
	// Make new threads: goroutines locked to their threads, blocked.
	release := make(chan struct{})
	defer close(release) // after the listing below: these four are in it
	tids := make(chan int)
	for range 4 {
		go func() {
			runtime.LockOSThread()
			tids <- unix.Gettid()
			<-release
		}()
	}
	for range 4 {
		tid := <-tids
		n, s := threadSched(t, tid)
		if n != highNice {
			t.Errorf("thread %d: nice %d, want %d", tid, n, highNice)
		}
		if slice != 0 && s != slice {
			t.Errorf("thread %d: slice %v, want %v", tid, s, slice)
		}
	}
	all, err := threadIDs()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, tid := range all {
		a, err := unix.SchedGetAttr(tid, 0)
		if errors.Is(err, unix.ESRCH) {
			continue // the thread ended since it was listed: nothing to check
		}
		if err != nil {
			t.Fatalf("thread %d: %v", tid, err)
		}
		checked++
		if int(a.Nice) != highNice {
			t.Errorf("thread %d: nice %d after ApplyPriority", tid, a.Nice)
		}
	}
	if checked < 5 { // the test's thread and the four locked ones at least
		t.Errorf("checked %d threads of %d listed, want at least 5", checked, len(all))
	}
}

// runPriorityChild runs the test named in a child process (the priority is
// the whole process's, and cannot be undone without privilege); noNice
// starts it without CAP_SYS_NICE and with RLIMIT_NICE 0.
func runPriorityChild(t *testing.T, name string, noNice bool, env ...string) string {
	t.Helper()
	args := []string{os.Args[0], "-test.run=^" + name + "$", "-test.count=1", "-test.v"}
	if noNice {
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Skip("setpriv (util-linux) not installed")
		}
		args = append([]string{setpriv, "--bounding-set=-sys_nice", "--inh-caps=-sys_nice"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "MEDIA_PRIORITY_CHILD=1", "MEDIA_PRIORITY_NO_NICE="+strconv.FormatBool(noNice))
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	return string(out)
}

// TestPriorityWithoutPermission: a process without CAP_SYS_NICE (and an
// RLIMIT_NICE of 0) asked for high priority keeps its nice, gets the slice
// (which needs no privilege) where the kernel has custom slices, and logs
// one warning that says what is missing; nothing fails.
func TestPriorityWithoutPermission(t *testing.T) {
	if os.Getenv("MEDIA_PRIORITY_CHILD") == "" {
		out := runPriorityChild(t, "TestPriorityWithoutPermission", true)
		if !strings.Contains(out, "--- PASS") {
			t.Fatal("the child did not pass")
		}
		return
	}
	if err := unix.Setrlimit(unix.RLIMIT_NICE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	nice, slice := ApplyPriority(PriorityHigh, log)
	t.Logf("applied nice %d slice %v; log: %s", nice, slice, logs.String())
	if os.Getenv("MEDIA_PRIORITY_NO_NICE") == "true" {
		if nice != 0 {
			t.Errorf("nice %d without CAP_SYS_NICE, want 0 (unchanged)", nice)
		}
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "CAP_SYS_NICE") {
			t.Errorf("no warning naming CAP_SYS_NICE: %q", logs.String())
		}
		if strings.Count(logs.String(), "\n") != 1 {
			t.Errorf("want one log line, got %q", logs.String())
		}
	}
	all, err := threadIDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, tid := range all {
		n, s := threadSched(t, tid)
		if n != nice || s != slice {
			t.Errorf("thread %d: nice %d slice %v, want what ApplyPriority reported (%d, %v)", tid, n, s, nice, slice)
		}
	}
	// The kernel here has custom slices (6.12+): the slice needs no privilege.
	var u unix.Utsname
	unix.Uname(&u)
	if rel := unix.ByteSliceToString(u.Release[:]); kernelAtLeast(rel, 6, 12) && slice != highSlice {
		t.Errorf("slice %v on Linux %s, want %v", slice, rel, highSlice)
	}
}

// kernelAtLeast compares a kernel release ("6.18.44-fc") with major.minor.
func kernelAtLeast(rel string, major, minor int) bool {
	var a, b int
	if _, err := fmt.Sscanf(rel, "%d.%d", &a, &b); err != nil {
		return false
	}
	return a > major || a == major && b >= minor
}

func TestPriorityNormalTouchesNothing(t *testing.T) {
	before, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n, s := ApplyPriority(PriorityNormal, nil); n != 0 || s != 0 {
		t.Errorf("normal: %d %v", n, s)
	}
	after, _ := unix.SchedGetAttr(0, 0)
	if *before != *after {
		t.Errorf("normal changed the thread: %+v → %+v", before, after)
	}
}

// TestPriorityAutogroup: a session leader (a daemon) gets the nice on its
// autogroup too; a process in its parent's session leaves the group alone.
func TestPriorityAutogroup(t *testing.T) {
	if b, err := os.ReadFile("/proc/sys/kernel/sched_autogroup_enabled"); err != nil || len(b) == 0 || b[0] != '1' {
		t.Skip("autogroups are off here")
	}
	if os.Getenv("MEDIA_PRIORITY_CHILD") == "" {
		for _, leader := range []bool{true, false} {
			cmd := exec.Command(os.Args[0], "-test.run=^TestPriorityAutogroup$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), "MEDIA_PRIORITY_CHILD=1", "MEDIA_PRIORITY_LEADER="+strconv.FormatBool(leader))
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: leader}
			out, err := cmd.CombinedOutput()
			t.Logf("child (session leader %v):\n%s", leader, out)
			if err != nil {
				t.Fatalf("child: %v", err)
			}
		}
		return
	}
	before, _ := os.ReadFile("/proc/self/autogroup")
	nice, _ := ApplyPriority(PriorityHigh, nil)
	after, _ := os.ReadFile("/proc/self/autogroup")
	t.Logf("autogroup %q → %q", before, after)
	if nice != highNice {
		t.Skipf("no permission to lower nice here (got %d)", nice)
	}
	want := string(before)
	if os.Getenv("MEDIA_PRIORITY_LEADER") == "true" {
		want = strings.Fields(string(before))[0] + " nice " + strconv.Itoa(highNice) + "\n"
	}
	if string(after) != want {
		t.Errorf("autogroup %q, want %q", after, want)
	}
}
