package search

// The app's own name says nothing about which entry a question asks for,
// and is dropped like a stopword, but it says what a verb is done to:
// "删了 WhatsApp" and "remove WhatsApp from my phone" are uninstalling the
// app, "删除 WhatsApp 账号" is deleting the account. So the name (the
// lexicon's subject words) stays in the word sequence as subjectMark while
// phrases are rewritten, where a lexicon phrase may name it ("delete
// whatsapp") or pass over it ("删除 WhatsApp 帐号" is still 删除 + 账号),
// and is dropped afterwards. A phrase that ends on the name takes it as
// its object only when nothing follows or a platform does ("remove
// WhatsApp from my phone"): followed by another word, the name mostly
// qualifies it ("delete WhatsApp contacts" deletes contacts).

// subjectMark stands for the app's name in a word sequence. It cannot be a
// word of a text: segmented words hold no '<'.
const subjectMark = "<subject>"

// dropMarks removes the marks (the app's name, stopwords kept in place)
// phrases did not take in.
func dropMarks(terms []string) []string {
	out := terms[:0]
	for _, t := range terms {
		if !isMark(t) {
			out = append(out, t)
		}
	}
	return out
}

// longest returns the length (0 if none) and concept of the longest phrase
// starting at seq[i]. Inside a phrase, the app's name either is a word of
// it or is passed over. memo (nil when seq holds no marks) keeps what was
// found from each node and place, for every start in seq: marks may each
// be taken or passed over, and without it a run of marks would try every
// combination.
func (t *phraseTrie) longest(seq []string, i int, memo map[fromKey]fromResult) (int, string) {
	n, concept := t.from(seq, i, false, t.platforms, memo)
	return max(n, 0), concept
}

// fromKey and fromResult are an entry of longest's memo.
type fromKey struct {
	node      *phraseTrie
	j         int
	afterMark bool
}

type fromResult struct {
	n       int
	concept string
}

// from returns the length of the longest phrase from node t that starts at
// seq[j] (0 when t itself ends one, -1 when none) and its concept. afterMark
// says the word before seq[j] was the app's name, taken as a word of the
// phrase; platforms are the concepts that name platforms.
func (t *phraseTrie) from(seq []string, j int, afterMark bool, platforms map[string]bool, memo map[fromKey]fromResult) (int, string) {
	key := fromKey{t, j, afterMark}
	if memo != nil {
		if r, ok := memo[key]; ok {
			return r.n, r.concept
		}
	}
	best, concept := -1, ""
	if t.end && (!afterMark || followedByPlatform(seq, j, platforms)) {
		best, concept = 0, t.concept
	}
	if j < len(seq) {
		if c, ok := t.next[seq[j]]; ok {
			if n, cc := c.from(seq, j+1, seq[j] == subjectMark, platforms, memo); n >= 0 && n+1 > best {
				best, concept = n+1, cc
			}
		}
		if isMark(seq[j]) {
			// Passed over, only on the way to more words of the phrase.
			if n, cc := t.from(seq, j+1, false, platforms, memo); n >= 1 && n+1 > best {
				best, concept = n+1, cc
			}
		}
	}
	if memo != nil {
		memo[key] = fromResult{best, concept}
	}
	return best, concept
}

// followedByPlatform reports whether nothing but marks follows seq[j-1], or
// the first word after them names a platform.
func followedByPlatform(seq []string, j int, platforms map[string]bool) bool {
	for ; j < len(seq); j++ {
		if !isMark(seq[j]) || seq[j] == subjectMark {
			return platforms[seq[j]]
		}
	}
	return true
}
