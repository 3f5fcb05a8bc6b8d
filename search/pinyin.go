package search

import (
	_ "embed"
	"sort"
	"strings"
	"sync"
)

// pinyinTable is every character's most common reading without tones, as
// go-pinyin gives it (pinyin.LazyPinyin with the default arguments), in a
// compact form made ahead of time (TestPinyinTable checks it against
// go-pinyin and rewrites it with -update). go-pinyin itself builds a map of
// 42,000 entries in its package initialisation, on every start of every
// binary that links it; this table costs nothing until a reading is needed
// and then only a few microseconds to open.
//
// Layout, little-endian: "PY1\n"; the number of distinct readings (u16),
// each as its length (u8) and bytes, in byte order; the number of runs of
// characters (u16), each as its first character (u32) and length (u32);
// then, for every character of every run in order, its reading as an index
// into the readings plus one (u16; 0 is a character without a reading).
//
//go:generate go test -tags ne -run TestPinyinTable . -args -update
//go:embed dict/pinyin.bin
var pinyinTable string

const pinyinMagic = "PY1\n"

// pinyinRun is a range of characters in pinyinTable.
type pinyinRun struct {
	first, n rune
	slot     int // offset of its first character's entry in the table
}

var (
	pinyinOnce     sync.Once
	pinyinReadings []string    // substrings of pinyinTable
	pinyinRuns     []pinyinRun // by first character
)

// openPinyinTable reads the table's header. A damaged table (which the
// tests rule out) leaves every character without a reading: spelling
// correction of Chinese then finds nothing to correct, nothing fails.
func openPinyinTable() {
	t := pinyinTable
	if !strings.HasPrefix(t, pinyinMagic) {
		return
	}
	p := len(pinyinMagic)
	u16 := func() (int, bool) {
		if p+2 > len(t) {
			return 0, false
		}
		v := int(t[p]) | int(t[p+1])<<8
		p += 2
		return v, true
	}
	u32 := func() (rune, bool) {
		if p+4 > len(t) {
			return 0, false
		}
		v := rune(t[p]) | rune(t[p+1])<<8 | rune(t[p+2])<<16 | rune(t[p+3])<<24
		p += 4
		return v, true
	}
	n, ok := u16()
	if !ok {
		return
	}
	readings := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if p >= len(t) || p+1+int(t[p]) > len(t) {
			return
		}
		l := int(t[p])
		readings = append(readings, t[p+1:p+1+l])
		p += 1 + l
	}
	if n, ok = u16(); !ok {
		return
	}
	runs := make([]pinyinRun, 0, n)
	slots := 0
	for i := 0; i < n; i++ {
		first, ok1 := u32()
		count, ok2 := u32()
		if !ok1 || !ok2 || count < 0 {
			return
		}
		runs = append(runs, pinyinRun{first: first, n: count})
		slots += int(count)
	}
	if len(t)-p != 2*slots {
		return
	}
	off := p
	for i := range runs {
		runs[i].slot = off
		off += 2 * int(runs[i].n)
	}
	pinyinReadings, pinyinRuns = readings, runs
}

// runeReading returns r's most common reading without tones, or "" when
// go-pinyin knows none (not a Chinese character).
func runeReading(r rune) string {
	pinyinOnce.Do(openPinyinTable)
	i := sort.Search(len(pinyinRuns), func(i int) bool { return pinyinRuns[i].first+pinyinRuns[i].n > r })
	if i == len(pinyinRuns) || r < pinyinRuns[i].first {
		return ""
	}
	at := pinyinRuns[i].slot + 2*int(r-pinyinRuns[i].first)
	k := int(pinyinTable[at]) | int(pinyinTable[at+1])<<8
	if k == 0 || k > len(pinyinReadings) {
		return ""
	}
	return pinyinReadings[k-1]
}

// pinyinKey is the reading of s's Chinese characters, syllables separated
// by spaces; characters without a reading are left out.
func pinyinKey(s string) string { return string(appendPinyinKey(nil, s)) }

// appendPinyinKey appends pinyinKey(s) to dst.
func appendPinyinKey(dst []byte, s string) []byte {
	start := len(dst)
	for _, r := range s {
		if v := runeReading(r); v != "" {
			if len(dst) > start {
				dst = append(dst, ' ')
			}
			dst = append(dst, v...)
		}
	}
	return dst
}
