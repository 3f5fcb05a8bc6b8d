package discord

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"faqbot/bot"
	"faqbot/knowledge"
	"faqbot/search"
)

// Discord's limits on what one message holds, counted as Discord counts
// them: in UTF-16 code units, so a character outside the Basic
// Multilingual Plane (most emoji) counts twice.
const (
	MaxContent     = 2000 // message content
	MaxTitle       = 256  // embed title
	MaxDescription = 4096 // embed description
	MaxLabel       = 80   // button label
	MaxChoices     = 3    // clarification buttons
)

// embedColor is the stripe beside answers (WhatsApp green).
const embedColor = 0x25D366

// Part is one Discord message of a reply, in discordgo's types. A reply
// longer than one message is split into parts, sent in order; buttons go
// on the last part.
type Part struct {
	Content    string
	Embeds     []*discordgo.MessageEmbed
	Components []discordgo.MessageComponent
}

// Render lays an answer out as Discord messages: an embed with the entry's
// title and its text (numbered steps, bullets), split in order within
// Discord's limits, with 👍/👎 buttons under a real answer; a question with
// up to MaxChoices buttons for a clarification; small talk as plain text.
// Every text is escaped for Discord's Markdown and cannot mention anyone.
func Render(a search.Answer) []Part {
	lang := a.Lang
	switch a.Outcome {
	case search.Clarify:
		if buttons := choiceButtons(a); len(buttons) > 0 {
			return []Part{{
				Content:    clean(bot.Text(bot.MsgDidYouMean, lang)),
				Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: buttons}},
			}}
		}
	case search.Chitchat:
		if text := strings.TrimSpace(a.Text()); text != "" {
			return TextParts(text)
		}
	}
	parts := embedParts(a.Title, a.Text())
	if len(parts) == 0 {
		return TextParts(bot.Text(bot.MsgError, lang))
	}
	if a.Outcome == search.Answered && a.ID != "" {
		parts[len(parts)-1].Components = feedbackButtons(a.ID, lang)
	}
	return parts
}

// TextParts lays plain text out as messages of at most MaxContent each,
// escaped and unable to mention anyone.
func TextParts(text string) []Part {
	var parts []Part
	for _, chunk := range splitText(clean(text), MaxContent) {
		parts = append(parts, Part{Content: chunk})
	}
	return parts
}

// helpText is the bot's introduction with example questions.
func helpText(lang knowledge.Lang) string {
	var b strings.Builder
	b.WriteString(bot.Text(bot.MsgHelp, lang))
	examples := bot.Examples[lang]
	if len(examples) == 0 {
		examples = bot.Examples[knowledge.English]
	}
	for _, ex := range examples {
		b.WriteString("\n• ")
		b.WriteString(ex)
	}
	return b.String()
}

// embedParts puts title and text in embeds, one per message: a message's
// embeds share a 6,000-character budget, which one embed of at most 256 +
// 4,096 always fits.
func embedParts(title, text string) []Part {
	title = truncate(clean(title), MaxTitle)
	chunks := splitText(clean(text), MaxDescription)
	if title == "" && len(chunks) == 0 {
		return nil
	}
	if len(chunks) == 0 {
		chunks = []string{""}
	}
	parts := make([]Part, len(chunks))
	for i, c := range chunks {
		e := &discordgo.MessageEmbed{Type: discordgo.EmbedTypeRich, Description: c, Color: embedColor}
		if i == 0 {
			e.Title = title
		}
		parts[i] = Part{Embeds: []*discordgo.MessageEmbed{e}}
	}
	return parts
}

// choiceButtons are the clarification's choices: the best entry, then the
// alternatives, at most MaxChoices, without repeats.
func choiceButtons(a search.Answer) []discordgo.MessageComponent {
	type choice struct{ id, title string }
	choices := []choice{{a.ID, a.Title}}
	for _, c := range a.Alternatives {
		choices = append(choices, choice{c.ID, c.Title})
	}
	var buttons []discordgo.MessageComponent
	seen := map[string]bool{}
	for _, c := range choices {
		if len(buttons) == MaxChoices {
			break
		}
		if c.id == "" || seen[c.id] {
			continue
		}
		seen[c.id] = true
		id := bot.Payload{Action: bot.Choose, ID: c.id, Lang: a.Lang}.Encode()
		if _, err := bot.ParsePayload(id); err != nil {
			continue // an id the button could not carry back
		}
		label := truncate(neutralize(strings.TrimSpace(strings.ToValidUTF8(c.title, "\uFFFD"))), MaxLabel)
		if label == "" {
			label = c.id
		}
		buttons = append(buttons, discordgo.Button{Label: label, Style: discordgo.SecondaryButton, CustomID: id})
	}
	return buttons
}

func feedbackButtons(id string, lang knowledge.Lang) []discordgo.MessageComponent {
	yes := bot.Payload{Action: bot.Helpful, ID: id, Lang: lang}.Encode()
	no := bot.Payload{Action: bot.Unhelpful, ID: id, Lang: lang}.Encode()
	if _, err := bot.ParsePayload(yes); err != nil {
		return nil
	}
	return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Style: discordgo.SecondaryButton, CustomID: yes, Emoji: &discordgo.ComponentEmoji{Name: "👍"}},
		discordgo.Button{Style: discordgo.SecondaryButton, CustomID: no, Emoji: &discordgo.ComponentEmoji{Name: "👎"}},
	}}}
}

// clean makes text safe to show: valid UTF-8, Markdown escaped, mentions
// defused.
func clean(s string) string {
	return neutralize(escapeMarkdown(strings.ToValidUTF8(s, "\uFFFD")))
}

// mentionDefuser puts a zero-width space after the @ of anything Discord
// would read as a mention. allowed_mentions already keeps every message
// from pinging; this keeps a quoted "@everyone" from even looking like one.
var mentionDefuser = strings.NewReplacer(
	"@everyone", "@\u200beveryone",
	"@here", "@\u200bhere",
	"<@", "<@\u200b",
)

func neutralize(s string) string { return mentionDefuser.Replace(s) }

// urlPattern finds links, which must not be escaped: Discord would keep
// the backslashes in the link.
var urlPattern = regexp.MustCompile(`https?://[^\s<>]+`)

// markdownEscaper escapes the characters of Discord's inline Markdown.
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, `*`, `\*`, `_`, `\_`, "~", `\~`, "`", "\\`", "|", `\|`,
)

// escapeMarkdown keeps the guides' plain text plain: inline emphasis,
// spoilers and code marks are escaped, and so are the marks that make a line
// a heading, a quote or a bullet. A numbered step ("1. …") is left to render
// as Discord's numbered list.
func escapeMarkdown(s string) string {
	var b strings.Builder
	last := 0
	for _, loc := range urlPattern.FindAllStringIndex(s, -1) {
		b.WriteString(markdownEscaper.Replace(s[last:loc[0]]))
		b.WriteString(s[loc[0]:loc[1]])
		last = loc[1]
	}
	b.WriteString(markdownEscaper.Replace(s[last:]))
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		trimmed := strings.TrimLeft(l, " ")
		for _, mark := range []string{"#", ">", "- ", "-# "} {
			if strings.HasPrefix(trimmed, mark) {
				lines[i] = l[:len(l)-len(trimmed)] + `\` + trimmed
				break
			}
		}
	}
	return strings.Join(lines, "\n")
}

// width is the length of s as Discord counts it (UTF-16 code units).
func width(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// truncate cuts s to at most limit code units, ending with "…" when cut.
func truncate(s string, limit int) string {
	if width(s) <= limit {
		return s
	}
	cut := prefixBytes(s, limit-1)
	return strings.TrimRight(s[:cut], " \n") + "…"
}

// prefixBytes returns the byte length of the longest prefix of s at most
// limit code units wide; it always ends on a character boundary.
func prefixBytes(s string, limit int) int {
	n := 0
	for i, r := range s {
		if n+runeWidth(r) > limit {
			return i
		}
		n += runeWidth(r)
	}
	return len(s)
}

// breaks are where a long text is best split, best first: between blocks,
// between lines (steps, bullets), after a sentence, between words. A split
// is taken only in the second half of the room, so no part is tiny.
var breaks = []struct {
	sep   string
	after bool // cut after the separator (punctuation) rather than before
}{
	{"\n\n", false}, {"\n", false},
	{"。", true}, {"！", true}, {"？", true}, {". ", true}, {"! ", true}, {"? ", true},
	{"；", true}, {"，", true}, {" ", false},
}

// splitText splits s, in order, into non-blank chunks of at most limit code
// units, at the best break that fits, cutting a word only when a chunk has
// no break at all. It never cuts inside a character, nor between a
// backslash and the character it escapes.
func splitText(s string, limit int) []string {
	var out []string
	for {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		if s == "" {
			return out
		}
		room := prefixBytes(s, limit)
		if room == len(s) {
			return append(out, strings.TrimRightFunc(s, unicode.IsSpace))
		}
		cut := 0
		for _, br := range breaks {
			i := strings.LastIndex(s[:room], br.sep)
			if i < 0 {
				continue
			}
			if br.after {
				i += len(br.sep)
			}
			if i > 0 && width(s[:i]) >= limit/2 {
				cut = i
				break
			}
		}
		if cut == 0 {
			cut = room
			// Keep an escape with the character it escapes.
			for cut > 1 && s[cut-1] == '\\' {
				cut--
			}
			if cut <= 1 {
				cut = room
			}
			// A cut at room lands on a character boundary; a cut moved back
			// over backslashes does too, as they are single bytes.
			for cut < len(s) && !utf8.RuneStart(s[cut]) {
				cut--
			}
		}
		if chunk := strings.TrimRightFunc(s[:cut], unicode.IsSpace); chunk != "" {
			out = append(out, chunk)
		}
		s = s[cut:]
	}
}
