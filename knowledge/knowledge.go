// Package knowledge holds what the bot knows: guides written in Markdown by
// people, parsed into typed entries with stable ids.
//
// A guide is one Markdown file per language (see README.md in this folder for
// the format). Translations of one guide share their entry ids, so an id names
// the same answer in every language; the answer engine, feedback and analytics
// refer to entries by that id.
package knowledge

import (
	"fmt"
	"slices"
	"strings"
)

// Lang is a language tag of a guide, as written in its front matter after
// canonicalisation: one of Supported.
type Lang string

// The languages a guide can be written in.
const (
	English            Lang = "en"
	SimplifiedChinese  Lang = "zh-Hans"
	TraditionalChinese Lang = "zh-Hant"
)

// Supported lists the languages the loader accepts, in a stable order.
var Supported = []Lang{English, SimplifiedChinese, TraditionalChinese}

// Kind says what an entry is for.
type Kind string

// The kinds of guide (and so of entry).
const (
	// FAQ entries answer questions about the subject of the guide.
	FAQ Kind = "faq"
	// Chitchat entries answer greetings, thanks and questions about the bot.
	Chitchat Kind = "chitchat"
)

// BlockKind says how a block of an answer is laid out.
type BlockKind string

// The kinds of answer block.
const (
	Paragraph BlockKind = "paragraph"
	Steps     BlockKind = "steps"   // a numbered list
	Bullets   BlockKind = "bullets" // an unnumbered list
)

// Block is one paragraph or list of an answer. Text is set for paragraphs,
// Items for lists. Text is plain: Markdown emphasis is dropped on parsing, so
// every transport can render it safely in its own markup.
type Block struct {
	Kind  BlockKind `json:"kind"`
	Text  string    `json:"text,omitempty"`
	Items []string  `json:"items,omitempty"`
}

// Pos is where something stands in a guide file.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Tag is one "key: value, value" line of an entry's tags.
type Tag struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// Entry is one answer of a guide in one language.
type Entry struct {
	ID        string   `json:"id"`
	Guide     string   `json:"guide"`
	Lang      Lang     `json:"lang"`
	Kind      Kind     `json:"kind"`
	Title     string   `json:"title"`
	Questions []string `json:"questions"`
	Answer    []Block  `json:"blocks"`
	Tags      []Tag    `json:"tags"`
	Pos       Pos      `json:"source"`
}

// AnswerText renders the answer as plain text: paragraphs separated by blank
// lines, steps numbered "1. ", bullets marked "• ".
func (e *Entry) AnswerText() string { return BlocksText(e.Answer) }

// BlocksText renders blocks as plain text, the way AnswerText does.
func BlocksText(blocks []Block) string {
	var b strings.Builder
	for i, bl := range blocks {
		if i > 0 {
			b.WriteString("\n\n")
		}
		switch bl.Kind {
		case Paragraph:
			b.WriteString(bl.Text)
		case Steps:
			for j, it := range bl.Items {
				if j > 0 {
					b.WriteByte('\n')
				}
				fmt.Fprintf(&b, "%d. %s", j+1, it)
			}
		case Bullets:
			for j, it := range bl.Items {
				if j > 0 {
					b.WriteByte('\n')
				}
				b.WriteString("• ")
				b.WriteString(it)
			}
		}
	}
	return b.String()
}

// Tag returns the values of the tag named key, or nil.
func (e *Entry) Tag(key string) []string {
	for _, t := range e.Tags {
		if t.Key == key {
			return t.Values
		}
	}
	return nil
}

// HasTag reports whether the entry's tag key holds value.
func (e *Entry) HasTag(key, value string) bool { return slices.Contains(e.Tag(key), value) }

// Base is a loaded, validated set of guides: every entry of every language.
type Base struct {
	entries []Entry
	byKey   map[entryKey]int
	ids     []string
	langs   []Lang
	hash    string
	lexicon *Lexicon
}

type entryKey struct {
	id   string
	lang Lang
}

func newBase(entries []Entry, hash string) *Base {
	b := &Base{entries: entries, byKey: make(map[entryKey]int, len(entries)), hash: hash}
	seenID := map[string]bool{}
	seenLang := map[Lang]bool{}
	for i, e := range entries {
		b.byKey[entryKey{e.ID, e.Lang}] = i
		if !seenID[e.ID] {
			seenID[e.ID] = true
			b.ids = append(b.ids, e.ID)
		}
		if !seenLang[e.Lang] {
			seenLang[e.Lang] = true
		}
	}
	for _, l := range Supported {
		if seenLang[l] {
			b.langs = append(b.langs, l)
		}
	}
	return b
}

// Entries returns every entry, grouped by guide file in load order. The
// slice is shared: do not modify it.
func (b *Base) Entries() []Entry { return b.entries }

// IDs returns the distinct entry ids in load order.
func (b *Base) IDs() []string { return b.ids }

// Langs returns the languages that have at least one guide.
func (b *Base) Langs() []Lang { return b.langs }

// Hash identifies the content of the guides the base was loaded from: equal
// guides give equal hashes. Caches derived from the guides key on it.
func (b *Base) Hash() string { return b.hash }

// Lexicon returns the synonyms, stopwords and out-of-scope names that go
// with the guides.
func (b *Base) Lexicon() *Lexicon { return b.lexicon }

// Entry returns the entry id in language lang.
func (b *Base) Entry(id string, lang Lang) (*Entry, bool) {
	i, ok := b.byKey[entryKey{id, lang}]
	if !ok {
		return nil, false
	}
	return &b.entries[i], true
}

// Translations returns the entry id in every language it exists in, in the
// order of Supported.
func (b *Base) Translations(id string) []*Entry {
	var out []*Entry
	for _, l := range b.langs {
		if e, ok := b.Entry(id, l); ok {
			out = append(out, e)
		}
	}
	return out
}
