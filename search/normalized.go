package search

// Normalize returns question as the engine reads it before segmenting:
// NFKC and width folded, lower case, invisible and control characters
// removed, white space collapsed, at most MaxQueryRunes runes. Two
// questions that differ only in such ways normalise alike, which is what a
// question log needs to count them together.
func Normalize(question string) string { return normalizeText(question, MaxQueryRunes) }
