package telegram

import (
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"

	"faqbot/knowledge"
)

// intent is what a message asks of the bot.
type intent int

const (
	ignore   intent = iota // not for us
	question               // answer route.question
	help                   // /start, /help
	askUsage               // /ask with no question
)

type route struct {
	intent   intent
	question string
}

// routeMessage decides what to do with a message. In a private chat every
// text is a question. In a group only /ask, a mention of the bot and a
// reply to the bot are: the rest is conversation between people, and
// commands addressed to other bots (/ask@OtherBot) are theirs. Everything
// here reads untrusted data defensively: entity offsets are checked.
func routeMessage(m *models.Message, me identity) route {
	if m == nil || m.From == nil || m.From.IsBot || m.Text == "" {
		return route{}
	}
	private := m.Chat.Type == models.ChatTypePrivate
	if !private && m.Chat.Type != models.ChatTypeGroup && m.Chat.Type != models.ChatTypeSupergroup {
		return route{}
	}
	if name, target, rest, ok := parseCommand(m.Text); ok {
		if target != "" && !strings.EqualFold(target, me.username) {
			return route{} // for another bot
		}
		switch name {
		case "start", "help":
			return route{intent: help}
		case "ask":
			if q := strings.TrimSpace(rest); q != "" {
				return route{intent: question, question: q}
			}
			return route{intent: askUsage}
		}
		if private || target != "" {
			return route{intent: help} // a command we do not have, meant for us
		}
		return route{}
	}
	if private {
		return route{intent: question, question: strings.TrimSpace(m.Text)}
	}
	if mentioned, rest := stripMentions(m, me); mentioned {
		if q := strings.TrimSpace(rest); q != "" {
			return route{intent: question, question: q}
		}
		return route{intent: help} // "@bot" alone: say what it can do
	}
	if repliesToBot(m, me) {
		return route{intent: question, question: strings.TrimSpace(m.Text)}
	}
	return route{}
}

// parseCommand reads "/name[@target] rest". Text that only starts with a
// slash ("/usr/bin is…") is not a command.
func parseCommand(text string) (name, target, rest string, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", "", false
	}
	tok := text[1:]
	if i := strings.IndexFunc(tok, unicode.IsSpace); i >= 0 {
		tok, rest = tok[:i], tok[i:]
	}
	name, target, _ = strings.Cut(tok, "@")
	if !commandWord(name, 32) || (target != "" && !commandWord(target, 64)) {
		return "", "", "", false
	}
	return strings.ToLower(name), target, rest, true
}

func commandWord(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// stripMentions reports whether the message mentions the bot (@username or
// a text mention of its id) and returns the text without those mentions.
// Entity offsets and lengths count UTF-16 code units; entities out of range
// are ignored.
func stripMentions(m *models.Message, me identity) (bool, string) {
	units := utf16.Encode([]rune(m.Text))
	cut := make([]bool, len(units))
	found := false
	for _, e := range m.Entities {
		if e.Offset < 0 || e.Length <= 0 || e.Offset > len(units) || e.Length > len(units)-e.Offset {
			continue
		}
		span := units[e.Offset : e.Offset+e.Length]
		var ours bool
		switch e.Type {
		case models.MessageEntityTypeMention:
			ours = me.username != "" && strings.EqualFold(string(utf16.Decode(span)), "@"+me.username)
		case models.MessageEntityTypeTextMention:
			ours = e.User != nil && e.User.ID == me.id
		}
		if ours {
			found = true
			for i := e.Offset; i < e.Offset+e.Length; i++ {
				cut[i] = true
			}
		}
	}
	if !found {
		return false, m.Text
	}
	kept := make([]uint16, 0, len(units))
	for i, u := range units {
		if !cut[i] {
			kept = append(kept, u)
		}
	}
	return true, string(utf16.Decode(kept))
}

// repliesToBot reports whether the message answers one of the bot's. In a
// forum topic every message "replies" to the topic's first message, which
// is not a reply to anyone.
func repliesToBot(m *models.Message, me identity) bool {
	r := m.ReplyToMessage
	return r != nil && r.From != nil && r.From.ID == me.id && r.ForumTopicCreated == nil
}

// userLang maps a Telegram language_code ("en", "zh-hans", "zh-TW") to a
// language of the guides.
func userLang(u *models.User) (knowledge.Lang, bool) {
	if u == nil || u.LanguageCode == "" {
		return "", false
	}
	l, err := knowledge.ParseLang(u.LanguageCode)
	return l, err == nil
}

// uiLang is the language of the bot's own messages to u: theirs, or English.
func uiLang(u *models.User) knowledge.Lang {
	if l, ok := userLang(u); ok {
		return l
	}
	return knowledge.English
}
