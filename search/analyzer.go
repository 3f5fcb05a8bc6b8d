package search

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	bleveanalysis "github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
	"github.com/go-ego/gse"

	"faqbot/knowledge"
)

// analyzer turns text into search terms. Guides and questions go through the
// same steps, so they meet on the same terms:
//
//  1. normalise (NFKC, width, case, invisible characters, length cap) and
//     convert Traditional Chinese to Simplified;
//  2. segment with gse (Chinese words; Latin words and numbers whole);
//  3. questions only: correct spelling towards the lexicon's words —
//     Chinese by pinyin (登路→登录, 二唯码→二维码: typing mistakes in
//     Chinese are homophones), English by edit distance (acount→account);
//  4. drop stopwords, stem English words (Snowball);
//  5. rewrite every synonym to its concept's name, then every phrase of
//     concepts to its own (删掉 帐号 → 删除 账号 → 删除账户), so 登出, sign
//     out and 下线 become one term.
type analyzer struct {
	// seg segments text; while the engine is built, it may still be
	// loading in pending (see segmenter).
	seg         *gse.Segmenter
	pending     *pendingSegmenter
	stop        map[string]bool
	brands      map[string]bool
	oos         map[string]bool
	subject     map[string]bool
	stopPhrases *phraseTrie // stopword phrases ("whats app")
	// marks maps the stopwords that begin a lexicon phrase ("from" in
	// "from my phone") to the mark that keeps their place (see marks.go).
	marks   map[string]string
	phrases *phraseTrie       // concept sequences → concept
	concept map[string]string // single word → its concept
	terms   map[string]bool   // every word of a lexicon term
	// conceptNames are the names of the synonym groups' concepts.
	conceptNames map[string]bool
	// uncovered are the lexicon's uncovered topics; the engine drops those
	// a title or alternate question asks about once the guides are indexed.
	uncovered []uncoveredTopic

	// Spelling correction, built from the guides' own words.
	latinVocab map[string]int  // surface word → occurrences in the guides
	latinStems map[string]bool // their stems
	// stemOf caches the stem of every English word of the guides and the
	// lexicon; written only while the engine is built, before any
	// concurrent use.
	stemOf     map[string]string
	latinByLen map[int][]string // correction targets by length
	hanVocab   map[string]int   // Chinese words of two or more characters
	pinyinOf   map[string]string
	// realWords are dictionary words that sound like a lexicon term, kept
	// apart from gse's dictionary; nil when gse has the whole dictionary.
	realWords *wordSet

	// While the engine is built, segCache holds the segmentation of every
	// guide text and lexicon term (each is segmented once, then learnt,
	// analysed and indexed) and built their terms; both are nil afterwards.
	// built is written only before Bleve's (concurrent) analysis starts.
	segCache map[string][]rawToken
	built    map[string][]string
	// shipped says the analyzer was read from the shipped analysis: it
	// has learnt the guides and its correction targets already.
	shipped bool
	// guideIDF holds the terms of the guides' entries (the engine's
	// inverse document frequencies), set once the index is built.
	guideIDF map[string]float64
}

// inGuides reports whether word w, as a term, is one the guides' entries
// hold.
func (a *analyzer) inGuides(w string) bool {
	t := w
	if c, ok := a.concept[w]; ok {
		t = c
	}
	_, ok := a.guideIDF[t]
	return ok
}

// rawToken is a word as segmented, before the lexicon.
type rawToken struct {
	text  string
	latin bool // letters or digits, not Chinese
}

// Correction records one spelling fix made to a question.
type Correction struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// analysis is what the analyzer makes of one text.
type analysis struct {
	normalized  string
	simplified  string   // normalized in Simplified characters, as segmented
	raw         []string // segmentation, for explanations
	terms       []string // search terms, in order, possibly repeated
	corrections []Correction
	outOfScope  []string // other apps named
	brand       bool     // holds a brand name
	subject     bool     // names the guides' subject
	hanRunes    int
	latinWords  int // Latin words that are not brands
	unknown     []string
}

// newAnalyzer builds the analyzer for the lexicon. guideTexts are the guide
// texts it will learn and index: they are segmented now, on every core,
// together with the lexicon's terms — or, for guides analysed ahead of time
// (pre, see shippedText), read from that. seg is the gse segmenter, possibly
// still loading.
func newAnalyzer(seg *pendingSegmenter, lex *knowledge.Lexicon, guideTexts []string, pre *shippedAnalysis) *analyzer {
	a := &analyzer{
		segCache:    map[string][]rawToken{},
		stemOf:      map[string]string{},
		pending:     seg,
		stop:        map[string]bool{},
		brands:      map[string]bool{},
		oos:         map[string]bool{},
		phrases:     &phraseTrie{},
		stopPhrases: &phraseTrie{},
	}
	if lex == nil {
		lex = &knowledge.Lexicon{}
	}
	// The shipped analysis holds the lexicon's segmentation and stems now,
	// and what learning the guides gives once the lexicon is read (below).
	shipped := pre != nil && a.loadSegments(analyzerTexts(lex, nil), pre.segments) && a.loadStems(pre.stems)
	if !shipped {
		a.segCache = map[string][]rawToken{}
		a.stemOf = map[string]string{}
		a.presegment(analyzerTexts(lex, guideTexts))
	}
	for _, w := range lex.Brands {
		a.brands[w] = true
	}
	for _, w := range lex.OutOfScope {
		a.oos[w] = true
	}
	a.subject = map[string]bool{}
	for _, w := range lex.Subject {
		a.subject[strings.ReplaceAll(w, " ", "")] = true
	}
	// Stopwords are matched on segmented words; a stopword phrase
	// ("whats app") is dropped as a sequence.
	for _, w := range lex.Stopwords {
		toks := a.segment(w)
		if len(toks) == 1 {
			a.stop[toks[0].text] = true
		} else if len(toks) > 1 {
			a.stopPhrases.add(texts(toks), "")
		}
	}
	a.marks = phraseMarks(lex.Synonyms, a.segment, a.stop)
	// Single words first: a phrase is matched on the concepts of its words,
	// so "删掉帐号" meets "删除账户" through 删除 + 账号.
	nTerms := 0
	for _, g := range lex.Synonyms {
		nTerms += len(g)
	}
	a.concept = make(map[string]string, nTerms)
	a.terms = make(map[string]bool, nTerms)
	var multi [][2]string
	a.conceptNames = map[string]bool{}
	for _, group := range lex.Synonyms {
		concept := strings.ReplaceAll(group[0], " ", "_")
		a.conceptNames[concept] = true
		for _, term := range group {
			seq := a.stems(a.dropStop(a.segment(term)))
			for _, w := range seq {
				a.terms[w] = true
			}
			switch {
			case len(seq) == 1:
				if _, dup := a.concept[seq[0]]; !dup {
					a.concept[seq[0]] = concept
				}
			case len(seq) > 1:
				multi = append(multi, [2]string{term, concept})
			}
		}
	}
	for _, m := range multi {
		seq := a.concepts(a.stems(a.dropStop(a.segment(m[0]))))
		a.phrases.add(seq, m[1])
	}
	a.phrases.platforms = map[string]bool{}
	for concept := range lex.Platforms {
		a.phrases.platforms[strings.ReplaceAll(concept, " ", "_")] = true
	}
	// Uncovered topics, as the terms their words become.
	for _, g := range lex.Uncovered {
		var u uncoveredTopic
		var names []string
		for _, term := range g {
			if rest, ok := strings.CutPrefix(term, "-"); ok {
				u.unless = append(u.unless, a.termsOf(a.segment(rest))...)
				continue
			}
			names = append(names, term)
			u.terms = append(u.terms, a.termsOf(a.segment(term))...)
		}
		if u.terms = distinct(u.terms); len(u.terms) > 0 {
			u.name = strings.Join(names, " + ")
			a.uncovered = append(a.uncovered, u)
		}
	}
	// Only now: splitting unknown words, which the vocabulary turns on,
	// does not apply to the lexicon's own terms.
	if shipped && a.loadVocabulary(pre.vocabulary) && a.loadTargets(pre.targets) {
		a.built = pre.terms
		a.shipped = true
	} else if shipped {
		// Cannot happen (shippedFor checks the sections): learn the
		// guides the long way, from their segmentation.
		a.latinVocab, a.latinStems, a.hanVocab, a.latinByLen, a.pinyinOf = nil, nil, nil, nil, nil
		a.presegment(guideTexts)
	}
	return a
}

// uncoveredTopic is a topic the guides do not answer: the terms a question
// about it holds together, unless it also holds one of the terms in unless
// ("恢复 删除的消息" is not covered; "恢复 删除账户后的消息" is).
type uncoveredTopic struct {
	name          string
	terms, unless []string
}

// analyzerTexts returns every text the analyzer segments while it is
// built, in a fixed order: the guide texts, then the lexicon's terms.
func analyzerTexts(lex *knowledge.Lexicon, guideTexts []string) []string {
	all := append([]string{}, guideTexts...)
	for _, g := range lex.Synonyms {
		all = append(all, g...)
	}
	all = append(all, lex.Stopwords...)
	all = append(all, lex.OutOfScope...)
	for _, g := range lex.Uncovered {
		for _, t := range g {
			all = append(all, strings.TrimPrefix(t, "-"))
		}
	}
	return all
}

// presegment fills the segmentation cache for texts, spreading the work
// over every core: start-up time is mostly segmentation, and gse's
// segmenter only reads its dictionary once loaded.
func (a *analyzer) presegment(texts []string) {
	workers := min(runtime.GOMAXPROCS(0), 8)
	if workers < 2 || len(texts) < 64 {
		for _, t := range texts {
			a.segment(t)
		}
		return
	}
	results := make([][]rawToken, len(texts))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(texts); i += workers {
				results[i] = a.segmentNormalized(toSimplified(normalizeText(texts[i], 0)))
			}
		}(w)
	}
	wg.Wait()
	for i, t := range texts {
		a.segCache[t] = results[i]
	}
}

// segmenter returns the gse segmenter, waiting for it while it loads;
// nil if it failed to load (New then fails too).
func (a *analyzer) segmenter() *gse.Segmenter {
	if a.pending != nil {
		seg, _ := a.pending.wait()
		return seg
	}
	return a.seg
}

// segment normalises text and splits it into words, keeping only words that
// hold a letter or a digit.
func (a *analyzer) segment(text string) []rawToken {
	if toks, ok := a.segCache[text]; ok {
		return toks
	}
	toks := a.segmentNormalized(toSimplified(normalizeText(text, 0)))
	if a.segCache != nil {
		a.segCache[text] = toks
	}
	return toks
}

func (a *analyzer) segmentNormalized(s string) []rawToken {
	seg := a.segmenter()
	if seg == nil {
		return nil
	}
	segs := seg.Segment([]byte(s))
	out := make([]rawToken, 0, len(segs))
	for _, sg := range segs {
		w := sg.Token().Text()
		han, latin := false, false
		for _, r := range w {
			switch {
			case unicode.Is(unicode.Han, r):
				han = true
			case unicode.IsLetter(r) || unicode.IsDigit(r):
				latin = true
			}
		}
		if !han && !latin {
			continue // space, punctuation, symbols, emoji
		}
		if han && latin {
			// gse keeps a few mixed words ("qq号"); split them so each part
			// meets the lexicon on its own.
			for _, part := range splitScripts(w) {
				out = append(out, part)
			}
			continue
		}
		out = append(out, rawToken{text: w, latin: latin})
	}
	return out
}

func splitScripts(w string) []rawToken {
	var out []rawToken
	start := 0
	prevHan := false
	for i, r := range w {
		isHan := unicode.Is(unicode.Han, r)
		if i > 0 && isHan != prevHan {
			out = append(out, rawToken{text: w[start:i], latin: !prevHan})
			start = i
		}
		prevHan = isHan
	}
	return append(out, rawToken{text: w[start:], latin: !prevHan})
}

func texts(toks []rawToken) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.text
	}
	return out
}

// dropStop returns toks without stopwords and stopword phrases: toks itself
// when it holds none (the words are never changed in place).
func (a *analyzer) dropStop(toks []rawToken) []rawToken {
	var out []rawToken // made at the first word dropped
	for i := 0; i < len(toks); i++ {
		n := 0
		switch {
		case a.subject[toks[i].text]:
			n = -1 // the app's name: kept as subjectMark
		case a.marks[toks[i].text] != "":
			n = -2 // a stopword a phrase begins with: kept as its mark
		case a.stop[toks[i].text]:
			n = 1
		default:
			n = a.stopPhrases.match(toks[i:])
		}
		if n == 0 {
			if out != nil {
				out = append(out, toks[i])
			}
			continue
		}
		if out == nil {
			out = append(make([]rawToken, 0, len(toks)), toks[:i]...)
		}
		if n == -1 {
			out = append(out, rawToken{text: subjectMark})
			continue
		}
		if n == -2 {
			out = append(out, rawToken{text: a.marks[toks[i].text]})
			continue
		}
		i += n - 1
	}
	if out == nil {
		return toks
	}
	return out
}

// stems returns the words with English words stemmed.
func (a *analyzer) stems(toks []rawToken) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = a.stem(t)
	}
	return out
}

func (a *analyzer) stem(t rawToken) string {
	if !stemmed(t) {
		return t.text
	}
	if st, ok := a.stemOf[t.text]; ok {
		return st
	}
	env := snowballstem.NewEnv(t.text)
	english.Stem(env)
	st := env.Current()
	if a.segCache != nil && a.stemOf != nil {
		a.stemOf[t.text] = st // building: the same words come back
	}
	return st
}

// stemmed reports whether t is a word Snowball stems: English, three
// letters or more.
func stemmed(t rawToken) bool {
	return t.latin && utf8.RuneCountInString(t.text) >= 3 && isASCIIWord(t.text)
}

func isASCIIWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// analyze runs the whole chain. correct enables spelling correction, which
// needs the vocabulary (see learn) and is for questions only.
func (a *analyzer) analyze(text string, maxRunes int, correct bool) analysis {
	var an analysis
	an.normalized = normalizeText(text, maxRunes)
	an.simplified = toSimplified(an.normalized)
	toks := a.splitUnknown(a.segmentNormalized(an.simplified))
	an.raw = texts(toks)
	for i, t := range toks {
		switch {
		case a.subject[t.text] || (i+1 < len(toks) && a.subject[t.text+toks[i+1].text]):
			an.subject = true
		case a.oos[t.text]:
			an.outOfScope = append(an.outOfScope, t.text)
		}
		if a.brands[t.text] {
			an.brand = true
		}
		if t.latin {
			if !a.brands[t.text] && !a.stop[t.text] && !isNumber(t.text) {
				an.latinWords++
			}
		} else {
			an.hanRunes += utf8.RuneCountInString(t.text)
		}
	}
	if correct {
		toks = a.correct(toks, &an)
	}
	an.terms = a.termsOf(toks)
	return an
}

// termsOf turns words into search terms: stopwords dropped, English
// stemmed, synonyms and phrases rewritten to concepts.
func (a *analyzer) termsOf(toks []rawToken) []string {
	terms := a.phrases.rewrite(a.concepts(a.stems(a.dropStop(toks))))
	// A phrase may compose with what another phrase became ("get rid of"
	// is 删除, and 删除 + 账号 is 删除账户): rewrite until nothing changes.
	for i := 0; i < 3; i++ {
		again := a.phrases.rewrite(terms)
		if slices.Equal(again, terms) {
			break
		}
		terms = again
	}
	return dropMarks(terms)
}

// concepts replaces each word that is a synonym by its concept's name.
func (a *analyzer) concepts(seq []string) []string {
	for i, w := range seq {
		if c, ok := a.concept[w]; ok {
			seq[i] = c
		}
	}
	return seq
}

func isNumber(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// splitUnknown splits Chinese words that neither the guides nor the
// lexicon use into the known words inside them (longest first) and single
// characters. Such a word cannot match an entry as a whole; split, the words
// the guides do use still match, the rest still counts as unknown, and a
// single-character synonym or stopword inside it still works. It also makes
// the analysis of a question independent of dictionary words the guides do
// not contain, so the lean dictionary answers as the full one does.
func (a *analyzer) splitUnknown(toks []rawToken) []rawToken {
	if a.hanVocab == nil {
		return toks // still learning the guides
	}
	var out []rawToken // made at the first word split; toks itself if none is
	for k, t := range toks {
		if t.latin || utf8.RuneCountInString(t.text) < 2 || a.knownHan(t.text) {
			if out != nil {
				out = append(out, t)
			}
			continue
		}
		if out == nil {
			out = append(make([]rawToken, 0, len(toks)+4), toks[:k]...)
		}
		runes := []rune(t.text)
		for i := 0; i < len(runes); {
			n := 1
			for j := min(len(runes), i+maxWordRunes); j > i+1; j-- {
				if a.knownHan(string(runes[i:j])) {
					n = j - i
					break
				}
			}
			out = append(out, rawToken{text: string(runes[i : i+n])})
			i += n
		}
	}
	if out == nil {
		return toks
	}
	return out
}

// guideTerms returns the terms of a guide text, remembering them for the
// index build.
func (a *analyzer) guideTerms(text string) []string {
	if terms, ok := a.built[text]; ok {
		return terms
	}
	terms := a.termsOf(a.splitUnknown(a.segment(text)))
	if a.built == nil {
		a.built = map[string][]string{}
	}
	a.built[text] = terms
	return terms
}

// learn records the words of the guides: a word they use is never
// "corrected", and the lexicon's words they use most win ties.
func (a *analyzer) learn(text string) {
	if a.latinVocab == nil {
		a.latinVocab = map[string]int{}
		a.latinStems = map[string]bool{}
		a.hanVocab = map[string]int{}
	}
	for _, t := range a.segment(text) {
		switch {
		case t.latin && isASCIIWord(t.text):
			a.latinVocab[t.text]++
			st := a.stem(t)
			a.latinStems[st] = true
			a.stemOf[t.text] = st
		case !t.latin && utf8.RuneCountInString(t.text) >= 2:
			a.hanVocab[t.text]++
		}
	}
}

// indexTargets builds what spelling correction corrects towards: the words
// of the lexicon's terms, the domain's own vocabulary. Correcting towards
// any word of the guides would "fix" everyday words into fragments of
// guide sentences (现在 → 先在).
func (a *analyzer) indexTargets(lex *knowledge.Lexicon) {
	n := 0
	for _, g := range lex.Synonyms {
		n += len(g)
	}
	a.latinByLen = map[int][]string{}
	a.pinyinOf = make(map[string]string, n/2)
	seen := make(map[string]bool, n)
	var key []byte
	for _, g := range lex.Synonyms {
		for _, term := range g {
			for _, t := range a.segment(term) {
				if seen[t.text] {
					continue
				}
				seen[t.text] = true
				switch {
				case t.latin && isASCIIWord(t.text) && len(t.text) >= 4:
					a.latinByLen[len(t.text)] = append(a.latinByLen[len(t.text)], t.text)
				case !t.latin && utf8.RuneCountInString(t.text) >= 2:
					key = appendPinyinKey(key[:0], t.text)
					prev, ok := a.pinyinOf[string(key)]
					if !ok || a.hanVocab[t.text] > a.hanVocab[prev] || (a.hanVocab[t.text] == a.hanVocab[prev] && t.text < prev) {
						a.pinyinOf[string(key)] = t.text
					}
				}
			}
		}
	}
	for _, ws := range a.latinByLen {
		sort.Strings(ws)
	}
}

// correct fixes misspelt words in a question: a Chinese word (or run of
// characters gse could not place) that the guides do not use but that
// sounds exactly like a word they do use; an English word the guides do not
// use that is one edit (two for long words) from one they do.
func (a *analyzer) correct(toks []rawToken, an *analysis) []rawToken {
	out := make([]rawToken, 0, len(toks))
	for i := 0; i < len(toks); {
		t := toks[i]
		if t.latin {
			if fixed, ok := a.correctLatin(t.text); ok {
				an.corrections = append(an.corrections, Correction{t.text, fixed})
				t.text = fixed
			}
			out = append(out, t)
			i++
			continue
		}
		if n, word, ok := a.correctHan(toks[i:]); ok {
			from := strings.Join(texts(toks[i:i+n]), "")
			an.corrections = append(an.corrections, Correction{from, word})
			out = append(out, rawToken{text: word})
			i += n
			continue
		}
		out = append(out, t)
		i++
	}
	return out
}

// isWord reports whether s is a real word of the dictionary: one gse
// segments with (the guides' and the lexicon's words, or the whole
// dictionary), or, with the lean dictionary, one of the real words kept
// apart for this check.
func (a *analyzer) isWord(s string) bool {
	if a.realWords != nil && a.realWords.has(s) {
		return true
	}
	seg := a.segmenter()
	if seg == nil {
		return false
	}
	_, _, ok := seg.Find(s)
	return ok
}

func (a *analyzer) knownHan(w string) bool {
	return a.hanVocab[w] > 0 || a.stop[w] || a.brands[w] || a.oos[w] || a.terms[w]
}

// correctHan looks for the longest run of up to 4 words (2 to 6 characters)
// starting at toks[0] that is not a known word, holds an unknown word, and
// sounds like a known word.
func (a *analyzer) correctHan(toks []rawToken) (int, string, bool) {
	var key []byte
	for n := min(4, len(toks)); n >= 1; n-- {
		unknown, withStop := false, false
		ok := true
		runes, size := 0, 0
		for k, t := range toks[:n] {
			if t.latin || (a.stop[t.text] && (k == 0 || utf8.RuneCountInString(t.text) > 1)) {
				// A stopword is a word the question means ("怎么回" is 怎么
				// + 回, not a misspelt 怎么会). A one-character stopword
				// after a character no word explains may be a misspelt
				// syllable of the word it starts (帐好 is 帐号), but only
				// of a word the guides use: 加个 is "add one", not 价格.
				ok = false
				break
			}
			withStop = withStop || a.stop[t.text]
			if !a.knownHan(t.text) {
				unknown = true
			}
			runes += utf8.RuneCountInString(t.text)
			size += len(t.text)
		}
		// Most runs fail these checks: the words are joined only after.
		if !ok || !unknown || runes < 2 || runes > 6 {
			continue
		}
		s := toks[0].text
		if n > 1 {
			var b strings.Builder
			b.Grow(size)
			for _, t := range toks[:n] {
				b.WriteString(t.text)
			}
			s = b.String()
		}
		if a.knownHan(s) {
			continue
		}
		if a.isWord(s) {
			continue // a real word that sounds alike (回复, not 恢复)
		}
		key = appendPinyinKey(key[:0], s)
		if w, found := a.pinyinOf[string(key)]; found && w != s && (!withStop || a.inGuides(w)) {
			return n, w, true
		}
	}
	return 0, "", false
}

func (a *analyzer) correctLatin(w string) (string, bool) {
	n := len(w)
	// Short words are mostly other real words one edit from a guide word
	// (most/lost, mode/code), and typing mistakes rarely hit the first
	// letter: correct only words of five letters or more, keeping it.
	if n < 5 || !isASCIIWord(w) || a.latinVocab[w] > 0 || a.stop[w] || a.brands[w] || a.oos[w] {
		return "", false
	}
	if st := a.stem(rawToken{text: w, latin: true}); a.terms[st] || a.latinStems[st] {
		return "", false // an inflection of a known word: "deleted"
	}
	maxDist := 1
	if n >= 8 {
		maxDist = 2
	}
	best, bestDist, bestCount := "", maxDist+1, 0
	var rows editRows
	for l := n - maxDist; l <= n+maxDist; l++ {
		for _, cand := range a.latinByLen[l] {
			if cand[0] != w[0] {
				continue
			}
			d := rows.distance(w, cand, maxDist)
			if d > maxDist {
				continue
			}
			if d < bestDist || (d == bestDist && a.latinVocab[cand] > bestCount) {
				best, bestDist, bestCount = cand, d, a.latinVocab[cand]
			}
		}
	}
	return best, best != ""
}

// editRows are the rows the edit distance is computed in, kept between
// the comparisons of one word with its candidates.
type editRows struct{ prev2, prev, cur []int }

// distance is the optimal-string-alignment distance (insertions,
// deletions, substitutions, adjacent transpositions) between ASCII words,
// or max+1 once it is certain to exceed max.
func (r *editRows) distance(a, b string, max int) int {
	if d := len(a) - len(b); d > max || -d > max {
		return max + 1
	}
	if cap(r.cur) < len(b)+1 {
		r.prev2, r.prev, r.cur = make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	}
	prev2, prev, cur := r.prev2[:len(b)+1], r.prev[:len(b)+1], r.cur[:len(b)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// phraseTrie maps word sequences (synonym terms, stopword phrases) to the
// name of their concept; "" drops the sequence.
type phraseTrie struct {
	next    map[string]*phraseTrie
	concept string
	end     bool
	// platforms (the root's only) are the concepts naming platforms (see
	// subject.go).
	platforms map[string]bool
}

func (t *phraseTrie) add(seq []string, concept string) {
	n := t
	for _, w := range seq {
		if n.next == nil {
			n.next = map[string]*phraseTrie{}
		}
		c, ok := n.next[w]
		if !ok {
			c = &phraseTrie{}
			n.next[w] = c
		}
		n = c
	}
	if !n.end {
		n.end, n.concept = true, concept
	}
}

// match returns the length of the longest sequence starting at toks[0].
func (t *phraseTrie) match(toks []rawToken) int {
	n, best := t, 0
	for j, tok := range toks {
		c, ok := n.next[tok.text]
		if !ok {
			break
		}
		n = c
		if n.end {
			best = j + 1
		}
	}
	return best
}

// rewrite replaces every longest matching sequence by its concept. It
// returns seq itself when nothing matches.
func (t *phraseTrie) rewrite(seq []string) []string {
	var out []string // made at the first match
	var memo map[fromKey]fromResult
	if slices.ContainsFunc(seq, isMark) {
		memo = map[fromKey]fromResult{}
	}
	for i := 0; i < len(seq); {
		matchLen, concept := t.longest(seq, i, memo)
		if matchLen <= 0 {
			if out != nil {
				out = append(out, seq[i])
			}
			i++
			continue
		}
		if out == nil {
			out = append(make([]string, 0, len(seq)), seq[:i]...)
		}
		if concept != "" {
			out = append(out, concept)
		}
		i += matchLen
	}
	if out == nil {
		return seq
	}
	return out
}

// Bleve integration: the analyzer is registered as a tokenizer, so Bleve
// indexes exactly the terms the engine searches for.

const tokenizerType = "faqbot"

// tokenSource is where Bleve's tokenizer finds a text's terms: the guide
// texts' terms, all computed before Bleve analyses any (startIndex checks
// that none is missing) and not changed while it does; dropped once the
// index is built.
type tokenSource struct {
	built map[string][]string
}

type bleveTokenizer struct{ src *tokenSource }

func (t bleveTokenizer) Tokenize(input []byte) bleveanalysis.TokenStream {
	terms := t.src.built[string(input)]
	// One allocation each for the tokens and their bytes (no token filter
	// changes them).
	size := 0
	for _, term := range terms {
		size += len(term)
	}
	buf := make([]byte, 0, size)
	toks := make([]bleveanalysis.Token, len(terms))
	out := make(bleveanalysis.TokenStream, len(terms))
	for i, term := range terms {
		start := len(buf)
		buf = append(buf, term...)
		toks[i] = bleveanalysis.Token{
			Term:     buf[start:len(buf):len(buf)],
			Position: i + 1,
			Start:    0,
			End:      len(input),
			Type:     bleveanalysis.AlphaNumeric,
		}
		out[i] = &toks[i]
	}
	return out
}

func init() {
	// The token source travels in the tokenizer's config: the index is built in
	// memory and its mapping is never serialised.
	err := registry.RegisterTokenizer(tokenizerType, func(config map[string]interface{}, _ *registry.Cache) (bleveanalysis.Tokenizer, error) {
		src, ok := config["source"].(*tokenSource)
		if !ok {
			return nil, fmt.Errorf("tokenizer %s needs its token source", tokenizerType)
		}
		return bleveTokenizer{src}, nil
	})
	if err != nil {
		panic(err)
	}
}

// lexical reports whether term t is one of the lexicon's concepts (what
// every synonym of a group becomes). A word that only appears inside a
// lexicon phrase ("time" in "at the same time") is not.
func (a *analyzer) lexical(t string) bool { return a.conceptNames[t] }
