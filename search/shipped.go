package search

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"faqbot/knowledge"
)

// shippedText is what the engine would compute at every start from the
// shipped guides alone, made ahead of time (go generate;
// TestShippedAnalysis keeps it fresh, and TestShippedAnalysisAnswersAlike
// checks that an engine built from it is the one built without). Its first
// line is "# key " and the key it was made for (see analysisKey); then
// sections, each a header line with its number of lines:
//
//	# segments N: for each distinct lexicon term (analyzerTexts without
//	guide texts) in order, its words as segmented, separated by tabs;
//	# exact N: for each text of exactTexts in order, its exactKey;
//	# stems N: every English word of the guides and the lexicon, a tab,
//	and its stem (analyzer.stemOf), in byte order;
//	# vocabulary N: what learning the guides gives, in byte order:
//	"L\tword\tcount" (latinVocab), "H\tword\tcount" (hanVocab),
//	"S\tstem" (latinStems);
//	# targets N: the spelling correction targets, in byte order:
//	"P\treading\tword" (pinyinOf), "W\tword" (latinByLen);
//	# terms N: for each distinct text of allEntryTexts in order, its
//	search terms (analyzer.guideTerms), separated by tabs.
//
// Reading it instead of segmenting, normalising, stemming, learning and
// analysing the guides is most of what an engine over the shipped guides
// saves at start, and with the terms known from the start, Bleve indexes
// them while the analyzer is built; it also spares loading OpenCC's tables
// for the one guide question in Cantonese characters.
//
//go:embed dict/shipped-analysis.txt
var shippedText string

// useShippedAnalysis lets tests build an engine over the shipped guides
// the long way, to compare.
var useShippedAnalysis = true

// analysisVersion changes whenever what shippedText holds, or how it is
// computed, changes in a way the key would not otherwise show.
const analysisVersion = "analysis-5"

// analysisKey identifies the analysis of the guides with the given hash:
// their lean dictionary's key (guides, lexicon, word list, derivation)
// and analysisVersion.
func analysisKey(guidesHash string) string {
	sum := sha256.Sum256([]byte(analysisVersion + "\x00" + dictKey(guidesHash)))
	return hex.EncodeToString(sum[:])[:24]
}

// shippedAnalysis is shippedText read.
type shippedAnalysis struct {
	segments  string   // lines for loadSegments
	exactKeys []string // for exactIndex
	stems     string   // lines for loadStems
	// Lines for loadVocabulary and loadTargets.
	vocabulary, targets string
	// terms are the terms of every guide text (see buildIndex).
	terms map[string][]string
}

// shippedFor returns the embedded analysis if it was made for the guides
// with the given hash, whose entries' texts are allTexts (allEntryTexts).
func shippedFor(guidesHash string, allTexts []string) (shippedAnalysis, bool) {
	first, rest, ok := strings.Cut(shippedText, "\n")
	if !ok || first != "# key "+analysisKey(guidesHash) {
		return shippedAnalysis{}, false
	}
	segments, rest, ok := section(rest, "segments")
	if !ok {
		return shippedAnalysis{}, false
	}
	exact, rest, ok := section(rest, "exact")
	if !ok {
		return shippedAnalysis{}, false
	}
	stems, rest, ok := section(rest, "stems")
	if !ok {
		return shippedAnalysis{}, false
	}
	vocabulary, rest, ok := section(rest, "vocabulary")
	if !ok {
		return shippedAnalysis{}, false
	}
	targets, rest, ok := section(rest, "targets")
	if !ok {
		return shippedAnalysis{}, false
	}
	termLines, rest, ok := section(rest, "terms")
	if !ok || rest != "" {
		return shippedAnalysis{}, false
	}
	keys := strings.SplitAfter(exact, "\n")
	keys = keys[:len(keys)-1] // after the last "\n"
	for i, k := range keys {
		keys[i] = k[:len(k)-1]
	}
	terms := readTerms(allTexts, termLines)
	if terms == nil {
		return shippedAnalysis{}, false
	}
	return shippedAnalysis{segments: segments, exactKeys: keys, stems: stems, vocabulary: vocabulary, targets: targets, terms: terms}, true
}

// readTerms reads the terms section for the distinct texts of texts; nil
// if it does not fit them.
func readTerms(texts []string, lines string) map[string][]string {
	// One array holds every term: the terms are substrings of lines.
	all := make([]string, 0, strings.Count(lines, "\t")+strings.Count(lines, "\n"))
	out := make(map[string][]string, len(texts))
	for _, t := range texts {
		if _, ok := out[t]; ok {
			continue
		}
		line, rest, ok := strings.Cut(lines, "\n")
		if !ok {
			return nil
		}
		lines = rest
		start := len(all)
		for line != "" {
			var term string
			term, line, _ = strings.Cut(line, "\t")
			if term == "" {
				return nil
			}
			all = append(all, term)
		}
		out[t] = all[start:len(all):len(all)]
	}
	if lines != "" {
		return nil
	}
	return out
}

// section cuts the section called name off the front of s: its lines, each
// ending in "\n", and what follows.
func section(s, name string) (lines, rest string, ok bool) {
	head, s, ok := strings.Cut(s, "\n")
	count, found := strings.CutPrefix(head, "# "+name+" ")
	n, err := strconv.Atoi(count)
	if !ok || !found || err != nil || n < 0 {
		return "", "", false
	}
	end := 0
	for i := 0; i < n; i++ {
		nl := strings.IndexByte(s[end:], '\n')
		if nl < 0 {
			return "", "", false
		}
		end += nl + 1
	}
	return s[:end], s[end:], true
}

// formatAnalysis writes shippedText for guides with the given hash and
// lexicon, from an analyzer that has segmented them, learnt them and
// indexed its correction targets (the long way), and the exact-match texts
// (exactTexts).
func formatAnalysis(guidesHash string, a *analyzer, lex *knowledge.Lexicon, guideTexts []string, exact []idText) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# key %s\n", analysisKey(guidesHash))
	writeSection := func(name string, lines []string) {
		fmt.Fprintf(&b, "# %s %d\n", name, len(lines))
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	var lines []string
	seen := map[string]bool{}
	for _, t := range analyzerTexts(lex, nil) {
		if !seen[t] {
			seen[t] = true
			lines = append(lines, strings.Join(texts(a.segment(t)), "\t"))
		}
	}
	writeSection("segments", lines)

	lines = nil
	for _, t := range exact {
		lines = append(lines, exactKey(t.text))
	}
	writeSection("exact", lines)

	lines = nil
	for w, st := range a.stemOf {
		lines = append(lines, w+"\t"+st)
	}
	slices.Sort(lines)
	writeSection("stems", lines)

	lines = nil
	for w, n := range a.latinVocab {
		lines = append(lines, fmt.Sprintf("L\t%s\t%d", w, n))
	}
	for w, n := range a.hanVocab {
		lines = append(lines, fmt.Sprintf("H\t%s\t%d", w, n))
	}
	for st := range a.latinStems {
		lines = append(lines, "S\t"+st)
	}
	slices.Sort(lines)
	writeSection("vocabulary", lines)

	lines = nil
	for key, w := range a.pinyinOf {
		lines = append(lines, "P\t"+key+"\t"+w)
	}
	for _, ws := range a.latinByLen {
		for _, w := range ws {
			lines = append(lines, "W\t"+w)
		}
	}
	slices.Sort(lines)
	writeSection("targets", lines)

	lines = nil
	seen = map[string]bool{}
	for _, t := range guideTexts {
		if !seen[t] {
			seen[t] = true
			lines = append(lines, strings.Join(a.guideTerms(t), "\t"))
		}
	}
	writeSection("terms", lines)
	return b.String()
}

// loadStems fills the stem cache from lines made by formatAnalysis.
func (a *analyzer) loadStems(lines string) bool {
	a.stemOf = make(map[string]string, strings.Count(lines, "\n"))
	for line := range strings.Lines(lines) {
		w, st, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		if !ok {
			return false
		}
		a.stemOf[w] = st
	}
	return true
}

// loadVocabulary sets what learning the guides gives from lines made by
// formatAnalysis.
func (a *analyzer) loadVocabulary(lines string) bool {
	n := strings.Count(lines, "\n")
	latin, han, stems := make(map[string]int, n/3), make(map[string]int, n/2), make(map[string]bool, n/3)
	for line := range strings.Lines(lines) {
		kind, rest, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		if kind == "S" {
			stems[rest] = true
			continue
		}
		w, count, _ := strings.Cut(rest, "\t")
		c, err := strconv.Atoi(count)
		switch {
		case err != nil || w == "":
			return false
		case kind == "L":
			latin[w] = c
		case kind == "H":
			han[w] = c
		default:
			return false
		}
	}
	a.latinVocab, a.hanVocab, a.latinStems = latin, han, stems
	return true
}

// loadTargets sets the spelling correction targets from lines made by
// formatAnalysis.
func (a *analyzer) loadTargets(lines string) bool {
	pinyinOf := make(map[string]string, strings.Count(lines, "\n"))
	byLen := map[int][]string{}
	for line := range strings.Lines(lines) {
		kind, rest, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		switch kind {
		case "P":
			key, w, ok := strings.Cut(rest, "\t")
			if !ok {
				return false
			}
			pinyinOf[key] = w
		case "W":
			byLen[len(rest)] = append(byLen[len(rest)], rest) // in byte order
		default:
			return false
		}
	}
	a.pinyinOf, a.latinByLen = pinyinOf, byLen
	return true
}

// loadSegments fills the segmentation cache for texts from lines made by
// formatAnalysis for the same texts. It reports false, leaving the cache
// empty, when the lines do not fit the texts.
func (a *analyzer) loadSegments(texts []string, lines string) bool {
	// One array holds every word: the texts are substrings of lines.
	toks := make([]rawToken, 0, strings.Count(lines, "\t")+strings.Count(lines, "\n"))
	cache := make(map[string][]rawToken, len(texts))
	for _, t := range texts {
		if _, ok := cache[t]; ok {
			continue
		}
		line, rest, ok := strings.Cut(lines, "\n")
		if !ok {
			return false
		}
		lines = rest
		start := len(toks)
		for line != "" {
			var w string
			w, line, _ = strings.Cut(line, "\t")
			if w == "" {
				return false
			}
			// A word is Latin (letters or digits) unless it is Chinese:
			// segmentNormalized keeps no other words and splits mixed ones.
			toks = append(toks, rawToken{text: w, latin: !hasHan(w)})
		}
		cache[t] = toks[start:len(toks):len(toks)]
	}
	if lines != "" {
		return false
	}
	a.segCache = cache
	return true
}

// traditionalText is what toTraditional makes of every text of the shipped
// Simplified Chinese guides (go generate; TestShippedTraditional keeps it
// fresh): one line each, the text and its conversion separated by a tab,
// with backslash, tab and newline escaped (\\, \t, \n). Loading OpenCC's
// Simplified-to-Taiwan tables costs more than everything else a one-shot
// question in Traditional Chinese does; with this, answers from the shipped
// guides need no table at all.
//
//go:generate go test -tags ne -run TestShippedTraditional . -args -update
//go:embed dict/shipped-traditional.txt
var traditionalText string

var (
	traditionalOnce sync.Once
	traditionalMap  map[string]string
)

// shippedTraditional returns traditionalText as a map, read on first use.
// A line that does not parse is left out (and fails the test).
func shippedTraditional() map[string]string {
	traditionalOnce.Do(func() {
		m := make(map[string]string, strings.Count(traditionalText, "\n"))
		for line := range strings.Lines(traditionalText) {
			simp, trad, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
			if ok {
				m[unescapeLine(simp)] = unescapeLine(trad)
			}
		}
		traditionalMap = m
	})
	return traditionalMap
}

var (
	lineEscaper   = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`)
	lineUnescaper = strings.NewReplacer(`\\`, `\`, `\t`, "\t", `\n`, "\n")
)

func escapeLine(s string) string { return lineEscaper.Replace(s) }

func unescapeLine(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return lineUnescaper.Replace(s)
}

// traditionalSources returns the texts toTraditional converts for the
// Simplified Chinese entries of base, in order, each once.
func traditionalSources(base *knowledge.Base) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] && hasHan(s) {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, en := range base.Entries() {
		if en.Lang != knowledge.SimplifiedChinese {
			continue
		}
		add(en.Title)
		for _, q := range en.Questions {
			add(q)
		}
		for _, b := range en.Answer {
			add(b.Text)
			for _, it := range b.Items {
				add(it)
			}
		}
	}
	return out
}
