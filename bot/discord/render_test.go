package discord

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"faqbot/bot"
	"faqbot/knowledge"
	"faqbot/search"
)

func steps(items ...string) knowledge.Block {
	return knowledge.Block{Kind: knowledge.Steps, Items: items}
}

func para(text string) knowledge.Block { return knowledge.Block{Kind: knowledge.Paragraph, Text: text} }

// buttons lists the custom ids (or emoji) of a part's buttons.
func buttons(p Part) []string {
	var out []string
	for _, c := range p.Components {
		row, ok := c.(discordgo.ActionsRow)
		if !ok {
			continue
		}
		for _, b := range row.Components {
			out = append(out, b.(discordgo.Button).CustomID)
		}
	}
	return out
}

func TestRender(t *testing.T) {
	answered := search.Answer{Outcome: search.Answered, ID: "web-log-out", Title: "Log out of WhatsApp Web", Lang: knowledge.English,
		Blocks: []knowledge.Block{steps("Open WhatsApp Web.", "Click the menu."), para("Done.")}}
	clarify := search.Answer{Outcome: search.Clarify, ID: "a", Title: "Entry A", Lang: knowledge.TraditionalChinese,
		Alternatives: []search.Candidate{{ID: "b", Title: "Entry B"}, {ID: "a", Title: "dup"}, {ID: "c", Title: "Entry C"}, {ID: "d", Title: "Entry D"}}}
	tests := []struct {
		name        string
		in          search.Answer
		content     string
		title, desc string
		buttons     []string
	}{
		{
			name: "answered", in: answered, title: "Log out of WhatsApp Web",
			desc:    "1. Open WhatsApp Web.\n2. Click the menu.\n\nDone.",
			buttons: []string{"y|en|web-log-out", "n|en|web-log-out"},
		},
		{
			name: "clarify", in: clarify, content: bot.Text(bot.MsgDidYouMean, knowledge.TraditionalChinese),
			buttons: []string{"a|zh-Hant|a", "a|zh-Hant|b", "a|zh-Hant|c"},
		},
		{
			name:    "chitchat",
			in:      search.Answer{Outcome: search.Chitchat, ID: "hello", Title: "Hello", Lang: knowledge.English, Blocks: []knowledge.Block{para("Hi! Ask me about WhatsApp.")}},
			content: "Hi! Ask me about WhatsApp.",
		},
		{
			name:  "none",
			in:    search.Answer{Outcome: search.None, Title: "Sorry, I don't have an answer to that.", Lang: knowledge.English, Blocks: []knowledge.Block{para("I answer questions about logging out.")}},
			title: "Sorry, I don't have an answer to that.", desc: "I answer questions about logging out.",
		},
		{
			name:    "empty",
			in:      search.Answer{Outcome: search.Answered, Lang: knowledge.SimplifiedChinese},
			content: bot.Text(bot.MsgError, knowledge.SimplifiedChinese),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := Render(tt.in)
			if len(parts) != 1 {
				t.Fatalf("%d parts, want 1", len(parts))
			}
			p := parts[0]
			if got, want := p.Content, tt.content; got != want {
				t.Errorf("content %q, want %q", got, want)
			}
			var title, desc string
			if len(p.Embeds) > 0 {
				title, desc = p.Embeds[0].Title, p.Embeds[0].Description
			}
			if title != tt.title || desc != tt.desc {
				t.Errorf("embed %q / %q, want %q / %q", title, desc, tt.title, tt.desc)
			}
			if got := buttons(p); !slices.Equal(got, tt.buttons) {
				t.Errorf("buttons %q, want %q", got, tt.buttons)
			}
		})
	}
}

func TestRenderSplitsLongAnswersInOrder(t *testing.T) {
	var items []string
	for i := range 400 {
		items = append(items, fmt.Sprintf("步骤 %d：打开设置，点击“已链接的设备”，然后选择要退出的设备。", i))
	}
	a := search.Answer{Outcome: search.Answered, ID: "long", Title: strings.Repeat("很长的标题", 100), Lang: knowledge.SimplifiedChinese,
		Blocks: []knowledge.Block{para(strings.Repeat("😀", 3000)), steps(items...)}}
	parts := Render(a)
	if len(parts) < 3 {
		t.Fatalf("%d parts, want several", len(parts))
	}
	var descs []string
	for i, p := range parts {
		checkLimits(t, p)
		e := p.Embeds[0]
		if (e.Title != "") != (i == 0) {
			t.Errorf("part %d: title %q, want one on the first part only", i, e.Title)
		}
		if (len(buttons(p)) > 0) != (i == len(parts)-1) {
			t.Errorf("part %d: buttons %q, want them on the last part only", i, buttons(p))
		}
		descs = append(descs, e.Description)
	}
	if !strings.HasSuffix(parts[0].Embeds[0].Title, "…") {
		t.Errorf("a cut title should end with …: %q", parts[0].Embeds[0].Title)
	}
	if got, want := squash(strings.Join(descs, "")), squash(a.Text()); got != want {
		t.Errorf("the parts do not add up to the answer, in order")
	}
	// Steps are split between lines, never inside one.
	for _, d := range descs[1:] {
		if !strings.HasPrefix(d, "😀") && !regexp.MustCompile(`^\d+\. 步骤`).MatchString(d) {
			t.Errorf("a part starts inside a step: %.40q", d)
		}
	}
}

// squash drops whitespace, which splitting may move.
func squash(s string) string { return strings.Join(strings.Fields(s), "") }

// checkLimits asserts that p is within Discord's limits and mentions
// nobody.
func checkLimits(t testing.TB, p Part) {
	t.Helper()
	if p.Content == "" && len(p.Embeds) == 0 {
		t.Errorf("empty part")
	}
	if w := width(p.Content); w > MaxContent {
		t.Errorf("content of %d > %d", w, MaxContent)
	}
	total := 0
	for _, e := range p.Embeds {
		if w := width(e.Title); w > MaxTitle {
			t.Errorf("title of %d > %d", w, MaxTitle)
		}
		if w := width(e.Description); w > MaxDescription {
			t.Errorf("description of %d > %d", w, MaxDescription)
		}
		if e.Title == "" && strings.TrimSpace(e.Description) == "" {
			t.Errorf("empty embed")
		}
		total += width(e.Title) + width(e.Description)
	}
	if total > 6000 {
		t.Errorf("embeds total %d > 6000", total)
	}
	texts := []string{p.Content}
	for _, e := range p.Embeds {
		texts = append(texts, e.Title, e.Description)
	}
	for _, c := range p.Components {
		row := c.(discordgo.ActionsRow)
		if len(row.Components) > 5 {
			t.Errorf("%d buttons in a row", len(row.Components))
		}
		for _, b := range row.Components {
			btn := b.(discordgo.Button)
			if w := width(btn.Label); w > MaxLabel {
				t.Errorf("label of %d > %d", w, MaxLabel)
			}
			if len(btn.CustomID) > 100 {
				t.Errorf("custom id of %d bytes", len(btn.CustomID))
			}
			texts = append(texts, btn.Label)
		}
	}
	for _, s := range texts {
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8: %q", s)
		}
		if rawMention.MatchString(s) {
			t.Errorf("live mention in %q", s)
		}
	}
}

func TestSplitText(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int
		want  []string
	}{
		{"fits", "one two", 10, []string{"one two"}},
		{"blocks first", "aaaa bbbb\n\ncccc", 12, []string{"aaaa bbbb", "cccc"}},
		{"then lines", "1. aaaa\n2. bbbb\n3. cccc", 16, []string{"1. aaaa\n2. bbbb", "3. cccc"}},
		{"then sentences", "这是第一句。这是第二句。", 8, []string{"这是第一句。", "这是第二句。"}},
		{"then words", "aaa bbb ccc ddd", 8, []string{"aaa bbb", "ccc ddd"}},
		{"hard cut", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"emoji count twice", "😀😀😀", 4, []string{"😀😀", "😀"}},
		{"escape kept with its character", `aaa\*b`, 4, []string{"aaa", `\*b`}},
		{"blank dropped", "  \n\n  ", 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := splitText(tt.in, tt.limit); !slices.Equal(got, tt.want) {
				t.Errorf("splitText(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
		})
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"@everyone look", "@\u200beveryone look"},
		{"hi @here", "hi @\u200bhere"},
		{"<@123> and <@&456> and <@!789>", "<@\u200b123> and <@\u200b&456> and <@\u200b!789>"},
		{"dial *#06# now", `dial \*#06# now`},
		{"snake_case and ~strike~ and `code` and ||spoiler||", `snake\_case and \~strike\~ and` + " \\`code\\` " + `and \|\|spoiler\|\|`},
		{"# not a heading\n> not a quote\n- not a bullet\n1. a step", "\\# not a heading\n\\> not a quote\n\\- not a bullet\n1. a step"},
		{"see https://faq.whatsapp.com/a_b*c then_x", `see https://faq.whatsapp.com/a_b*c then\_x`},
		{"bad \xff byte", "bad \uFFFD byte"},
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestQuestionOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<@1000> 网页版怎么退出", "网页版怎么退出"},
		{"@everyone 网页版怎么退出", "网页版怎么退出"},
		{"<@!1000>  how   do I <#42> log out @here", "how do I log out"},
		{"<@&77>", ""},
	}
	for _, tt := range tests {
		if got := questionOf(tt.in); got != tt.want {
			t.Errorf("questionOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestAllowedMentionsSerialisation guards against a discordgo change that
// would omit an empty parse list: Discord reads a missing allowed_mentions
// as "ping everything the text mentions".
func TestAllowedMentionsSerialisation(t *testing.T) {
	b, err := json.Marshal(&discordgo.MessageSend{Content: "x", AllowedMentions: noMentions()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"allowed_mentions":{"parse":[],`) {
		t.Errorf("serialised as %s, want allowed_mentions {parse: []}", b)
	}
}

func FuzzRender(f *testing.F) {
	f.Add("Log out of WhatsApp Web", "Open WhatsApp Web.\nClick the menu.", "@everyone <@1> *x*", byte(0))
	f.Add(strings.Repeat("标题", 200), strings.Repeat("😀 a\n", 3000), strings.Repeat("\\", 90), byte(1))
	f.Add("", "", "", byte(2))
	f.Add("t", strings.Repeat("x", 5000)+"\xff\xfe", "id", byte(3))
	f.Fuzz(func(t *testing.T, title, text, alt string, outcome byte) {
		outcomes := []search.Outcome{search.Answered, search.Clarify, search.Chitchat, search.None}
		a := search.Answer{
			Outcome: outcomes[int(outcome)%len(outcomes)], ID: "web-log-out", Title: title, Lang: knowledge.English,
			Blocks:       []knowledge.Block{para(text), steps(strings.Split(text, "\n")...), {Kind: knowledge.Bullets, Items: []string{alt, title}}},
			Alternatives: []search.Candidate{{ID: "remote-log-out", Title: alt}, {ID: "x", Title: text}},
		}
		parts := Render(a)
		if len(parts) == 0 {
			t.Fatal("no parts")
		}
		for _, p := range parts {
			checkLimits(t, p)
		}
	})
}

func FuzzSplitText(f *testing.F) {
	f.Add("aaa bbb\n\nccc。ddd", 5)
	f.Add("😀\\*😀", 2)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit = 2 + abs(limit)%5000
		s = strings.ToValidUTF8(s, "\uFFFD")
		chunks := splitText(s, limit)
		for _, c := range chunks {
			if width(c) > limit || strings.TrimSpace(c) == "" || !utf8.ValidString(c) {
				t.Fatalf("bad chunk %q (limit %d)", c, limit)
			}
		}
		if got, want := squash(strings.Join(chunks, "")), squash(s); got != want {
			t.Fatalf("chunks of %q do not add up: %q", s, chunks)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}

func ExampleRender() {
	a := search.Answer{
		Outcome: search.Answered, ID: "web-log-out", Title: "Log out of WhatsApp Web", Lang: knowledge.English,
		Blocks: []knowledge.Block{
			{Kind: knowledge.Steps, Items: []string{"Open WhatsApp Web.", "Click the menu (⋮).", "Choose *Log out*."}},
		},
	}
	for _, p := range Render(a) {
		fmt.Println(p.Embeds[0].Title)
		fmt.Println(p.Embeds[0].Description)
		fmt.Println(buttons(p))
	}
	// Output:
	// Log out of WhatsApp Web
	// 1. Open WhatsApp Web.
	// 2. Click the menu (⋮).
	// 3. Choose \*Log out\*.
	// [y|en|web-log-out n|en|web-log-out]
}
