package knowledge

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// LexiconFile is the name of the lexicon beside the guides.
const LexiconFile = "lexicon.yaml"

// Lexicon is the vocabulary the guides share with the people who ask: which
// words mean the same, which say nothing, and which name something the
// guides are not about. It lives beside the guides (lexicon.yaml) because
// it is as much a part of the knowledge as the answers are.
type Lexicon struct {
	// Synonyms are groups of terms (words or phrases) for one concept; the
	// first term names the group.
	Synonyms [][]string
	// Stopwords carry no meaning for choosing an answer.
	Stopwords []string
	// OutOfScope names other apps and services: a question naming one (and
	// not a brand of the guides) is about something the guides do not cover.
	OutOfScope []string
	// Brands are names (WhatsApp, Web, iPhone…) that do not make a Chinese
	// question English.
	Brands []string
	// Subject names what the guides are about (WhatsApp): a question that
	// names it is in scope even when it also names another app.
	Subject []string
	// Platforms maps a concept (the first term of a synonym group) to the
	// values of the entries' "platform" tag it names.
	Platforms map[string][]string
	// Uncovered lists topics next to the guides' subject that they do not
	// answer (moving chats to a new phone, a forgotten PIN, groups, calls),
	// each as the terms a question about it holds together, in any order:
	// [忘记, pin] is any question that names both. A term written "-term"
	// excludes questions that hold it ([下载, -卸载]: downloading, not
	// reinstalling). A question about an uncovered topic is declined,
	// however close its other words are; a topic that one of the guides'
	// titles or alternate questions asks about is covered after all and
	// ignored.
	Uncovered [][]string
}

// parseLexicon reads a lexicon file. Every problem is reported with its line.
func parseLexicon(name string, src []byte) (*Lexicon, []error) {
	var errs []error
	errorf := func(line int, format string, args ...any) {
		errs = append(errs, &Error{Pos{name, line}, fmt.Sprintf(format, args...)})
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		errorf(1, "not valid YAML: %v", err)
		return nil, errs
	}
	lex := &Lexicon{}
	if len(doc.Content) == 0 {
		return lex, nil // An empty lexicon is allowed: no synonyms.
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		errorf(root.Line, "the lexicon must be a mapping with the keys synonyms, stopwords, out_of_scope, uncovered, platforms, brands and subject")
		return nil, errs
	}
	groupOf := map[string]int{} // term → line of its group
	platformsLine := 1
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		switch key.Value {
		case "synonyms":
			if val.Kind != yaml.SequenceNode {
				errorf(val.Line, "synonyms must be a list of groups like [log out, sign out]")
				continue
			}
			for _, g := range val.Content {
				terms := scalars(g, errorf)
				if len(terms) < 2 {
					errorf(g.Line, "a synonym group needs at least two terms")
					continue
				}
				for _, t := range terms {
					if first, dup := groupOf[t]; dup {
						errorf(g.Line, "term %q is already in the synonym group at line %d: a term can mean only one thing", t, first)
					}
					groupOf[t] = g.Line
				}
				lex.Synonyms = append(lex.Synonyms, terms)
			}
		case "stopwords":
			lex.Stopwords = scalars(val, errorf)
		case "out_of_scope":
			lex.OutOfScope = scalars(val, errorf)
		case "uncovered":
			if val.Kind != yaml.SequenceNode {
				errorf(val.Line, "uncovered must be a list of topics like [忘记, pin]")
				continue
			}
			for _, g := range val.Content {
				if terms := scalars(g, errorf); len(terms) > 0 {
					lex.Uncovered = append(lex.Uncovered, terms)
				}
			}
		case "brands":
			lex.Brands = scalars(val, errorf)
		case "subject":
			lex.Subject = scalars(val, errorf)
		case "platforms":
			platformsLine = key.Line
			if val.Kind != yaml.MappingNode {
				errorf(val.Line, "platforms must map a concept to platform names, like 网页版: [web]")
				continue
			}
			lex.Platforms = map[string][]string{}
			for j := 0; j+1 < len(val.Content); j += 2 {
				k := strings.ToLower(strings.TrimSpace(val.Content[j].Value))
				lex.Platforms[k] = scalars(val.Content[j+1], errorf)
			}
		default:
			errorf(key.Line, "unknown lexicon key %q: the keys are synonyms, stopwords, out_of_scope, uncovered, platforms, brands and subject", key.Value)
		}
	}
	// A platforms key that names no synonym group would silently do nothing.
	concepts := map[string]bool{}
	for _, g := range lex.Synonyms {
		concepts[g[0]] = true
	}
	for _, k := range sortedKeys(lex.Platforms) {
		if !concepts[k] {
			errorf(platformsLine, "platforms: %q is not the first term of a synonym group", k)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return lex, nil
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// scalars reads a flat list of terms, lower-cased and trimmed.
func scalars(n *yaml.Node, errorf func(int, string, ...any)) []string {
	if n.Kind != yaml.SequenceNode {
		errorf(n.Line, "expected a list of terms")
		return nil
	}
	var out []string
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			errorf(c.Line, "expected a term, not a nested list or mapping")
			continue
		}
		t := strings.ToLower(strings.Join(strings.Fields(c.Value), " "))
		if t == "" {
			errorf(c.Line, "empty term")
			continue
		}
		out = append(out, t)
	}
	return out
}

// loadLexicon reads the lexicon beside the guides in fsys, if there is one,
// and returns the bytes it parsed (for the guides' hash).
func loadLexicon(fsys fs.FS, prefix string) (lex *Lexicon, src []byte, found bool, errs []error) {
	src, err := readLimited(fsys, LexiconFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, false, nil
	}
	display := LexiconFile
	if prefix != "" {
		display = prefix + "/" + LexiconFile
	}
	if err != nil {
		return nil, nil, true, []error{&Error{Pos{display, 1}, err.Error()}}
	}
	lex, errs = parseLexicon(display, src)
	return lex, src, true, errs
}
