package search

import (
	"maps"
	"os"
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
	all := analyzerTexts(lex, guideTexts)
	want := formatAnalysis(base.Hash(), segmenting, all, exactTexts(base))
	if *update {
		if err := os.WriteFile("dict/shipped-analysis.txt", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if shippedText != want {
		t.Fatal("dict/shipped-analysis.txt is stale: the guides, the lexicon, the dictionary, segmentation or normalisation changed; run go generate ./search")
	}
	pre, ok := shippedFor(base.Hash())
	if !ok {
		t.Fatal("the shipped analysis's key does not match the shipped guides")
	}
	if _, ok := shippedFor("other guides"); ok {
		t.Error("the shipped analysis is offered for other guides")
	}

	reading := &analyzer{}
	if !reading.loadSegments(all, pre.segments) {
		t.Fatal("the shipped segmentation does not fit the shipped texts")
	}
	if got, want := len(reading.segCache), len(segmenting.segCache); got != want {
		t.Errorf("%d texts read, %d segmented", got, want)
	}
	for _, text := range all {
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
	reading.loadStems(pre.stems)
	if len(reading.stemOf) == 0 {
		t.Error("no stems")
	}
	for w, st := range reading.stemOf {
		if want := (&analyzer{}).stem(rawToken{text: w, latin: true}); st != want {
			t.Errorf("stem of %q: read %q, Snowball %q", w, st, want)
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
	for _, c := range []struct {
		name, text string
		ok         bool
	}{
		{"whole", key + "# segments 2\na\tb\n\n# exact 2\nab\n\n# stems 1\nwords\tword\n", true},
		{"no stems", key + "# segments 2\na\tb\n\n# exact 2\nab\n\n", false},
		{"no sections", key, false},
		{"segments cut", key + "# segments 3\na\tb\n\n# exact 0\n", false},
		{"exact cut", key + "# segments 1\na\n# exact 2\nab\n# stems 0\n", false},
		{"extra", key + "# segments 1\na\n# exact 1\nab\n# stems 0\nx\n", false},
		{"bad count", key + "# segments x\na\n# exact 0\n", false},
		{"other key", "# key 0\n# segments 0\n# exact 0\n", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			shippedText = c.text
			pre, ok := shippedFor("h")
			if ok != c.ok {
				t.Fatalf("shippedFor = %v, want %v", ok, c.ok)
			}
			if ok && (pre.segments != "a\tb\n\n" || !slices.Equal(pre.exactKeys, []string{"ab", ""}) || pre.stems != "words\tword\n") {
				t.Errorf("read %q, %q, %q", pre.segments, pre.exactKeys, pre.stems)
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
