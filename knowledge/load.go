package knowledge

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// guidesFS holds the shipped guides, so the binaries need no files at run
// time.
//
//go:embed guides/*.md guides/lexicon.yaml
var guidesFS embed.FS

// MaxGuideFiles bounds how many guide files one directory may hold.
const MaxGuideFiles = 1000

// MaxTotalSize bounds all guide files of a directory together: what the
// engine builds from them grows with their size.
const MaxTotalSize = 8 << 20

// Shipped loads the guides built into the binary: from the snapshot made
// of them ahead of time (see shippedSnapshot) while they are unchanged.
func Shipped() (*Base, error) {
	if b := shippedSnapshot(); b != nil {
		return b, nil
	}
	sub, err := fs.Sub(guidesFS, "guides")
	if err != nil {
		return nil, fmt.Errorf("shipped guides: %w", err)
	}
	return Load(sub, "guides")
}

// LoadDir loads every guide (*.md, except README.md) in dir and its
// subdirectories, and the lexicon (lexicon.yaml) beside them; without one,
// the shipped lexicon is used. Errors name files by their path under dir.
func LoadDir(dir string) (*Base, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("guides directory: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("guides directory %s is not a directory", dir)
	}
	return Load(os.DirFS(dir), dir)
}

// Load reads and validates every guide file (*.md, except README.md) in
// fsys. prefix is prepended to file names in errors and positions. When
// anything is wrong, the error lists every problem found, each as an *Error
// naming file:line and what to fix (use errors.As or errors.Join's
// Unwrap() []error to walk them).
func Load(fsys fs.FS, prefix string) (*Base, error) {
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !strings.HasSuffix(p, ".md") || strings.EqualFold(path.Base(p), "README.md") || d.IsDir() {
			return nil
		}
		regular := d.Type().IsRegular()
		if d.Type()&fs.ModeSymlink != 0 {
			// A guide may be a link to a file kept elsewhere.
			if info, err := fs.Stat(fsys, p); err == nil {
				regular = info.Mode().IsRegular()
			}
		}
		if regular {
			names = append(names, p)
		}
		if len(names) > MaxGuideFiles {
			return fmt.Errorf("more than %d guide files", MaxGuideFiles)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list guides in %s: %w", prefix, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no guides in %s: guide files end in .md", prefix)
	}
	sort.Strings(names)

	h := sha256.New()
	var files []*guideFile
	var errs []error
	total := 0
	for _, name := range names {
		display := name
		if prefix != "" {
			display = path.Join(prefix, name)
		}
		src, err := readLimited(fsys, name)
		if err != nil {
			errs = append(errs, &Error{Pos{display, 1}, err.Error()})
			continue
		}
		if total += len(src); total > MaxTotalSize {
			return nil, fmt.Errorf("guides in %s: more than %d bytes in all; keep the guides to what the bot should answer", prefix, MaxTotalSize)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(src))
		h.Write(src)
		g, ferrs := parseFile(display, src)
		errs = append(errs, ferrs...)
		if g != nil {
			files = append(files, g)
		}
	}
	errs = append(errs, crossCheck(files)...)
	lex, lexSrc, found, lerrs := loadLexicon(fsys, prefix)
	errs = append(errs, lerrs...)
	if found {
		h.Write(lexSrc)
	} else {
		// Guides without a lexicon of their own share the shipped one: its
		// stopwords and general synonyms serve any guide.
		src, err := guidesFS.ReadFile("guides/" + LexiconFile)
		if err == nil {
			h.Write(src)
			var lerrs []error
			lex, lerrs = parseLexicon("shipped "+LexiconFile, src)
			errs = append(errs, lerrs...)
		} else {
			errs = append(errs, fmt.Errorf("shipped lexicon: %w", err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var entries []Entry
	for _, g := range files {
		entries = append(entries, g.entries...)
	}
	b := newBase(entries, hex.EncodeToString(h.Sum(nil))[:16])
	b.lexicon = lex
	return b, nil
}

func readLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(src) > MaxFileSize {
		return nil, fmt.Errorf("file is more than the %d bytes a guide may have: split it into several guides", MaxFileSize)
	}
	return src, nil
}

// crossCheck validates what spans files: ids unique per language and owned
// by one guide, one file per guide and language, and translations of a guide
// holding the same ids with the same kind.
func crossCheck(files []*guideFile) []error {
	var errs []error
	type idKey struct {
		id   string
		lang Lang
	}
	firstByLang := map[idKey]Pos{}
	guideOfID := map[string]string{}
	guideOfIDPos := map[string]Pos{}
	type fileKey struct {
		guide string
		lang  Lang
	}
	fileOf := map[fileKey]*guideFile{}
	byGuide := map[string][]*guideFile{}
	var guideOrder []string
	for _, g := range files {
		fk := fileKey{g.guide, g.lang}
		if other, dup := fileOf[fk]; dup {
			errs = append(errs, &Error{Pos{g.name, 1}, fmt.Sprintf("guide %q in %s is already defined by %s: one file per guide and language", g.guide, g.lang, other.name)})
			continue
		}
		fileOf[fk] = g
		if _, seen := byGuide[g.guide]; !seen {
			guideOrder = append(guideOrder, g.guide)
		}
		byGuide[g.guide] = append(byGuide[g.guide], g)
		for _, e := range g.entries {
			k := idKey{e.ID, e.Lang}
			if first, dup := firstByLang[k]; dup {
				errs = append(errs, &Error{e.Pos, fmt.Sprintf("duplicate id %q: already used at %s; give each entry its own id", e.ID, first)})
				continue
			}
			firstByLang[k] = e.Pos
			if owner, ok := guideOfID[e.ID]; ok && owner != e.Guide {
				errs = append(errs, &Error{e.Pos, fmt.Sprintf("id %q is already used by guide %q at %s; ids are shared by all guides", e.ID, owner, guideOfIDPos[e.ID])})
				continue
			}
			guideOfID[e.ID] = e.Guide
			guideOfIDPos[e.ID] = e.Pos
		}
	}
	for _, name := range guideOrder {
		group := byGuide[name]
		if len(group) < 2 {
			continue
		}
		for _, a := range group {
			for _, b := range group {
				if a == b {
					continue
				}
				if a.kind != b.kind && a.name < b.name {
					errs = append(errs, &Error{Pos{a.name, 1}, fmt.Sprintf("kind %q differs from %q in %s, a translation of the same guide", a.kind, b.kind, b.name)})
				}
				has := make(map[string]bool, len(b.entries))
				for _, e := range b.entries {
					has[e.ID] = true
				}
				for _, e := range a.entries {
					if !has[e.ID] {
						errs = append(errs, &Error{e.Pos, fmt.Sprintf("entry %q has no translation in %s (%s): translations of a guide must have the same ids", e.ID, b.name, b.lang)})
					}
				}
			}
		}
	}
	return errs
}
