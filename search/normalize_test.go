package search

import (
	"testing"
	"unicode"

	"github.com/longbridgeapp/opencc"
)

// TestTraditionalFastPath checks the shortcut in toSimplified: a character
// outside t2sRunes is one OpenCC leaves as it is.
func TestTraditionalFastPath(t *testing.T) {
	cc, err := opencc.New("t2s")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for r := rune(0x3400); r <= 0x9fff; r++ {
		if !unicode.Is(unicode.Han, r) || hasTraditional(string(r)) {
			continue
		}
		out, err := cc.Convert(string(r))
		if err != nil {
			t.Fatal(err)
		}
		if out != string(r) {
			t.Errorf("%c (U+%04X) converts to %q but is not in t2sRunes: run go generate ./search", r, r, out)
		}
		checked++
	}
	if checked < 20000 {
		t.Errorf("checked only %d characters", checked)
	}
	for _, s := range []string{"帳號", "網頁版", "瞭解", "覆盆子", "一目瞭然", "反覆", "沈默"} {
		if !hasTraditional(s) {
			t.Errorf("hasTraditional(%q) = false", s)
		}
	}
}
