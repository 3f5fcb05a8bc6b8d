package telegram

import (
	"html"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"faqbot/bot"
	"faqbot/bot/bottest"
	"faqbot/knowledge"
	"faqbot/search"
)

func TestRender(t *testing.T) {
	steps := knowledge.Block{Kind: knowledge.Steps, Items: []string{"Open <Settings>", "Tap \"Log out\" & confirm"}}
	cases := []struct {
		name string
		a    search.Answer
		want string
	}{
		{"answer", search.Answer{Outcome: search.Answered, Title: "Log out <now>", Blocks: []knowledge.Block{
			steps,
			{Kind: knowledge.Paragraph, Text: "It's safe."},
			{Kind: knowledge.Bullets, Items: []string{"one", "two"}},
		}}, "<b>Log out &lt;now&gt;</b>\n\n1. Open &lt;Settings&gt;\n2. Tap &#34;Log out&#34; &amp; confirm\n\nIt&#39;s safe.\n\n• one\n• two"},
		{"small talk has no title", search.Answer{Outcome: search.Chitchat, Title: "Greeting", Blocks: []knowledge.Block{
			{Kind: knowledge.Paragraph, Text: "Hi!\nAsk me anything."},
		}}, "Hi!\nAsk me anything."},
		{"clarification", search.Answer{Outcome: search.Clarify, Title: "X", Lang: knowledge.TraditionalChinese, Blocks: []knowledge.Block{steps}},
			html.EscapeString(bot.Text(bot.MsgDidYouMean, knowledge.TraditionalChinese))},
		{"blank lines and blocks skipped", search.Answer{Outcome: search.None, Title: "Sorry", Blocks: []knowledge.Block{
			{Kind: knowledge.Paragraph, Text: "  "}, {Kind: knowledge.Bullets}, {Kind: knowledge.Paragraph, Text: "Try\n\n\nagain"},
		}}, "<b>Sorry</b>\n\nTry\nagain"},
		{"invalid UTF-8 replaced", search.Answer{Outcome: search.Answered, Title: "a\xffb"}, "<b>a\uFFFDb</b>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parts := Render(c.a)
			if len(parts) != 1 || parts[0] != c.want {
				t.Errorf("Render:\n%q\nwant\n%q", parts, c.want)
			}
		})
	}
	if parts := Render(search.Answer{Outcome: search.Chitchat}); len(parts) != 0 {
		t.Errorf("an empty answer renders to %q, want nothing", parts)
	}
}

func TestRenderSplitsLongAnswers(t *testing.T) {
	var items []string
	for i := range 400 {
		items = append(items, strings.Repeat("step & <more> ", 3)+string(rune('a'+i%26)))
	}
	a := search.Answer{Outcome: search.Answered, Title: strings.Repeat("Long title 😀 ", 500), Blocks: []knowledge.Block{
		{Kind: knowledge.Steps, Items: items},
		{Kind: knowledge.Paragraph, Text: strings.Repeat("𝄞", 5000)}, // one line, astral characters only
	}}
	parts := Render(a)
	if len(parts) < 4 {
		t.Fatalf("%d parts, want the answer split", len(parts))
	}
	for i, p := range parts {
		if err := checkPart(p, MaxMessageLen); err != "" {
			t.Errorf("part %d: %s", i, err)
		}
	}
	// The title is split over parts, bold in each; steps stay whole and in order.
	if !strings.HasPrefix(parts[0], "<b>Long title") || !strings.HasPrefix(parts[1], "<b>") {
		t.Errorf("title parts start %q, %q", parts[0][:20], parts[1][:20])
	}
	joined := strings.Join(parts, "\n")
	last := -1
	for i := range items {
		at := strings.Index(joined, "\n"+strconv.Itoa(i+1)+". ")
		if at <= last {
			t.Fatalf("step %d missing or out of order", i+1)
		}
		last = at
	}
	if got, want := plain(parts), plainWant(a); got != want {
		t.Errorf("content changed by splitting")
	}
}

func TestHardSplitPrefersSpaces(t *testing.T) {
	got := hardSplit("aaaa bbbb cccc", 10)
	if want := []string{"aaaa bbbb ", "cccc"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("hardSplit: %q, want %q", got, want)
	}
	got = hardSplit("&&&&", 10) // 5 units each escaped: two per piece
	if want := []string{"&&", "&&"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("hardSplit: %q, want %q", got, want)
	}
}

func TestRenderHelp(t *testing.T) {
	for _, l := range knowledge.Supported {
		parts := renderHelp(l)
		if len(parts) != 1 || strings.Count(parts[0], "\n• ") != 3 {
			t.Errorf("%s help: %q, want one message with 3 examples", l, parts)
		}
	}
}

// FuzzRender checks that any answer renders to messages Telegram accepts:
// within the length limit, valid UTF-8, only balanced <b> tags, only the
// entities html.EscapeString writes, and the whole text kept in order.
func FuzzRender(f *testing.F) {
	f.Add("Log out", "Open <Settings> & tap", "step one\nstep two", 1, uint16(4096))
	f.Add("😀 title", strings.Repeat("𝄞a", 300), "x", 20, uint16(64))
	f.Add("", "   ", "\xff\xfe", 0, uint16(7))
	f.Add(strings.Repeat("&", 50), "'\"<>", "• ", 3, uint16(30))
	f.Fuzz(func(t *testing.T, title, text, item string, repeat int, limit uint16) {
		// Long enough to split, short enough to fuzz fast.
		repeat = 1 + abs(repeat)%(1+6000/(1+len(text)+len(item)))
		a := search.Answer{Outcome: search.Answered, Title: title, Blocks: []knowledge.Block{
			{Kind: knowledge.Paragraph, Text: strings.Repeat(text, repeat)},
			{Kind: knowledge.Steps, Items: []string{item, strings.Repeat(item, repeat)}},
			{Kind: knowledge.Bullets, Items: []string{text, item}},
		}}
		parts := Render(a)
		for i, p := range parts {
			if err := checkPart(p, MaxMessageLen); err != "" {
				t.Fatalf("part %d of %q: %s", i, p, err)
			}
			if err := bottest.TelegramHTML(p); err != nil {
				t.Fatalf("part %d of %q: not Telegram HTML: %v", i, p, err)
			}
		}
		if got, want := plain(parts), plainWant(a); got != want {
			t.Fatalf("content changed:\n got %q\nwant %q", got, want)
		}
		// The same lines packed into small parts.
		lim := 16 + int(limit)%4096
		ls := append([]line{{text: title, bold: true}}, blockLines(a.Blocks)...)
		for i, p := range pack(ls, lim) {
			if err := checkPart(p, lim); err != "" {
				t.Fatalf("limit %d, part %d of %q: %s", lim, i, p, err)
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}

// checkPart says what is wrong with one message of HTML, or "".
func checkPart(p string, limit int) string {
	if !utf8.ValidString(p) {
		return "invalid UTF-8"
	}
	if n := utf16Len(p); n > limit {
		return "too long: " + strconv.Itoa(n)
	}
	if strings.TrimSpace(p) == "" {
		return "blank"
	}
	bold := false
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '<':
			switch {
			case strings.HasPrefix(p[i:], "<b>") && !bold:
				bold = true
				i += 2
			case strings.HasPrefix(p[i:], "</b>") && bold:
				bold = false
				i += 3
			default:
				return "stray or unbalanced tag at " + strconv.Itoa(i)
			}
		case '>':
			return "stray > at " + strconv.Itoa(i)
		case '&':
			ok := false
			for _, e := range []string{"&amp;", "&lt;", "&gt;", "&#34;", "&#39;"} {
				if strings.HasPrefix(p[i:], e) {
					ok = true
				}
			}
			if !ok {
				return "broken entity at " + strconv.Itoa(i)
			}
		}
	}
	if bold {
		return "unclosed <b>"
	}
	return ""
}

// plain is the text of the parts without markup or white space.
func plain(parts []string) string {
	s := strings.Join(parts, "")
	s = strings.NewReplacer("<b>", "", "</b>", "").Replace(s)
	return noSpace(html.UnescapeString(s))
}

// plainWant is the answer's text as the guides hold it, without white space.
func plainWant(a search.Answer) string {
	return noSpace(strings.ToValidUTF8(a.Title, "\uFFFD") + strings.ToValidUTF8(knowledge.BlocksText(a.Blocks), "\uFFFD"))
}

func noSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}
