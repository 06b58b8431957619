package document_test

import (
	"bytes"
	"testing"
	"testing/fstest"

	"github.com/switchboard/switchboard/internal/document"
)

// TestBundleFilesCarryAudio: a media's audio is written beside its
// document as <name>.wav and read back with it, byte for byte.
func TestBundleFilesCarryAudio(t *testing.T) {
	audio := []byte("RIFF\x00\x01\x02 not really a WAV, kept as bytes")
	b := document.Bundle{Documents: []document.Entry{
		{Kind: "media", ID: "m1", Document: []byte(`{"id":"m1","name":"Hold music"}`), Audio: audio},
		{Kind: "media", ID: "m2", Document: []byte(`{"id":"m2","name":"Silent"}`)},
	}}
	files, err := b.Files()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(files["media/hold-music.wav"], audio) {
		t.Fatalf("files: %v", keys(files))
	}
	if _, ok := files["media/silent.wav"]; ok {
		t.Errorf("a media without audio got a .wav")
	}
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: data}
	}
	back, err := document.ReadFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Documents) != 2 || !bytes.Equal(back.Documents[0].Audio, audio) || back.Documents[1].Audio != nil {
		t.Errorf("read back: %+v", back.Documents)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
