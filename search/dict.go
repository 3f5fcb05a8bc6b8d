package search

//go:generate go run ./internal/gendict dict/zh.txt.gz
//go:generate go test -tags ne -run TestShippedLeanDictionary . -args -update
//go:generate go test -tags ne -run TestShippedAnalysis . -args -update

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-ego/gse"
)

// shippedLean is the lean dictionary of the shipped guides, made ahead of
// time (go generate; TestShippedLeanDictionary keeps it fresh). Its first
// line is "# key" followed by the key it was made for (see dictKey).
//
//go:embed dict/shipped-lean.txt
var shippedLean string

// dictVersion changes whenever the way a lean dictionary is derived
// changes, so that no cache made the old way is used.
const dictVersion = "lean-5"

// dictKey identifies the lean dictionary of a set of guides: their content
// (which includes the lexicon), the word list, and the derivation.
func dictKey(guidesHash string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00", dictVersion, guidesHash, len(zhDict))
	h.Write(zhDict[len(zhDict)-8:]) // gzip's CRC and size of the word list
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// cachedLeanDictionary returns the lean dictionary for guides with the
// given hash: the embedded one when they are the shipped guides, else one
// cached in cacheDir, else derived (and then cached, when cacheDir is set).
// A cache that cannot be read or written is not an error: the dictionary
// is derived again.
func cachedLeanDictionary(guidesHash, cacheDir string, inputs func() (texts, extra []string)) (dict, source string, err error) {
	key := dictKey(guidesHash)
	if first, rest, ok := strings.Cut(shippedLean, "\n"); ok && first == "# key "+key {
		return rest, "embedded", nil
	}
	var path string
	if cacheDir != "" {
		path = filepath.Join(cacheDir, "lean-"+key+".dict")
		if b, err := os.ReadFile(path); err == nil {
			if dict, ok := checkCached(b); ok {
				return dict, "cache " + path, nil
			}
		}
	}
	dict, err = leanDictionary(inputs())
	if err != nil {
		return "", "", err
	}
	if path != "" {
		if err := writeFileAtomic(path, sealCached(dict)); err == nil {
			return dict, "derived, cached in " + path, nil
		}
	}
	return dict, "derived", nil
}

// sealCached prefixes a dictionary with the SHA-256 of its text, so a cache
// file that was cut short or damaged is noticed and derived again.
func sealCached(dict string) []byte {
	sum := sha256.Sum256([]byte(dict))
	return []byte("# sha256 " + hex.EncodeToString(sum[:]) + "\n" + dict)
}

// checkCached returns the dictionary in a sealed cache file, if intact.
func checkCached(b []byte) (string, bool) {
	head, dict, ok := strings.Cut(string(b), "\n")
	sum := sha256.Sum256([]byte(dict))
	return dict, ok && head == "# sha256 "+hex.EncodeToString(sum[:])
}

// writeFileAtomic writes through a temporary file and a rename, so a
// reader never sees half a dictionary.
func writeFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".lean-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// zhDict is gse's Simplified Chinese dictionary ("word frequency" lines),
// compressed: 352,000 words in 1.9 MB instead of gse's own 38 MB of embedded
// dictionaries. The engine never loads it whole; it picks out the words the
// guides use (see leanDictionary).
//
//go:embed dict/zh.txt.gz
var zhDict []byte

// maxWordRunes bounds the words looked for in the guides: longer dictionary
// words are idioms and names that guides do not use.
const maxWordRunes = 8

// padWord is a dictionary entry no text can contain (private-use
// characters are removed by normalisation). It carries the frequency of the
// words left out, so that the lean dictionary's total frequency, and with it
// every word's cost in gse's shortest-path segmentation, equals the full
// dictionary's.
const padWord = "\ue000\ue001"

// leanDictionary returns a gse dictionary (text, one "word frequency" line
// each) holding every single character of the full dictionary and every
// longer word that occurs in texts, plus extra words (the lexicon's terms)
// at a frequency that makes gse keep them whole.
//
// A word that occurs in no guide can never match one, so for search the
// lean dictionary segments the way the full one does where it matters, at
// a fraction of the cost: the shipped guides need about 3,000 words of 352,000.
func leanDictionary(texts, extra []string) (string, error) {
	want := substrings(texts)
	// Real words that sound like a lexicon term stay too: spelling
	// correction must know 回复 (reply) is a word, not a misspelt 恢复.
	keys := map[string]bool{}
	for t := range substrings(hanTerms(extra)) {
		if utf8.RuneCountInString(t) >= 2 {
			keys[pinyinKey(t)] = true
		}
	}
	return buildDictionaryWith(want, keys, cutters(texts, extra), extra)
}

// hanTerms returns the Chinese terms among terms, spaces removed.
func hanTerms(terms []string) []string {
	var out []string
	for _, t := range terms {
		if t = strings.ReplaceAll(t, " ", ""); hasHan(t) {
			out = append(out, t)
		}
	}
	return out
}

// fullDictionary returns gse's whole dictionary plus the extra words, for
// comparison runs. It leaves out the same cutters as the lean one.
func fullDictionary(texts, extra []string) (string, error) {
	return buildDictionary(nil, cutters(texts, extra), extra)
}

// cutters returns the dictionary candidates that cut through a lexicon term
// where it occurs in the texts: in "在手机上", 在手 and 机上 each take half of
// 手机. gse makes every single character expensive, so it prefers such
// pairs of two-character words to a domain term between two characters;
// without them, 手机 stays whole. A lexicon term is never a cutter.
func cutters(texts, terms []string) map[string]bool {
	isTerm := map[string]bool{}
	for _, t := range terms {
		t = strings.ReplaceAll(t, " ", "")
		if hasHan(t) && utf8.RuneCountInString(t) >= 2 {
			isTerm[t] = true
		}
	}
	cut := map[string]bool{}
	for _, text := range texts {
		runes := []rune(text)
		// Where each term occurs: [start, end) in runes.
		var spans [][2]int
		for i := range runes {
			for j := i + 2; j <= len(runes) && j-i <= maxWordRunes; j++ {
				if isTerm[string(runes[i:j])] {
					spans = append(spans, [2]int{i, j})
				}
			}
		}
		for _, sp := range spans {
			// Words starting before the term and ending inside it, or
			// starting inside it and ending after it.
			for i := max(0, sp[0]-maxWordRunes+1); i < sp[1]; i++ {
				for j := i + 2; j <= len(runes) && j-i <= maxWordRunes; j++ {
					partial := (i < sp[0] && j > sp[0] && j < sp[1]) || (i > sp[0] && i < sp[1] && j > sp[1])
					if partial && !isTerm[string(runes[i:j])] {
						cut[string(runes[i:j])] = true
					}
				}
			}
		}
	}
	return cut
}

// buildDictionary keeps the words in want (all words when want is nil)
// except the cutters, and adds the extra words the dictionary lacks.
func buildDictionary(want map[string]struct{}, cut map[string]bool, extra []string) (string, error) {
	return buildDictionaryWith(want, nil, cut, extra)
}

// buildDictionaryWith is buildDictionary that also keeps the words of two
// to six Chinese characters whose pinyin is one of sounds.
func buildDictionaryWith(want map[string]struct{}, sounds map[string]bool, cut map[string]bool, extra []string) (string, error) {
	zr, err := gzip.NewReader(bytes.NewReader(zhDict))
	if err != nil {
		return "", fmt.Errorf("open dictionary: %w", err)
	}
	var out strings.Builder
	var total, kept float64
	var homophones []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		line := sc.Bytes()
		sp := bytes.IndexByte(line, ' ')
		if sp <= 0 {
			continue
		}
		freq, err := strconv.ParseFloat(string(line[sp+1:]), 64)
		if err != nil || freq < 2 { // gse drops words rarer than 2
			continue
		}
		total += freq
		word := line[:sp]
		if want != nil {
			if _, ok := want[string(word)]; !ok {
				if soundsLike(word, sounds) && !cut[string(word)] {
					homophones = append(homophones, string(word))
				}
				continue
			}
		}
		if cut[string(word)] {
			continue
		}
		kept += freq
		seen[string(word)] = true
		out.Write(line)
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read dictionary: %w", err)
	}
	for _, w := range extra {
		w = strings.ReplaceAll(w, " ", "")
		if w == "" || seen[w] || !hasHan(w) || utf8.RuneCountInString(w) < 2 {
			continue
		}
		seen[w] = true
		// A lexicon term is a word of the domain whatever the dictionary
		// says: give it the frequency of a common word so gse keeps it whole.
		const termFreq = 1000
		total += termFreq
		kept += termFreq
		fmt.Fprintf(&out, "%s %d\n", w, termFreq)
	}
	if pad := total - kept; pad >= 2 {
		fmt.Fprintf(&out, "%s %.0f\n", padWord, pad)
	}
	if len(homophones) > 0 {
		// Not for gse (each word it loads costs start-up time): a list of
		// real words for spelling correction, after a marker line.
		out.WriteString(realWordsMarker + "\n")
		for _, w := range homophones {
			if !seen[w] {
				out.WriteString(w + "\n")
			}
		}
	}
	return out.String(), nil
}

// realWordsMarker separates a lean dictionary's gse words from the real
// words that sound like lexicon terms (see leanDictionary).
const realWordsMarker = "# real words"

// splitDictionary separates dictionary text into what gse loads and the
// set of real words kept only for spelling correction (nil when the text
// has none: a full dictionary, where gse knows every word).
func splitDictionary(dict string) (gseText string, realWords *wordSet) {
	i := strings.Index(dict, "\n"+realWordsMarker+"\n")
	if i < 0 {
		return dict, nil
	}
	return dict[:i+1], &wordSet{text: dict[i+len(realWordsMarker)+2:]}
}

// wordSet is a set of words kept as text, one a line, and looked up in a
// map made on first use: only spelling correction needs the real words,
// and not every question is corrected.
type wordSet struct {
	text string
	once sync.Once
	set  map[string]bool
}

// has reports whether w is one of the words.
func (s *wordSet) has(w string) bool {
	s.once.Do(func() {
		s.set = make(map[string]bool, strings.Count(s.text, "\n")+1)
		for w := range strings.Lines(s.text) {
			if w = strings.TrimSuffix(w, "\n"); w != "" {
				s.set[w] = true
			}
		}
	})
	return s.set[w]
}

// soundsLike reports whether word, two to six Chinese characters, has one
// of the pinyin readings in sounds.
func soundsLike(word []byte, sounds map[string]bool) bool {
	if len(sounds) == 0 {
		return false
	}
	n := utf8.RuneCount(word)
	if n < 2 || n > 6 || !hasHan(string(word)) {
		return false
	}
	return sounds[pinyinKey(string(word))]
}

// substrings returns every run of 1..maxWordRunes Han characters inside the
// texts: the candidates for dictionary words that occur in them.
func substrings(texts []string) map[string]struct{} {
	set := map[string]struct{}{}
	for _, t := range texts {
		runes := []rune(t)
		for i := range runes {
			if !unicode.Is(unicode.Han, runes[i]) {
				continue
			}
			for j := i + 1; j <= len(runes) && j-i <= maxWordRunes; j++ {
				if !unicode.Is(unicode.Han, runes[j-1]) {
					break
				}
				set[string(runes[i:j])] = struct{}{}
			}
		}
	}
	return set
}

// pendingSegmenter is a gse segmenter loading in the background: the
// engine's other work at start does not need it when the guides were
// segmented ahead of time, so on two cores it costs no time.
type pendingSegmenter struct {
	done chan struct{}
	seg  *gse.Segmenter
	err  error
}

// loadSegmenter starts loading a gse segmenter from dictionary text.
func loadSegmenter(dict string) *pendingSegmenter {
	p := &pendingSegmenter{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.seg, p.err = newSegmenter(dict)
	}()
	return p
}

// wait returns the segmenter once it is loaded.
func (p *pendingSegmenter) wait() (*gse.Segmenter, error) {
	<-p.done
	return p.seg, p.err
}

// newSegmenter builds a gse segmenter from dictionary text, without gse's
// side effects: no HMM model (a global in gse), no log output, no files.
func newSegmenter(dict string) (*gse.Segmenter, error) {
	seg := &gse.Segmenter{NotLoadHMM: true, SkipLog: true}
	if err := seg.LoadDictStr(dict); err != nil {
		return nil, fmt.Errorf("load dictionary: %w", err)
	}
	return seg, nil
}
