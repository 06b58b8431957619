package media

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
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
		{"", 0, true},
		{"HIGH", 0, true},
		{"realtime", 0, true},
		{"-10", 0, true},
	} {
		got, err := ParsePriority(c.in)
		if c.bad {
			if err == nil || !strings.Contains(err.Error(), "want normal or high") {
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
	close(release)
	all, err := threadIDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, tid := range all {
		if n, _ := threadSched(t, tid); n != highNice {
			t.Errorf("thread %d: nice %d after ApplyPriority", tid, n)
		}
	}
}

// runPriorityChild runs the test named in a child process (the priority is
// the whole process's, and cannot be undone without privilege); noNice
// starts it without CAP_SYS_NICE and with RLIMIT_NICE 0.
func runPriorityChild(t *testing.T, name string, noNice bool) string {
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
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	return string(out)
}
