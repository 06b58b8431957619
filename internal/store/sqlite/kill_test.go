package sqlite_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/switchboard/switchboard/internal/store/sqlite"
	"github.com/switchboard/switchboard/internal/store/storetest"
)

const killEnv = "SWITCHBOARD_SQLITE_KILL_DB"

// TestKillKeepsCommitted writes from a child process, kills it (SIGKILL, no
// Close, no checkpoint) right after the writes return, and finds every
// write on reopening.
func TestKillKeepsCommitted(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kill.db")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestKillHelper$")
	cmd.Env = append(os.Environ(), killEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "written\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q, %v", line, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	db := open(t, path)
	for i := range 20 {
		if _, err := db.GetCallflow(t.Context(), "a", fmt.Sprintf("f%02d", i)); err != nil {
			t.Fatalf("after kill: %v", err)
		}
	}
}

// TestKillHelper is the child of TestKillKeepsCommitted.
func TestKillHelper(t *testing.T) {
	path := os.Getenv(killEnv)
	if path == "" {
		t.Skip("child process of TestKillKeepsCommitted")
	}
	db, err := sqlite.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Account(t, db, "a")
	for i := range 20 {
		storetest.Create(t, db, storetest.Flow("a", fmt.Sprintf("f%02d", i), []string{fmt.Sprint("+", i)}, nil))
	}
	fmt.Println("written")
	io.Copy(io.Discard, os.Stdin) // until killed
}
