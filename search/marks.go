package search

import "strings"

// Stopwords are dropped before synonyms are rewritten, so a lexicon phrase
// that needs one cannot be told from the words around it: "from my phone"
// (a computer logged out from the phone) would be "phone", "at home"
// would make every "home" a concept. A stopword that begins a phrase of
// the lexicon's synonyms therefore keeps its place in the word sequence as
// a mark, which phrases may begin with and pass over, until the phrases are
// rewritten; the marks no phrase took are dropped then, as stopwords are.

// phraseMarks returns, for every stopword that begins a synonym term of two
// or more words, its mark. segment splits a term into words; stop is the
// set of stopwords. Only words in Latin letters are marked: a Chinese term
// is a word of the segmentation dictionary and is found whole ("唔想删号"),
// while marking a Chinese stopword such as 唔 (not) would tie it to words
// far from it once the stopwords between are dropped.
func phraseMarks(groups [][]string, segment func(string) []rawToken, stop map[string]bool) map[string]string {
	marks := map[string]string{}
	for _, g := range groups {
		for _, term := range g {
			toks := segment(term)
			if len(toks) >= 2 && toks[0].latin && stop[toks[0].text] {
				marks[toks[0].text] = "<" + toks[0].text + ">"
			}
		}
	}
	return marks
}

// isMark reports whether t is a mark: the app's name (subjectMark) or a
// stopword kept in place. Segmented words never hold '<'.
func isMark(t string) bool {
	return strings.HasPrefix(t, "<") && strings.HasSuffix(t, ">") && len(t) > 2
}
