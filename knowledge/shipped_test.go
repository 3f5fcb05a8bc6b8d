package knowledge

import (
	"strings"
	"testing"
	"testing/fstest"
)

// requiredIDs are the entries the shipped WhatsApp guide must answer.
var requiredIDs = []string{
	"why-log-out", "phone-no-logout-button", "phone-delete-account", "phone-keep-account",
	"delete-logs-out-everywhere", "web-log-out", "remote-log-out", "faq-still-receiving",
	"faq-delete-vs-uninstall", "faq-chat-history", "tip-check-linked-devices",
	"tip-two-step-verification", "tip-public-computer", "tip-keep-updated",
}

func TestShippedGuides(t *testing.T) {
	b, err := Shipped()
	if err != nil {
		t.Fatalf("Shipped: %v", err)
	}
	for _, id := range requiredIDs {
		for _, lang := range []Lang{SimplifiedChinese, English} {
			e, ok := b.Entry(id, lang)
			if !ok {
				t.Errorf("%s: no %s entry", id, lang)
				continue
			}
			if e.Kind != FAQ {
				t.Errorf("%s (%s): kind %q, want faq", id, lang, e.Kind)
			}
			if got := len(e.Questions); got < 3 {
				t.Errorf("%s (%s): %d alternate questions, want at least 3", id, lang, got)
			}
		}
	}
	var chitchat, fallback int
	for _, e := range b.Entries() {
		if e.Kind == Chitchat {
			chitchat++
			if e.HasTag("role", "fallback") {
				fallback++
			}
		}
	}
	if chitchat < 8 || fallback != 2 {
		t.Errorf("small talk: %d entries (want ≥ 8: 4 in each language), %d fallback entries (want 2)", chitchat, fallback)
	}
	if lex := b.Lexicon(); lex == nil || len(lex.Synonyms) == 0 || len(lex.Stopwords) == 0 || len(lex.OutOfScope) == 0 {
		t.Errorf("shipped lexicon missing or empty: %+v", lex)
	}
}

func TestLexiconErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"duplicate term", "synonyms:\n  - [a, b]\n  - [c, a]\n", `lexicon.yaml:3: term "a" is already in the synonym group at line 2`},
		{"lonely group", "synonyms:\n  - [a]\n", "lexicon.yaml:2: a synonym group needs at least two terms"},
		{"unknown key", "synonym:\n  - [a, b]\n", `lexicon.yaml:1: unknown lexicon key "synonym"`},
		{"bad yaml", "synonyms: [a, b\n", "lexicon.yaml:1: not valid YAML"},
		{"nested", "stopwords:\n  - [a, b]\n", "lexicon.yaml:2: expected a term"},
		{"uncovered not a list", "uncovered: pin\n", "lexicon.yaml:1: uncovered must be a list of topics"},
		{"uncovered topic not a list", "uncovered:\n  - pin\n", "lexicon.yaml:2: expected a list of terms"},
		{"platform of nothing", "synonyms:\n  - [web, browser]\nplatforms:\n  browser: [web]\n", `lexicon.yaml:3: platforms: "browser" is not the first term of a synonym group`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"g.en.md": {Data: []byte(validEN)}, LexiconFile: {Data: []byte(tt.src)}}
			_, err := Load(fsys, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadUsesOwnLexiconOrShipped(t *testing.T) {
	own, err := Load(fstest.MapFS{"g.en.md": {Data: []byte(validEN)}, LexiconFile: {Data: []byte("synonyms:\n  - [exit, leave]\n")}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := own.Lexicon().Synonyms; len(got) != 1 || got[0][0] != "exit" {
		t.Errorf("own lexicon synonyms = %v, want [[exit leave]]", got)
	}
	shipped, err := Load(fstest.MapFS{"g.en.md": {Data: []byte(validEN)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(shipped.Lexicon().Synonyms) < 10 {
		t.Errorf("guides without a lexicon got %d synonym groups, want the shipped lexicon", len(shipped.Lexicon().Synonyms))
	}
}
