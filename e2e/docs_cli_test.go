package e2e

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDocsExportImportCommands: import the fixture tree, export it, import
// the export into a fresh server, export again: the two trees are
// byte-identical; docs list/get/delete work on any kind.
func TestDocsExportImportCommands(t *testing.T) {
	key := "docs-cli-key-0123456789"
	one := serve(t, nil, "--http-addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--admin-key", key)
	env1 := []string{"SWITCHBOARD_SERVER=" + one.URL, "SWITCHBOARD_ADMIN_KEY=" + key}
	fixtures, err := filepath.Abs("../testdata/documents")
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, err := run(t, env1, "", "import", "--dry-run", fixtures)
	if err != nil || !strings.Contains(out, "create menus") {
		t.Fatalf("import --dry-run: %v %q %q", err, out, stderr)
	}
	if out, _, _ := run(t, env1, "", "docs", "list", "menus"); strings.Contains(out, "Main menu") {
		t.Fatalf("a dry run wrote: %q", out)
	}
	if out, stderr, err = run(t, env1, "", "import", fixtures); err != nil || strings.Count(out, "create ") < 12 {
		t.Fatalf("import: %v %q %q", err, out, stderr)
	}
	token, account := signIn(t, one.URL, key)
	uploadMedia(t, one.URL+"/v2/accounts/"+account, token, "Lobby music",
		filepath.Join("..", "internal", "media", "testdata", "audio", "tone-440hz-8000-mono.mp3"), "audio/mpeg")
	first := t.TempDir()
	if out, stderr, err = run(t, env1, "", "export", first); err != nil {
		t.Fatalf("export: %v %q %q", err, out, stderr)
	}
	if wav, err := os.ReadFile(filepath.Join(first, "media", "lobby-music.wav")); err != nil || !bytes.HasPrefix(wav, []byte("RIFF")) {
		t.Fatalf("the export has no media/lobby-music.wav beside the document: %v; %v", err, slices.Sorted(maps.Keys(readTree(t, first))))
	}

	two := serve(t, nil, "--http-addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--admin-key", key)
	env2 := []string{"SWITCHBOARD_SERVER=" + two.URL, "SWITCHBOARD_ADMIN_KEY=" + key}
	if out, stderr, err = run(t, env2, "", "import", first); err != nil {
		t.Fatalf("import the export: %v %q %q", err, out, stderr)
	}
	if out, _, err = run(t, env2, "", "import", first); err != nil || strings.Contains(out, "create") || strings.Contains(out, "update") {
		t.Fatalf("import twice: %v %q", err, out)
	}
	second := t.TempDir()
	if out, stderr, err = run(t, env2, "", "export", second); err != nil {
		t.Fatalf("export again: %v %q %q", err, out, stderr)
	}
	a, b := readTree(t, first), readTree(t, second)
	if len(a) < 12 || len(a) != len(b) {
		t.Fatalf("%d files, then %d", len(a), len(b))
	}
	for name, body := range a {
		if !bytes.Equal(body, b[name]) {
			t.Errorf("%s differs:\n%s\n%s", name, body, b[name])
		}
	}

	out, _, err = run(t, env2, "", "docs", "list", "devices")
	if err != nil || !strings.Contains(out, "Alice desk phone") {
		t.Fatalf("docs list: %v %q", err, out)
	}
	out, _, err = run(t, env2, "", "docs", "get", "devices", "de51c000000000000000000000000002")
	if err != nil || !strings.Contains(out, "alice-desk") || strings.Contains(out, "ha1") || strings.Contains(out, "desk-pass-1") {
		t.Fatalf("docs get: %v %q", err, out)
	}
	_, stderr, err = run(t, env2, "", "docs", "delete", "menus", "ae0a1000000000000000000000000004")
	if err == nil || !strings.Contains(stderr, "409") {
		t.Fatalf("deleting a used menu: %v %q", err, stderr)
	}
	if out, _, err = run(t, env2, "", "docs", "delete", "--force", "menus", "ae0a1000000000000000000000000004"); err != nil || !strings.HasPrefix(out, "deleted ") {
		t.Fatalf("forced delete: %v %q", err, out)
	}
	if out, _, err = run(t, env2, `{"name":"New box","mailbox":"2002"}`, "docs", "apply", "-f", "-", "vmboxes"); err != nil || !strings.HasPrefix(out, "created ") {
		t.Fatalf("docs apply: %v %q", err, out)
	}
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
