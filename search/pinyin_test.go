package search

import (
	"bytes"
	"encoding/binary"
	"os"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/mozillazg/go-pinyin"
)

// goPinyin is the reading go-pinyin gives r the way the table stores it:
// the first of LazyPinyin's readings with the default arguments, or "".
func goPinyin(r rune) string {
	py := pinyin.LazyPinyin(string(r), pinyin.NewArgs())
	if len(py) == 0 {
		return ""
	}
	return py[0]
}

// makePinyinTable builds dict/pinyin.bin from go-pinyin (see pinyinTable
// for the layout).
func makePinyinTable(t testing.TB) []byte {
	readingOf := map[rune]string{}
	var runes []rune
	for k := range pinyin.PinyinDict {
		r := rune(k)
		if v := goPinyin(r); v != "" {
			readingOf[r] = v
			runes = append(runes, r)
		}
	}
	slices.Sort(runes)
	var readings []string
	for _, v := range readingOf {
		readings = append(readings, v)
	}
	slices.Sort(readings)
	readings = slices.Compact(readings)
	index := map[string]int{}
	for i, v := range readings {
		if len(v) > 255 {
			t.Fatalf("reading %q too long for the table", v)
		}
		index[v] = i + 1
	}
	// Runs of characters no further apart than maxGap: a gap costs two
	// bytes a character, a run ten.
	const maxGap = 64
	type run struct{ first, last rune }
	var runs []run
	for _, r := range runes {
		if n := len(runs); n > 0 && r-runs[n-1].last <= maxGap {
			runs[n-1].last = r
			continue
		}
		runs = append(runs, run{r, r})
	}
	if len(readings) > 0xffff || len(runs) > 0xffff {
		t.Fatalf("%d readings, %d runs: too many for the table", len(readings), len(runs))
	}
	var b bytes.Buffer
	b.WriteString(pinyinMagic)
	binary.Write(&b, binary.LittleEndian, uint16(len(readings)))
	for _, v := range readings {
		b.WriteByte(byte(len(v)))
		b.WriteString(v)
	}
	binary.Write(&b, binary.LittleEndian, uint16(len(runs)))
	for _, rn := range runs {
		binary.Write(&b, binary.LittleEndian, uint32(rn.first))
		binary.Write(&b, binary.LittleEndian, uint32(rn.last-rn.first+1))
	}
	for _, rn := range runs {
		for r := rn.first; r <= rn.last; r++ {
			binary.Write(&b, binary.LittleEndian, uint16(index[readingOf[r]]))
		}
	}
	return b.Bytes()
}

// TestPinyinTable checks that dict/pinyin.bin is what go-pinyin gives
// today, and that it reads every character as go-pinyin does; -update
// rewrites it.
func TestPinyinTable(t *testing.T) {
	want := makePinyinTable(t)
	if *update {
		if err := os.WriteFile("dict/pinyin.bin", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if pinyinTable != string(want) {
		t.Fatal("dict/pinyin.bin is not what go-pinyin gives: run go generate ./search")
	}
	differ := 0
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r >= 0xd800 && r <= 0xdfff {
			continue // surrogates: no text holds them
		}
		if got, want := runeReading(r), goPinyin(r); got != want {
			if differ++; differ <= 10 {
				t.Errorf("reading of %U %q: %q, go-pinyin %q", r, r, got, want)
			}
		}
	}
	if differ > 0 {
		t.Errorf("%d characters read differently from go-pinyin", differ)
	}
	for _, c := range []struct{ in, want string }{
		{"退出", "tui chu"},
		{"登录", "deng lu"},
		{"二维码", "er wei ma"},
		{"绿", "lv"},
		{"a退b出!", "tui chu"},
		{"", ""},
	} {
		if got := pinyinKey(c.in); got != c.want {
			t.Errorf("pinyinKey(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
