package telegram

import (
	"html"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"faqbot/bot"
	"faqbot/knowledge"
	"faqbot/search"
)

// MaxMessageLen is the longest message Telegram accepts, in UTF-16 code
// units. Render counts the HTML source, which is never shorter than the text
// Telegram counts after parsing it.
const MaxMessageLen = 4096

// Render turns an answer into the text of one or more Telegram messages in
// HTML parse mode: the title in bold (small talk has none), paragraphs
// separated by blank lines, steps numbered "1. ", bullets marked "• ". For a
// clarification it is the question "which of these do you mean?"; the
// choices travel as buttons. All guide text is escaped. Parts are at most
// MaxMessageLen UTF-16 code units each, split between lines where possible,
// never inside a tag, an entity or a character, and each part's tags are
// balanced. An answer with nothing to show renders to no parts.
func Render(a search.Answer) []string {
	var ls []line
	switch a.Outcome {
	case search.Clarify:
		ls = append(ls, line{text: bot.Text(bot.MsgDidYouMean, a.Lang)})
	case search.Chitchat:
		ls = blockLines(a.Blocks)
	default:
		ls = append(ls, line{text: a.Title, bold: true})
		ls = append(ls, blockLines(a.Blocks)...)
	}
	return pack(ls, MaxMessageLen)
}

// renderHelp is the /start and /help message: what the bot answers and
// three example questions.
func renderHelp(lang knowledge.Lang) []string {
	ls := []line{{text: bot.Text(bot.MsgHelp, lang)}}
	for _, q := range bot.Examples[lang] {
		ls = append(ls, line{text: "• " + q})
	}
	return pack(ls, MaxMessageLen)
}

// renderText is one of the bot's own one-line messages.
func renderText(s string) []string { return pack([]line{{text: s}}, MaxMessageLen) }

// line is one line of a message before escaping. gap asks for a blank line
// before it (a new block) when it does not start a part.
type line struct {
	text string
	bold bool
	gap  bool
}

func blockLines(blocks []knowledge.Block) []line {
	var ls []line
	for _, bl := range blocks {
		var texts []string
		switch bl.Kind {
		case knowledge.Steps:
			for i, it := range bl.Items {
				texts = append(texts, strconv.Itoa(i+1)+". "+it)
			}
		case knowledge.Bullets:
			for _, it := range bl.Items {
				texts = append(texts, "• "+it)
			}
		default:
			texts = append(texts, bl.Text)
		}
		first := true
		for _, t := range texts {
			for _, l := range strings.Split(t, "\n") {
				ls = append(ls, line{text: l, gap: first})
				first = false
			}
		}
	}
	return ls
}

// pack escapes the lines and fills parts of at most limit UTF-16 code units,
// breaking between lines, and inside a line only when the line alone is too
// long: then between characters of the unescaped text (at a space when one
// is near), so no entity, tag or surrogate pair is ever cut, and a bold line
// is closed and reopened around the break.
func pack(lines []line, limit int) []string {
	var parts []string
	var cur strings.Builder
	curLen := 0
	gap := false
	for _, l := range lines {
		text := strings.ToValidUTF8(l.text, "\uFFFD")
		gap = gap || l.gap
		if strings.TrimSpace(text) == "" {
			continue // Telegram rejects blank messages; blank lines only separate
		}
		open, closing := "", ""
		if l.bold {
			open, closing = "<b>", "</b>"
		}
		for _, piece := range hardSplit(text, limit-len(open)-len(closing)) {
			if strings.TrimSpace(piece) == "" {
				continue
			}
			h := open + html.EscapeString(piece) + closing
			n := utf16Len(h)
			sep := ""
			if curLen > 0 {
				sep = "\n"
				if gap {
					sep = "\n\n"
				}
			}
			if curLen > 0 && curLen+len(sep)+n > limit {
				parts = append(parts, cur.String())
				cur.Reset()
				curLen, sep = 0, ""
			}
			cur.WriteString(sep)
			cur.WriteString(h)
			curLen += len(sep) + n
			gap = false
		}
	}
	if curLen > 0 {
		parts = append(parts, cur.String())
	}
	return parts
}

// hardSplit cuts unescaped text into pieces whose escaped form is at most
// budget UTF-16 code units, preferring to cut after a space in the second
// half of a piece.
func hardSplit(text string, budget int) []string {
	budget = max(budget, 6) // room for the longest escaped character
	if escapedLen(text) <= budget {
		return []string{text}
	}
	var pieces []string
	start, n := 0, 0
	lastSpace := -1 // byte offset just after the last space in the piece
	for i, r := range text {
		c := escapedRuneLen(r)
		if n+c > budget {
			cut := i
			if lastSpace > start && escapedLen(text[start:lastSpace]) >= budget/2 {
				cut = lastSpace
			}
			pieces = append(pieces, text[start:cut])
			start = cut
			n = escapedLen(text[start:i])
			lastSpace = -1
		}
		n += c
		if unicode.IsSpace(r) {
			lastSpace = i + utf8.RuneLen(r)
		}
	}
	return append(pieces, text[start:])
}

func escapedRuneLen(r rune) int {
	switch r {
	case '<', '>':
		return 4 // &lt; &gt;
	case '&', '\'', '"':
		return 5 // &amp; &#39; &#34;
	}
	return utf16.RuneLen(r)
}

func escapedLen(s string) int {
	n := 0
	for _, r := range s {
		n += escapedRuneLen(r)
	}
	return n
}

// utf16Len is the length of s in UTF-16 code units, the unit of Telegram's
// limits and entity offsets.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
