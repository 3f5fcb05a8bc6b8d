package knowledge

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
)

//go:generate go test -run TestShippedSnapshot . -args -update

// shippedSnapshot returns the shipped guides as parsed ahead of time
// (snapshot_gen.go, written by TestShippedSnapshot, which also checks it is
// what parsing gives), or nil when the embedded files are not the ones it
// was made from. Parsing the Markdown and the lexicon's YAML at every start
// costs more than the rest of loading; the snapshot is static data, which
// costs nothing to load.
//
// The entries are shared between the bases it returns, as Entries says.
// Should snapshot_gen.go no longer compile (a field of Entry renamed),
// replace it with empty declarations of snapshotFiles, snapshotHash (""),
// snapshotEntries and snapshotLexicon, and run go generate.
func shippedSnapshot() *Base {
	if snapshotEntries == nil || shippedFilesHash() != snapshotFiles {
		return nil
	}
	b := newBase(snapshotEntries, snapshotHash)
	lex := snapshotLexicon
	b.lexicon = &lex
	return b
}

// shippedFilesHash identifies the embedded guide files: their names and
// contents. It returns "" if they cannot be read (the snapshot is then not
// used, and loading reports the problem).
func shippedFilesHash() string {
	h := sha256.New()
	err := fs.WalkDir(guidesFS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := guidesFS.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(h, "%s\x00", p)
		n, err := io.Copy(h, f)
		fmt.Fprintf(h, "\x00%d\x00", n)
		return err
	})
	if err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}
