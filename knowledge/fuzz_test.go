package knowledge

import (
	"errors"
	"strings"
	"testing"
)

// FuzzLexicon: any lexicon file gets a lexicon or errors with a line, never
// a panic or a hang; an accepted lexicon keeps each term in one group.
// Seeds: testdata/fuzz/FuzzLexicon, and the shipped lexicon.
func FuzzLexicon(f *testing.F) {
	if src, err := guidesFS.ReadFile("guides/" + LexiconFile); err == nil {
		f.Add(src)
	}
	f.Add([]byte("synonyms:\n  - [log out, sign out]\nplatforms:\n  log out: [web]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		lex, errs := parseLexicon(LexiconFile, src)
		if lex == nil && len(errs) == 0 {
			t.Fatal("no lexicon and no error")
		}
		for _, err := range errs {
			var le *Error
			if !errors.As(err, &le) || le.Pos.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
		}
		if lex == nil {
			return
		}
		seen := map[string]bool{}
		for _, g := range lex.Synonyms {
			if len(g) < 2 {
				t.Fatalf("accepted a group of %d terms: %q", len(g), g)
			}
			for _, term := range g {
				if seen[term] {
					t.Fatalf("accepted %q in two groups", term)
				}
				seen[term] = true
			}
		}
		for k := range lex.Platforms {
			if k != strings.ToLower(strings.TrimSpace(k)) {
				t.Fatalf("platform key %q not normalised", k)
			}
		}
	})
}
