package api

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// getRecording serves one recording of the account: a file of the
// account's own directory under Config.RecordingsDir, named without any
// path (no traversal, no hidden files); os.Root keeps even a symlink from
// leading out of the directory.
func (a *API) getRecording(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("file")
	if a.cfg.RecordingsDir == "" || !validFileName(name) {
		return errNoRecording
	}
	root, err := os.OpenRoot(filepath.Join(a.cfg.RecordingsDir, accountOf(r)))
	if errors.Is(err, fs.ErrNotExist) {
		return errNoRecording
	}
	if err != nil {
		return err
	}
	defer root.Close()
	f, err := root.Open(name)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return errNoRecording
	}
	if err != nil {
		if strings.Contains(err.Error(), "escapes") {
			return errNoRecording
		}
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return errNoRecording
	}
	w.Header().Set("Content-Type", audioType(name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(w, r, name, st.ModTime(), f)
	return nil
}

var errNoRecording = &Error{Status: http.StatusNotFound, Message: "bad identifier", Data: map[string]any{"cause": "no such recording"}}

// validFileName accepts a plain file name as media names recordings:
// letters, digits, '-', '_', '.', '@', '+', not starting with a dot.
func validFileName(name string) bool {
	if name == "" || len(name) > 255 || name[0] == '.' {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.@+", c)) {
			return false
		}
	}
	return true
}

func audioType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".wav":
		return "audio/wav"
	case ".mp3":
		return "audio/mpeg"
	case ".ogg":
		return "audio/ogg"
	}
	return "application/octet-stream"
}
