package search

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/longbridgeapp/opencc"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// MaxQueryRunes caps how much of a message is read: a question is a
// sentence or two, and a 100 KB paste must cost no more than a question.
const MaxQueryRunes = 512

// normalizeText prepares text for analysis, for guides and questions alike:
// NFKC (which also folds full-width letters and digits), remaining width
// variants folded, lower case, control, zero-width and bidi characters
// removed, white space collapsed. It keeps at most maxRunes runes (0 = no
// limit) and never fails: invalid UTF-8 becomes U+FFFD, which is then
// dropped like any other symbol by the tokenizer.
func normalizeText(s string, maxRunes int) string {
	if maxRunes > 0 && len(s) > maxRunes*utf8.UTFMax {
		// Cut before the expensive passes; the exact cap comes after.
		s = s[:maxRunes*utf8.UTFMax]
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = norm.NFKC.String(s)
	s = width.Fold.String(s)
	var b strings.Builder
	b.Grow(len(s))
	n := 0
	space := true // at the start, drop leading space
	for _, r := range s {
		if maxRunes > 0 && n >= maxRunes {
			break
		}
		switch {
		case unicode.IsSpace(r) || r == '\u3000':
			if !space {
				b.WriteByte(' ')
				n++
				space = true
			}
			continue
		case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r), r == '\uFFFD':
			// Control, format (zero-width, bidi overrides, BOM), private use.
			continue
		}
		b.WriteRune(unicode.ToLower(r))
		n++
		space = false
	}
	return dropApostrophes(strings.TrimRight(b.String(), " "))
}

// dropApostrophes joins English contractions, "can't" → "cant", so they
// meet the way people also type them, and drops the possessive "'s"
// ("a friend's laptop" is a friend laptop; "it's" is "it", a stopword).
func dropApostrophes(s string) string {
	if !strings.ContainsAny(s, "'’") {
		return s
	}
	rs := []rune(s)
	out := rs[:0]
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if (r == '\'' || r == '’') && i > 0 && i+1 < len(rs) && isASCIILetter(rs[i-1]) && isASCIILetter(rs[i+1]) {
			if rs[i+1] == 's' && (i+2 == len(rs) || !isASCIILetter(rs[i+2])) {
				i++ // the "s" too
			}
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

func isASCIILetter(r rune) bool { return r >= 'a' && r <= 'z' }

// converters are OpenCC's tables, built on first use: Traditional to
// Simplified for questions (2 ms), Simplified to Traditional (Taiwan
// phrasing, which matches the app's own zh-TW labels) for answers (25 ms).
//
// Questions use plain t2s, not tw2sp: tw2sp rewrites 登出 to 注销, which in
// a question about WhatsApp means deleting the account. Taiwan vocabulary
// (帳號, 裝置, 設定…) is handled by the lexicon's synonyms instead.
var (
	t2sOnce, s2tOnce sync.Once
	t2sConv, s2tConv *opencc.OpenCC
	t2sErr, s2tErr   error
)

func toSimplified(s string) string {
	if !hasTraditional(s) {
		return s // nothing OpenCC would change: most questions, every Simplified guide
	}
	t2sOnce.Do(func() { t2sConv, t2sErr = opencc.New("t2s") })
	if t2sErr != nil {
		return s
	}
	out, err := t2sConv.Convert(s)
	if err != nil {
		return s
	}
	return out
}

// toTraditional converts Simplified Chinese text to Traditional characters
// with Taiwan phrasing. On failure it returns s unchanged: a Simplified
// answer is better than none.
func toTraditional(s string) string {
	if !hasHan(s) {
		return s
	}
	if t, ok := shippedTraditional()[s]; ok {
		return t // the shipped guides' texts: no need to load OpenCC's tables
	}
	s2tOnce.Do(func() { s2tConv, s2tErr = opencc.New("s2twp") })
	if s2tErr != nil {
		return s
	}
	out, err := s2tConv.Convert(s)
	if err != nil {
		return s
	}
	return out
}

//go:generate go run ./internal/gent2s t2s_runes.go

var (
	t2sSetOnce sync.Once
	t2sSet     map[rune]bool
)

// hasTraditional reports whether s holds a character OpenCC's t2s tables
// can change or match (t2sRunes); without one, conversion is the identity.
func hasTraditional(s string) bool {
	t2sSetOnce.Do(func() {
		t2sSet = make(map[rune]bool, utf8.RuneCountInString(t2sRunes))
		for _, r := range t2sRunes {
			t2sSet[r] = true
		}
	})
	for _, r := range s {
		if r >= 0x3400 && t2sSet[r] {
			return true
		}
	}
	return false
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
