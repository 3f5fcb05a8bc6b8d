// Package search answers questions from the guides: one Engine, shared by
// every transport, that finds the entry a question asks about, says how sure
// it is, offers close alternatives, or says honestly that it does not know.
package search

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/index/scorch"
	blevesearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"faqbot/knowledge"
)

// Outcome is what the engine decided to do with a question.
type Outcome string

// The outcomes of a question.
const (
	// Answered: one entry answers the question, with confidence.
	Answered Outcome = "answered"
	// Clarify: a few entries fit about equally; ask which one is meant.
	Clarify Outcome = "clarify"
	// None: nothing in the guides answers it. The answer says what the bot
	// can help with instead.
	None Outcome = "none"
	// Chitchat: a greeting, thanks, goodbye or a question about the bot.
	Chitchat Outcome = "chitchat"
)

// Candidate is an entry that might answer a question.
type Candidate struct {
	ID    string  `json:"id"`
	Title string  `json:"title"`
	Score float64 `json:"score"`
	// Confidence is the engine's estimate, in [0,1], that this entry is the
	// one the question asks about.
	Confidence float64 `json:"confidence"`
}

// Answer is the engine's reply to one question.
type Answer struct {
	Query   string  `json:"query"`
	Outcome Outcome `json:"outcome"`
	// ID, Title, Blocks and Lang are those of the best entry, in the
	// language of the reply. For None they hold the default reply (ID "").
	ID     string            `json:"id"`
	Title  string            `json:"title"`
	Blocks []knowledge.Block `json:"-"`
	Lang   knowledge.Lang    `json:"lang"`
	// Score is the best entry's search score (comparable only within one
	// question); Confidence is calibrated: 0.8 means about 8 in 10
	// questions answered at that confidence get the right entry.
	Score      float64 `json:"score"`
	Confidence float64 `json:"confidence"`
	// Alternatives are the next best entries (at most 3), best first. When
	// Outcome is Clarify, the best entry and these are the choices.
	Alternatives []Candidate `json:"alternatives"`
}

// Text renders the answer's body as plain text.
func (a *Answer) Text() string { return knowledge.BlocksText(a.Blocks) }

// Engine answers questions from a knowledge base. It is safe for concurrent
// use; build one and share it.
type Engine struct {
	base  *knowledge.Base
	an    *analyzer
	index bleve.Index
	cfg   Config
	docs  map[string]*docInfo // by entry id
	n     float64             // number of entries (ids)
	idf   map[string]float64
	// inFields says which of the index's fields hold a term (bit i for
	// searchFields[i]): a term query on a field without the term matches
	// nothing, and would only cost Bleve a searcher.
	inFields map[string]uint8
	// chitchatOnly marks terms only small-talk entries use (hi, thanks):
	// they do not count against an FAQ entry ("hi, how do I log out").
	chitchatOnly map[string]bool
	unkW         float64 // weight of a word no entry uses
	byLang       map[knowledge.Lang]bool

	platforms map[string][]string // concept → platform tag values
	// dictSource says where the segmentation dictionary came from.
	dictSource string
	// exact maps the key of every title and alternate question (see
	// exactKey) to its entry; a question asked exactly as the guide lists
	// it needs no search.
	exact map[string]string

	// qmodel weighs terms by how typical they are of each entry's own
	// questions (see discriminate.go).
	qmodel questionsModel

	tradMu    sync.Mutex
	tradCache map[string]*knowledge.Entry
}

type docInfo struct {
	id   string
	kind knowledge.Kind
	// terms maps each term of the entry to where it occurs: 1 for a title
	// or alternate question, answerMatch for the answer only.
	terms map[string]float64
	// questions are the entry's titles and alternate questions, in every
	// language, as term sets; inQuestions lists, for each term, the
	// questions that hold it.
	questions   []questionTerms
	inQuestions map[string][]int
	// platforms are the entry's "platform" tag values, in every language.
	platforms map[string]bool
}

// questionTerms is one alternate question (or title) as weighted terms.
type questionTerms struct {
	terms map[string]bool
	norm  float64 // Euclidean norm of the term weights
}

// answerMatch is what a term found only in an entry's answer counts for,
// against 1 in its title or questions: answers mention things in passing.
const answerMatch = 0.5

// Config tunes the engine. DefaultConfig gives the measured defaults.
type Config struct {
	// Field boosts: how much a match in an entry's title, alternate
	// questions and answer counts.
	TitleBoost, QuestionsBoost, AnswerBoost float64
	// AnswerAt is the confidence from which the engine answers; below
	// DeclineBelow it declines; between them it asks to clarify when a
	// second entry is close. A near tie between two entries (decide.go's
	// tieRatio) is asked back up to a confidence of tieBelow (0.95),
	// whatever AnswerAt is.
	AnswerAt, DeclineBelow float64
	// DefaultLang is the reply language when a question has no words
	// (emoji, digits) and the caller gave no hint.
	DefaultLang knowledge.Lang
	// MaxQueryRunes caps how much of a message is read.
	MaxQueryRunes int
	// Calibration turns a question's figures into a confidence.
	Calibration Calibration
	// CacheDir is where lean dictionaries derived for guides other than the
	// shipped ones are kept between starts, keyed by the guides' content;
	// "" derives the dictionary at every start.
	CacheDir string
	// FullDictionary loads gse's whole dictionary instead of the lean one
	// derived from the guides (for comparison in benchmarks).
	FullDictionary bool
}

// DefaultConfig returns the configuration the evaluation figures in the
// README were measured with.
func DefaultConfig() Config {
	return Config{
		TitleBoost:     2,
		QuestionsBoost: 1.5,
		AnswerBoost:    1,
		AnswerAt:       0.7,
		DeclineBelow:   0.5,
		DefaultLang:    knowledge.English,
		MaxQueryRunes:  MaxQueryRunes,
		Calibration:    DefaultCalibration,
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	for _, b := range []struct {
		name string
		v    float64
	}{{"TitleBoost", c.TitleBoost}, {"QuestionsBoost", c.QuestionsBoost}, {"AnswerBoost", c.AnswerBoost}} {
		if !(b.v >= 0) || math.IsInf(b.v, 0) {
			return fmt.Errorf("search config: %s = %v, want a finite number ≥ 0", b.name, b.v)
		}
	}
	if !(c.DeclineBelow >= 0 && c.DeclineBelow <= c.AnswerAt && c.AnswerAt <= 1) {
		return fmt.Errorf("search config: want 0 ≤ DeclineBelow (%v) ≤ AnswerAt (%v) ≤ 1", c.DeclineBelow, c.AnswerAt)
	}
	if _, err := knowledge.ParseLang(string(c.DefaultLang)); err != nil {
		return fmt.Errorf("search config: DefaultLang: %w", err)
	}
	if c.MaxQueryRunes < 1 {
		return fmt.Errorf("search config: MaxQueryRunes = %d, want ≥ 1", c.MaxQueryRunes)
	}
	return nil
}

const (
	fieldTitle     = "title"
	fieldQuestions = "questions"
	fieldAnswer    = "answer"
	analyzerName   = "faqbot"
)

// New builds an engine over base: a lean segmentation dictionary for its
// words, the analyzer, and an in-memory Bleve index of its entries, built
// in one batch.
func New(base *knowledge.Base, cfg Config) (*Engine, error) {
	if base == nil || len(base.Entries()) == 0 {
		return nil, errors.New("search: no entries to search")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lex := base.Lexicon()
	if lex == nil {
		lex = &knowledge.Lexicon{}
	}

	var dict string
	source := "full"
	var err error
	if cfg.FullDictionary {
		dict, err = fullDictionary(dictionaryInputs(base))
	} else {
		dict, source, err = cachedLeanDictionary(base.Hash(), cfg.CacheDir, func() ([]string, []string) { return dictionaryInputs(base) })
	}
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	// Work that needs nothing else runs beside the rest: the segmenter
	// (which, with the guides segmented ahead of time, only questions
	// need) and the exact-match keys.
	gseDict, realWords := splitDictionary(dict)
	seg := loadSegmenter(gseDict)
	guideTexts := allEntryTexts(base)
	var pre *shippedAnalysis
	if source == "embedded" && useShippedAnalysis {
		if sa, ok := shippedFor(base.Hash(), guideTexts); ok {
			pre = &sa
		}
	}
	var exactKeys []string
	if pre != nil {
		exactKeys = pre.exactKeys
	}
	exact := make(chan map[string]string, 1)
	go func() { exact <- exactIndex(base, exactKeys) }()

	platforms := map[string][]string{}
	for concept, ps := range lex.Platforms {
		platforms[strings.ReplaceAll(concept, " ", "_")] = ps
	}
	e := &Engine{base: base, cfg: cfg, platforms: platforms, dictSource: source, docs: map[string]*docInfo{}, tradCache: map[string]*knowledge.Entry{}, byLang: map[knowledge.Lang]bool{}}
	ix := e.groupDocs()
	if pre != nil {
		// With every guide text's terms known, Bleve indexes them while
		// the analyzer is built.
		if err := e.startIndex(ix, pre.terms); err != nil {
			return nil, fmt.Errorf("search: build index: %w", err)
		}
	}
	an := newAnalyzer(seg, lex, guideTexts, pre)
	an.realWords = realWords
	if !an.shipped {
		learnAll(an, lex, guideTexts)
		an.indexTargets(lex)
	}
	e.an = an
	if err := e.buildIndex(ix); err != nil {
		if e.index != nil {
			e.index.Close()
		}
		return nil, fmt.Errorf("search: build index: %w", err)
	}
	e.exact = <-exact
	if an.seg, err = seg.wait(); err != nil {
		e.index.Close()
		return nil, fmt.Errorf("search: %w", err)
	}
	an.pending = nil
	e.buildQuestionsModel()
	return e, nil
}

// exactIndex maps every title and alternate question by its key to its
// entry. A key two entries share belongs to neither: the search decides.
// keys, when not nil, are the keys of exactTexts(base), made ahead of time.
func exactIndex(base *knowledge.Base, keys []string) map[string]string {
	texts := exactTexts(base)
	if len(keys) != len(texts) {
		keys = make([]string, len(texts))
		for i, t := range texts {
			keys[i] = exactKey(t.text)
		}
	}
	exact := make(map[string]string, len(keys))
	ambiguous := map[string]bool{}
	for i, k := range keys {
		id := texts[i].id
		if k == "" || ambiguous[k] {
			continue
		}
		if prev, ok := exact[k]; ok && prev != id {
			delete(exact, k)
			ambiguous[k] = true
			continue
		}
		exact[k] = id
	}
	return exact
}

// idText is a title or alternate question and its entry.
type idText struct{ id, text string }

// exactTexts returns every title and alternate question, in order.
func exactTexts(base *knowledge.Base) []idText {
	var out []idText
	for _, en := range base.Entries() {
		out = append(out, idText{en.ID, en.Title})
		for _, q := range en.Questions {
			out = append(out, idText{en.ID, q})
		}
	}
	return out
}

// exactKey is a text reduced to its letters and digits, normalised and in
// Simplified characters: "Who are you?" and "who are you" share it.
func exactKey(s string) string {
	return lettersAndDigits(toSimplified(normalizeText(s, MaxQueryRunes)))
}

// questionKey is exactKey(question), from the question's analysis when it
// was normalised the same way (no need to normalise and convert it twice).
func (e *Engine) questionKey(question string, an *analysis) string {
	if e.cfg.MaxQueryRunes == MaxQueryRunes {
		return lettersAndDigits(an.simplified)
	}
	return exactKey(question)
}

// lettersAndDigits returns s without the characters that are neither.
func lettersAndDigits(s string) string {
	keep := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	i := strings.IndexFunc(s, func(r rune) bool { return !keep(r) })
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if keep(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// dictionaryInputs returns the texts the dictionary must cover (guides and
// lexicon, normalised and in Simplified characters, as the analyzer will
// see them) and the lexicon's terms.
func dictionaryInputs(base *knowledge.Base) (texts, terms []string) {
	lex := base.Lexicon()
	if lex == nil {
		lex = &knowledge.Lexicon{}
	}
	texts = allEntryTexts(base)
	terms = analyzerTexts(lex, nil)
	for i, t := range texts {
		texts[i] = toSimplified(normalizeText(t, 0))
	}
	for _, t := range terms {
		texts = append(texts, toSimplified(normalizeText(t, 0)))
	}
	return texts, terms
}

// learnAll has the analyzer learn the words of the guides and the lexicon.
func learnAll(an *analyzer, lex *knowledge.Lexicon, guideTexts []string) {
	for _, t := range analyzerTexts(lex, guideTexts) {
		an.learn(t)
	}
}

// allEntryTexts returns the texts of every entry, in order.
func allEntryTexts(base *knowledge.Base) []string {
	var out []string
	for _, e := range base.Entries() {
		out = append(out, entryTexts(&e)...)
	}
	return out
}

func entryTexts(e *knowledge.Entry) []string {
	out := []string{e.Title}
	out = append(out, e.Questions...)
	return append(out, e.AnswerText())
}

// guideDoc is what the index holds of one entry id: its titles, alternate
// questions and answers in every language. A question in any language (or
// a mix) meets the entry through the shared concept terms.
type guideDoc struct {
	Title, Questions, Answer []string
}

// indexing is the index of the guides as it is built.
type indexing struct {
	order []string             // entry ids, in the guides' order
	docs  map[string]*guideDoc // by entry id
	src   *tokenSource         // where Bleve finds the texts' terms
	done  chan error           // the batch's outcome, once started
}

// groupDocs gathers the texts of each entry id for the index.
func (e *Engine) groupDocs() *indexing {
	ix := &indexing{docs: map[string]*guideDoc{}}
	for _, en := range e.base.Entries() {
		e.byLang[en.Lang] = true
		d, ok := ix.docs[en.ID]
		if !ok {
			d = &guideDoc{}
			ix.docs[en.ID] = d
			ix.order = append(ix.order, en.ID)
			e.docs[en.ID] = &docInfo{id: en.ID, kind: en.Kind, terms: map[string]float64{}, platforms: map[string]bool{}}
		}
		for _, p := range en.Tag("platform") {
			e.docs[en.ID].platforms[p] = true
		}
		d.Title = append(d.Title, en.Title)
		d.Questions = append(d.Questions, en.Questions...)
		if en.Kind == knowledge.FAQ {
			// A small-talk answer talks about the guides ("I answer
			// questions about logging out…"): searched, it would answer
			// them.
			d.Answer = append(d.Answer, en.AnswerText())
		}
	}
	return ix
}

// startIndex creates the in-memory index and starts indexing ix's
// documents in one batch, in the background; built holds the terms of
// their texts and must not change until the batch is done (ix.done). If
// built lacks one of the texts, it starts nothing: the analyzer, which
// Bleve would need for that text, may not be ready.
func (e *Engine) startIndex(ix *indexing, built map[string][]string) error {
	for _, id := range ix.order {
		d := ix.docs[id]
		for _, list := range [][]string{d.Title, d.Questions, d.Answer} {
			for _, t := range list {
				if _, ok := built[t]; !ok {
					return nil
				}
			}
		}
	}
	ix.src = &tokenSource{built: built}
	im := bleve.NewIndexMapping()
	im.ScoringModel = "bm25"
	if err := im.AddCustomTokenizer(analyzerName, map[string]interface{}{"type": tokenizerType, "source": ix.src}); err != nil {
		return err
	}
	if err := im.AddCustomAnalyzer(analyzerName, map[string]interface{}{"type": custom.Name, "tokenizer": analyzerName}); err != nil {
		return err
	}
	im.DefaultAnalyzer = analyzerName
	dm := bleve.NewDocumentStaticMapping()
	for _, f := range []string{fieldTitle, fieldQuestions, fieldAnswer} {
		fm := bleve.NewTextFieldMapping()
		fm.Analyzer = analyzerName
		fm.Store = false
		fm.IncludeInAll = false
		fm.IncludeTermVectors = false
		fm.DocValues = false
		dm.AddFieldMappingsAt(f, fm)
	}
	im.DefaultMapping = dm
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false

	idx, err := bleve.NewUsing("", im, scorch.Name, scorch.Name, nil)
	if err != nil {
		return err
	}
	e.index = idx
	batch := idx.NewBatch()
	for _, id := range ix.order {
		d := ix.docs[id]
		// Lists, not joined text: Bleve analyses each element on its
		// own, which finds it among the built terms.
		if err := batch.Index(id, map[string]interface{}{
			fieldTitle:     d.Title,
			fieldQuestions: d.Questions,
			fieldAnswer:    d.Answer,
		}); err != nil {
			return err
		}
	}
	ix.done = make(chan error, 1)
	go func() { ix.done <- idx.Batch(batch) }()
	return nil
}

// buildIndex computes what the engine knows of each entry (its terms, its
// questions' terms, the terms' weights) and has the index built: started
// already, or started here once the terms of every text are known.
func (e *Engine) buildIndex(ix *indexing) error {
	df := map[string]int{}
	for _, id := range ix.order {
		d := ix.docs[id]
		info := e.docs[id]
		for _, t := range append(append([]string{}, d.Title...), d.Questions...) {
			set := map[string]bool{}
			for _, term := range e.an.guideTerms(t) {
				set[term] = true
				info.terms[term] = 1
			}
			if len(set) > 0 {
				if info.inQuestions == nil {
					info.inQuestions = map[string][]int{}
				}
				for term := range set {
					info.inQuestions[term] = append(info.inQuestions[term], len(info.questions))
				}
				info.questions = append(info.questions, questionTerms{terms: set})
			}
		}
		for _, t := range d.Answer {
			for _, term := range e.an.guideTerms(t) {
				if info.terms[term] == 0 {
					info.terms[term] = answerMatch
				}
			}
		}
		for term := range info.terms {
			df[term]++
		}
	}
	if ix.done == nil {
		if err := e.startIndex(ix, e.an.built); err != nil {
			return err
		}
		if ix.done == nil {
			return errors.New("a guide text has no terms") // cannot happen: each was just analysed
		}
	}
	// Bleve analyses (finding the terms in built) and indexes the batch
	// while the figures below are computed.
	e.n = float64(len(ix.order))
	e.idf = make(map[string]float64, len(df))
	for t, n := range df {
		e.idf[t] = math.Log(1 + e.n/float64(n))
		if !e.an.lexical(t) {
			e.idf[t] *= incidentalWeight
		}
	}
	e.unkW = math.Log(1 + e.n)
	e.an.guideIDF = e.idf
	e.chitchatOnly = map[string]bool{}
	for t := range df {
		only := true
		for _, info := range e.docs {
			if info.kind == knowledge.FAQ && info.terms[t] > 0 {
				only = false
				break
			}
		}
		e.chitchatOnly[t] = only
	}
	// A topic that one of the entries' titles or alternate questions asks
	// about is covered after all.
	kept := e.an.uncovered[:0]
	for _, u := range e.an.uncovered {
		if !e.asksAbout(u) {
			kept = append(kept, u)
		}
	}
	e.an.uncovered = kept
	for _, info := range e.docs {
		for i := range info.questions {
			q := &info.questions[i]
			for t := range q.terms {
				w := e.weight(t)
				q.norm += w * w
			}
			q.norm = math.Sqrt(q.norm)
		}
	}
	err := <-ix.done
	// From here on, only questions are analysed (and Bleve analyses
	// nothing: questions are term queries).
	e.an.built, e.an.segCache, ix.src.built = nil, nil, nil
	if err != nil {
		return err
	}
	return e.readFieldTerms()
}

// searchFields are the index's fields, in the order of inFields' bits.
var searchFields = [...]string{fieldTitle, fieldQuestions, fieldAnswer}

// readFieldTerms fills inFields from the index's own term dictionaries.
func (e *Engine) readFieldTerms() error {
	e.inFields = make(map[string]uint8, len(e.idf))
	for i, f := range searchFields {
		dict, err := e.index.FieldDict(f)
		if err != nil {
			return fmt.Errorf("reading the index's terms of %s: %w", f, err)
		}
		for {
			de, err := dict.Next()
			if err != nil {
				dict.Close()
				return fmt.Errorf("reading the index's terms of %s: %w", f, err)
			}
			if de == nil {
				break
			}
			e.inFields[de.Term] |= 1 << i
		}
		if err := dict.Close(); err != nil {
			return fmt.Errorf("reading the index's terms of %s: %w", f, err)
		}
	}
	return nil
}

// weightedTerms are a question's terms with their weights.
type weightedTerms struct {
	terms                []string
	weights              []float64
	total, norm, unknown float64
}

// questionWeights weighs the question's terms, leaving out those in skip.
func (e *Engine) questionWeights(terms []string, skip map[string]bool) weightedTerms {
	var q weightedTerms
	for _, t := range terms {
		if skip[t] {
			continue
		}
		w := e.weight(t)
		q.terms = append(q.terms, t)
		q.weights = append(q.weights, w)
		q.total += w
		q.norm += w * w
		if _, known := e.idf[t]; !known {
			q.unknown += w
		}
	}
	q.norm = math.Sqrt(q.norm)
	return q
}

// rerankDepth is how many of Bleve's best hits are re-ranked.
const rerankDepth = 10

// Close releases the index.
func (e *Engine) Close() error { return e.index.Close() }

// DictionarySource says where the segmentation dictionary came from:
// "embedded", a cache file, "derived" or "full".
func (e *Engine) DictionarySource() string { return e.dictSource }

// Base returns the knowledge the engine answers from.
func (e *Engine) Base() *knowledge.Base { return e.base }

// AskOption adjusts one question.
type AskOption func(*askConfig)

type askConfig struct {
	langHint   knowledge.Lang
	searchOnly bool // skip the exact match (for lint)
}

// WithLangHint gives the language to reply in when the question itself does
// not show one (only emoji, digits or symbols), for example a chat user's
// interface language.
func WithLangHint(l knowledge.Lang) AskOption {
	return func(c *askConfig) { c.langHint = l }
}

// scored is a candidate with the figures the decision is made from.
type scored struct {
	id       string
	kind     knowledge.Kind
	score    float64 // the re-ranked score, in [0,1]
	bm25     float64 // Bleve's score
	bm25Rel  float64 // relative to the best hit
	coverage float64 // share of the question's weight the entry holds
	closest  float64 // similarity to its closest alternate question
	// otherPlatform: the question names platforms this entry is not for.
	otherPlatform bool
	// partPlatform: the question names several platforms and the entry is
	// for only some of them ("log out the office computer's WhatsApp Web
	// with my phone" names the phone, which the Web's own entry is not for).
	partPlatform bool
	// unknown is the share of the question's weight in words no entry uses.
	unknown float64
	// posterior is the questions model's probability that the question
	// asks for this entry rather than another candidate.
	posterior float64
	conf      float64
	matched   []string
}

// Answer finds the entry that answers question. It never fails on any
// text: it returns an error only when ctx is done or the index fails.
func (e *Engine) Answer(ctx context.Context, question string, opts ...AskOption) (Answer, error) {
	var ac askConfig
	for _, o := range opts {
		o(&ac)
	}
	if err := ctx.Err(); err != nil {
		return Answer{}, err
	}
	an := e.an.analyze(question, e.cfg.MaxQueryRunes, true)
	lang := e.replyLang(&an, ac.langHint)
	if id, ok := e.exact[e.questionKey(question, &an)]; ok && !ac.searchOnly {
		// Asked exactly as the guide lists it.
		ans, err := e.Lookup(id, lang)
		ans.Query = question
		return ans, err
	}
	if e.offTopic(&an) {
		// Declined whatever the search would find.
		return e.decide(question, &an, lang, nil), nil
	}
	cands, err := e.rank(ctx, &an)
	if err != nil {
		return Answer{}, err
	}
	return e.decide(question, &an, lang, cands), nil
}

// search returns the hits Bleve ranks best, enough of them for the hits
// tying at the re-ranking cut to be taken by id, not by the order the index
// happened to store them in: an index built from the shipped analysis and
// one built the long way answer alike. It asks for twice the cut and only
// when the tie reaches past that for every hit. (Every hit every time,
// sorted here, made the p99 over 5,000 synthetic entries 4.2–5.4 ms
// against 1.0–1.4 ms, and the p50 about a fifth longer; Bleve's own sort by
// score then id was not faster on the shipped guides, in one run slower.)
func (e *Engine) search(ctx context.Context, q query.Query) (*bleve.SearchResult, error) {
	size := min(len(e.docs), 2*rerankDepth)
	for {
		res, err := e.index.SearchInContext(ctx, bleve.NewSearchRequestOptions(q, size, 0, false))
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		hits := res.Hits
		if len(hits) < size || size >= len(e.docs) || hits[size-1].Score != hits[rerankDepth-1].Score {
			return res, nil
		}
		size = len(e.docs)
	}
}

// rank scores the entries that share a term with the question, best first.
func (e *Engine) rank(ctx context.Context, an *analysis) ([]scored, error) {
	terms := distinct(an.terms)
	if len(terms) == 0 {
		return nil, nil
	}
	var clauses []query.Query
	boosts := [len(searchFields)]float64{e.cfg.TitleBoost, e.cfg.QuestionsBoost, e.cfg.AnswerBoost}
	for _, t := range terms {
		// Only the fields that hold the term: a query for it elsewhere
		// matches nothing. (Bleve scales a disjunction's scores by the
		// share of its clauses a document matches and by the clauses'
		// weights; leaving out those matching nothing scales every
		// document's score alike, so the ranking and each score relative to
		// the best one are the same.)
		in := e.inFields[t]
		for i, f := range searchFields {
			if in&(1<<i) == 0 || boosts[i] == 0 {
				continue
			}
			q := bleve.NewTermQuery(t)
			q.SetField(f)
			q.SetBoost(boosts[i])
			clauses = append(clauses, q)
		}
	}
	if len(clauses) == 0 {
		return nil, nil
	}
	res, err := e.search(ctx, bleve.NewDisjunctionQuery(clauses...))
	if err != nil {
		return nil, err
	}
	all := e.questionWeights(terms, nil)
	faq := e.questionWeights(terms, e.chitchatOnly)
	named := e.platformsNamed(terms)
	maxBM25 := 0.0
	for _, h := range res.Hits {
		maxBM25 = math.Max(maxBM25, h.Score)
	}
	hits := res.Hits
	slices.SortStableFunc(hits, func(a, b *blevesearch.DocumentMatch) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	hits = hits[:min(len(hits), rerankDepth)]
	out := make([]scored, 0, len(hits))
	for _, h := range hits {
		info := e.docs[h.ID]
		q := all
		if info.kind == knowledge.FAQ {
			q = faq
		}
		c := scored{id: h.ID, kind: info.kind, bm25: h.Score}
		if q.total > 0 {
			c.unknown = q.unknown / q.total
			var got float64
			for i, t := range q.terms {
				if m := info.terms[t]; m > 0 {
					got += m * q.weights[i]
					c.matched = append(c.matched, t)
				}
			}
			c.coverage = got / q.total
			c.closest = e.closestQuestion(info, q.terms, q.weights, q.norm)
		}
		if maxBM25 > 0 {
			c.bm25Rel = h.Score / maxBM25
		}
		c.otherPlatform = len(named) > 0 && len(info.platforms) > 0 && !overlaps(named, info.platforms) && !e.asksAboutPlatform(info, terms)
		c.partPlatform = !c.otherPlatform && len(named) > 0 && len(info.platforms) > 0 && e.leavesPlatform(info, terms)
		out = append(out, c)
	}
	e.questionsPosterior(terms, out)
	for i := range out {
		c := &out[i]
		c.score = rerankCoverage*c.coverage + rerankClosest*c.closest + rerankBM25*c.bm25Rel + rerankQuestions*c.posterior
		if c.otherPlatform {
			c.score *= platformMismatch
		} else if c.partPlatform {
			c.score *= platformPartial
		}
		// An entry's defining terms the question lacks (discriminate.go).
		for _, t := range e.qmodel.defining[c.id] {
			if !slices.Contains(terms, t) {
				c.score *= definingMissing
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].score > out[j].score })
	return out, nil
}

// platformMismatch scales the score of an entry for other platforms than
// the ones a question names.
const platformMismatch = 0.75

// platformPartial scales the score of an entry for some of the platforms
// a question names but not all.
const platformPartial = 0.9

// leavesPlatform reports whether the question names a platform concept
// (the phone, the web version…) that the entry is not for and that its own
// questions do not name either.
func (e *Engine) leavesPlatform(info *docInfo, terms []string) bool {
	for _, t := range terms {
		ps := e.platforms[t]
		if len(ps) == 0 || info.terms[t] == 1 {
			continue
		}
		covered := false
		for _, p := range ps {
			if info.platforms[p] {
				covered = true
				break
			}
		}
		if !covered {
			return true
		}
	}
	return false
}

// asksAboutPlatform reports whether the entry's own titles or alternate
// questions name a platform the question names: an entry for the phone that
// people ask about their computer from ("after I uninstall, is the computer
// still logged in") is not for another platform.
func (e *Engine) asksAboutPlatform(info *docInfo, terms []string) bool {
	for _, t := range terms {
		if len(e.platforms[t]) > 0 && info.terms[t] == 1 {
			return true
		}
	}
	return false
}

// platformsNamed returns the platforms the question's terms name.
func (e *Engine) platformsNamed(terms []string) map[string]bool {
	var out map[string]bool
	for _, t := range terms {
		for _, p := range e.platforms[t] {
			if out == nil {
				out = map[string]bool{}
			}
			out[p] = true
		}
	}
	return out
}

func overlaps(a, b map[string]bool) bool {
	for k := range a {
		if b[k] {
			return true
		}
	}
	return false
}

// The re-ranking weights: how much the share of the question an entry
// covers, its closest alternate question, Bleve's BM25 score (relative to
// the best of this question) and the questions model's posterior (see
// discriminate.go) count in an entry's score. They sum to 1.
const (
	rerankCoverage  = 0.35 * (1 - rerankQuestions)
	rerankClosest   = 0.50 * (1 - rerankQuestions)
	rerankBM25      = 0.15 * (1 - rerankQuestions)
	rerankQuestions = 0.2
)

// closestQuestion returns the cosine similarity, over term weights, between
// the question and the most similar of the entry's titles and alternate
// questions: an FAQ entry is found by the way people ask for it.
func (e *Engine) closestQuestion(info *docInfo, terms []string, weights []float64, qNorm float64) float64 {
	// Dot products accumulate only where a question holds a term.
	var small [64]float64
	dots := small[:0]
	if len(info.questions) <= len(small) {
		dots = small[:len(info.questions)]
	} else {
		dots = make([]float64, len(info.questions))
	}
	for i, t := range terms {
		for _, qi := range info.inQuestions[t] {
			dots[qi] += weights[i] * weights[i]
		}
	}
	best := 0.0
	for qi, dot := range dots {
		if dot > 0 {
			best = math.Max(best, dot/(qNorm*info.questions[qi].norm))
		}
	}
	return best
}

// weight is how much a term says about which entry is meant: its inverse
// document frequency. A word no entry uses says the question is (at least
// partly) about something else: it weighs unknownWeight of the rarest word,
// per two Chinese characters (so "群聊" weighs the same whether the
// dictionary knows it as one word or as two characters).
func (e *Engine) weight(t string) float64 {
	if w, ok := e.idf[t]; ok {
		return w
	}
	if r := utf8.RuneCountInString(t); hasHan(t) {
		return e.unkW * unknownWeight * float64(r) / 2
	}
	if t != "" && isNumber(t) {
		return e.unkW * unknownWeight * numberWeight
	}
	return e.unkW * unknownWeight
}

// numberWeight scales a number no entry uses: in a question it is mostly a
// version, a model or a year ("windows 11", "iphone 15", "from 2019"),
// which says little about what is asked, while a word no entry uses says
// the question is about something else.
const numberWeight = 0.25

// incidentalWeight scales the weight of the guides' words that are not the
// lexicon's: the words the guides use in passing ("time", "情况") say less
// about what a question is about than the domain's own words do, however
// rare they are in the guides.
const incidentalWeight = 0.6

// unknownWeight scales words no entry uses against the rarest guide word.
const unknownWeight = 0.7

func distinct(ts []string) []string {
	seen := make(map[string]bool, len(ts))
	out := ts[:0:0]
	for _, t := range ts {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// asksAbout reports whether a title or alternate question of an FAQ entry
// is about topic u.
func (e *Engine) asksAbout(u uncoveredTopic) bool {
	for _, info := range e.docs {
		if info.kind != knowledge.FAQ {
			continue
		}
		// Only the questions holding the topic's first term can be about it.
		for _, qi := range info.inQuestions[u.terms[0]] {
			q := info.questions[qi]
			if u.matches(func(t string) bool { return q.terms[t] }) {
				return true
			}
		}
	}
	return false
}

// matches reports whether a text holding the terms has says is about u.
func (u uncoveredTopic) matches(has func(string) bool) bool {
	for _, t := range u.terms {
		if !has(t) {
			return false
		}
	}
	for _, t := range u.unless {
		if has(t) {
			return false
		}
	}
	return true
}

// uncoveredTopics returns the uncovered topics (see knowledge.Lexicon) the
// question's terms name.
func (e *Engine) uncoveredTopics(an *analysis) []string {
	var out []string
	has := func(t string) bool { return slices.Contains(an.terms, t) }
	for _, u := range e.an.uncovered {
		if u.matches(has) {
			out = append(out, u.name)
		}
	}
	return out
}
