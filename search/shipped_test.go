package search

import (
	"context"
	"encoding/json"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/longbridgeapp/opencc"

	"faqbot/knowledge"
)

// TestShippedAnalysis checks that dict/shipped-analysis.txt is what the
// shipped guides give today and that reading it gives what computing gives;
// -update rewrites it.
func TestShippedAnalysis(t *testing.T) {
	base, err := knowledge.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	texts, terms := dictionaryInputs(base)
	dict, err := leanDictionary(texts, terms)
	if err != nil {
		t.Fatal(err)
	}
	gseDict, _ := splitDictionary(dict)
	lex := base.Lexicon()
	guideTexts := allEntryTexts(base)
	segmenting := newAnalyzer(loadSegmenter(gseDict), lex, guideTexts, nil)
	learnAll(segmenting, lex, guideTexts)
	segmenting.indexTargets(lex)
	want := formatAnalysis(base.Hash(), segmenting, lex, guideTexts, exactTexts(base))
	if *update {
		if err := os.WriteFile("dict/shipped-analysis.txt", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if shippedText != want {
		t.Fatal("dict/shipped-analysis.txt is stale: the guides, the lexicon, the dictionary, segmentation or normalisation changed; run go generate ./search")
	}
	pre, ok := shippedFor(base.Hash(), guideTexts)
	if !ok {
		t.Fatal("the shipped analysis's key does not match the shipped guides")
	}
	if _, ok := shippedFor("other guides", guideTexts); ok {
		t.Error("the shipped analysis is offered for other guides")
	}

	lexTexts := analyzerTexts(lex, nil)
	reading := &analyzer{}
	if !reading.loadSegments(lexTexts, pre.segments) {
		t.Fatal("the shipped segmentation does not fit the lexicon's terms")
	}
	for _, text := range lexTexts {
		got, want := reading.segCache[text], segmenting.segCache[text]
		if len(got) != len(want) {
			t.Errorf("%q: read %v, segmented %v", text, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%q: word %d read %+v, segmented %+v", text, i, got[i], want[i])
			}
		}
	}

	reading.stemOf = map[string]string{}
	if !reading.loadStems(pre.stems) || len(reading.stemOf) == 0 {
		t.Error("no stems")
	}
	for w, st := range reading.stemOf {
		if want := (&analyzer{}).stem(rawToken{text: w, latin: true}); st != want {
			t.Errorf("stem of %q: read %q, Snowball %q", w, st, want)
		}
	}

	for _, text := range guideTexts {
		if got, want := pre.terms[text], segmenting.guideTerms(text); !slices.Equal(got, want) {
			t.Errorf("terms of %q: read %q, analysed %q", text, got, want)
		}
	}

	if got, want := exactIndex(base, pre.exactKeys), exactIndex(base, nil); !maps.Equal(got, want) {
		t.Errorf("exact-match index from the shipped keys differs from the computed one: %d keys, want %d", len(got), len(want))
	}
	if len(pre.exactKeys) == 0 {
		t.Error("no exact-match keys")
	}
}

// TestShippedFor checks that a damaged or cut analysis is refused.
func TestShippedFor(t *testing.T) {
	saved := shippedText
	defer func() { shippedText = saved }()
	key := "# key " + analysisKey("h") + "\n"
	const tail = "# vocabulary 0\n# targets 0\n"
	for _, c := range []struct {
		name, text string
		ok         bool
	}{
		{"whole", key + "# segments 2\na\tb\n\n# exact 2\nab\n\n# stems 1\nwords\tword\n" + tail + "# terms 2\nx\ty\n\n", true},
		{"no stems", key + "# segments 2\na\tb\n\n# exact 2\nab\n\n", false},
		{"no vocabulary", key + "# segments 2\na\tb\n\n# exact 2\nab\n\n# stems 1\nwords\tword\n# targets 0\n# terms 2\nx\ty\n\n", false},
		{"no terms", key + "# segments 2\na\tb\n\n# exact 2\nab\n\n# stems 1\nwords\tword\n" + tail, false},
		{"terms cut", key + "# segments 2\na\tb\n\n# exact 2\nab\n\n# stems 1\nwords\tword\n" + tail + "# terms 1\nx\ty\n", false},
		{"no sections", key, false},
		{"segments cut", key + "# segments 3\na\tb\n\n# exact 0\n", false},
		{"exact cut", key + "# segments 1\na\n# exact 2\nab\n# stems 0\n" + tail + "# terms 2\n\n\n", false},
		{"extra", key + "# segments 1\na\n# exact 1\nab\n# stems 0\n" + tail + "# terms 2\n\n\nx\n", false},
		{"bad count", key + "# segments x\na\n# exact 0\n", false},
		{"other key", "# key 0\n# segments 0\n# exact 0\n", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			shippedText = c.text
			pre, ok := shippedFor("h", []string{"t", "u", "t"})
			if ok != c.ok {
				t.Fatalf("shippedFor = %v, want %v", ok, c.ok)
			}
			if ok && (pre.segments != "a\tb\n\n" || !slices.Equal(pre.exactKeys, []string{"ab", ""}) || pre.stems != "words\tword\n" ||
				!slices.Equal(pre.terms["t"], []string{"x", "y"}) || pre.terms["u"] == nil || len(pre.terms["u"]) != 0) {
				t.Errorf("read %q, %q, %q, %q", pre.segments, pre.exactKeys, pre.stems, pre.terms)
			}
		})
	}
}

// TestLoadSegmentsMismatch checks that lines that do not fit the texts are
// refused, so that the analyzer segments instead.
func TestLoadSegmentsMismatch(t *testing.T) {
	texts := []string{"a b", "怎么退出", "a b", ""}
	for _, c := range []struct {
		name, lines string
		ok          bool
	}{
		{"fits", "a\tb\n怎么\t退出\n\n", true},
		{"too few lines", "a\tb\n怎么\t退出\n", false},
		{"too many lines", "a\tb\n怎么\t退出\n\nx\n", false},
		{"empty word", "a\t\tb\n怎么\t退出\n\n", false},
		{"no final newline", "a\tb\n怎么\t退出\nx", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := &analyzer{}
			if got := a.loadSegments(texts, c.lines); got != c.ok {
				t.Fatalf("loadSegments = %v, want %v", got, c.ok)
			}
			if !c.ok {
				if a.segCache != nil {
					t.Error("a refused segmentation filled the cache")
				}
				return
			}
			if got := a.segCache["怎么退出"]; len(got) != 2 || got[0] != (rawToken{text: "怎么"}) || got[1] != (rawToken{text: "退出"}) {
				t.Errorf("怎么退出: %+v", got)
			}
			if got := a.segCache["a b"]; len(got) != 2 || got[0] != (rawToken{text: "a", latin: true}) {
				t.Errorf("a b: %+v", got)
			}
			if got, ok := a.segCache[""]; !ok || len(got) != 0 {
				t.Errorf("empty text: %+v, %v", got, ok)
			}
		})
	}
}

// TestShippedTraditional checks that dict/shipped-traditional.txt is what
// OpenCC makes of the shipped Simplified Chinese texts today; -update
// rewrites it.
func TestShippedTraditional(t *testing.T) {
	base, err := knowledge.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	conv, err := opencc.New("s2twp")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range traditionalSources(base) {
		trad, err := conv.Convert(s)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(escapeLine(s) + "\t" + escapeLine(trad) + "\n")
	}
	if *update {
		if err := os.WriteFile("dict/shipped-traditional.txt", []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if traditionalText != b.String() {
		t.Fatal("dict/shipped-traditional.txt is stale: the guides or OpenCC changed; run go generate ./search")
	}
	m := shippedTraditional()
	if got, want := len(m), strings.Count(traditionalText, "\n"); got != want || got == 0 {
		t.Errorf("%d conversions read, %d lines", got, want)
	}
	for simp, trad := range m {
		if want, _ := conv.Convert(simp); trad != want {
			t.Errorf("%q: table %q, OpenCC %q", simp, trad, want)
		}
	}
	for _, s := range []string{"a\tb\\n\nc\\", "", `\t`} {
		if got := unescapeLine(escapeLine(s)); got != s {
			t.Errorf("escaping %q comes back as %q", s, got)
		}
	}
}

// TestShippedAnalysisAnswersAlike checks that an engine built with the
// shipped analysis is the engine built without it: the same index figures
// and, for every question of every evaluation set, the same explanation.
// Figures are compared to a billionth: some are sums over map iterations,
// whose order (and so whose last bit) differs from build to build anyway.
func TestShippedAnalysisAnswersAlike(t *testing.T) {
	base, err := knowledge.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	fast, err := New(base, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	useShippedAnalysis = false
	slow, err := New(base, DefaultConfig())
	useShippedAnalysis = true
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()

	if !sameDocs(fast.docs, slow.docs) || !maps.Equal(fast.idf, slow.idf) || !maps.Equal(fast.exact, slow.exact) || !maps.Equal(fast.chitchatOnly, slow.chitchatOnly) {
		t.Error("the engines' entries, weights or exact-match keys differ")
	}
	fa, sa := fast.an, slow.an
	if !fa.shipped || sa.shipped {
		t.Fatalf("shipped analysis used: %v and %v, want true and false", fa.shipped, sa.shipped)
	}
	if !maps.Equal(fa.latinStems, sa.latinStems) || !maps.Equal(fa.stop, sa.stop) || !reflect.DeepEqual(fa.stopPhrases, sa.stopPhrases) ||
		!maps.Equal(fa.brands, sa.brands) || !maps.Equal(fa.oos, sa.oos) || !maps.Equal(fa.subject, sa.subject) || !maps.Equal(fa.conceptNames, sa.conceptNames) {
		t.Error("the analyzers' lexicons differ")
	}
	if !maps.Equal(fa.latinVocab, sa.latinVocab) || !maps.Equal(fa.hanVocab, sa.hanVocab) || !maps.Equal(fa.stemOf, sa.stemOf) ||
		!maps.Equal(fa.pinyinOf, sa.pinyinOf) || !maps.Equal(fa.concept, sa.concept) || !maps.Equal(fa.terms, sa.terms) ||
		!reflect.DeepEqual(fa.uncovered, sa.uncovered) || !reflect.DeepEqual(fa.phrases, sa.phrases) || !reflect.DeepEqual(fa.latinByLen, sa.latinByLen) {
		t.Error("the analyzers differ")
	}

	files, err := filepath.Glob("testdata/eval/*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("evaluation sets: %v %v", files, err)
	}
	ctx := context.Background()
	n := 0
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		cases, err := ReadEvalCases(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			got, err1 := fast.Explain(ctx, c.Q)
			want, err2 := slow.Explain(ctx, c.Q)
			if err1 != nil || err2 != nil {
				t.Fatalf("%q: %v, %v", c.Q, err1, err2)
			}
			if !alike(t, got, want) {
				t.Errorf("%s: %q explained differently:\n%+v\n%+v", file, c.Q, got, want)
			}
			n++
		}
	}
	if n < 500 {
		t.Errorf("only %d questions compared", n)
	}
}

// alike reports whether a and b are the same once written as JSON, numbers
// equal to a billionth (relative).
func alike(t *testing.T, a, b any) bool {
	t.Helper()
	var va, vb any
	for _, c := range []struct {
		v   any
		out *any
	}{{a, &va}, {b, &vb}} {
		js, err := json.Marshal(c.v)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(js, c.out); err != nil {
			t.Fatal(err)
		}
	}
	return sameJSON(va, vb)
}

func sameJSON(a, b any) bool {
	switch a := a.(type) {
	case float64:
		b, ok := b.(float64)
		return ok && math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(a))
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if w, ok := b[k]; !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

// sameDocs reports whether two engines know the same of every entry.
func sameDocs(a, b map[string]*docInfo) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for id, x := range a {
		y, ok := b[id]
		if !ok || x.id != y.id || x.kind != y.kind || !maps.Equal(x.terms, y.terms) || !maps.Equal(x.platforms, y.platforms) ||
			!reflect.DeepEqual(x.inQuestions, y.inQuestions) || len(x.questions) != len(y.questions) {
			return false
		}
		for i := range x.questions {
			qx, qy := x.questions[i], y.questions[i]
			if !maps.Equal(qx.terms, qy.terms) || math.Abs(qx.norm-qy.norm) > 1e-9*math.Max(1, qx.norm) {
				return false
			}
		}
	}
	return true
}
