package telegram

import (
	"testing"

	"github.com/go-telegram/bot/models"
)

func TestRouteMessage(t *testing.T) {
	me := identity{id: testBotID, username: testUsername}
	private := models.Chat{ID: 1, Type: models.ChatTypePrivate}
	group := models.Chat{ID: -5, Type: models.ChatTypeSupergroup}
	from := &models.User{ID: 7}
	botUser := &models.User{ID: testBotID, IsBot: true}
	msg := func(chat models.Chat, text string, ents ...models.MessageEntity) *models.Message {
		return &models.Message{Chat: chat, From: from, Text: text, Entities: ents}
	}
	mention := func(off, n int) models.MessageEntity {
		return models.MessageEntity{Type: models.MessageEntityTypeMention, Offset: off, Length: n}
	}
	replyToBot := msg(group, "and on Android?")
	replyToBot.ReplyToMessage = &models.Message{From: botUser}
	topicStart := msg(group, "in a topic")
	topicStart.ReplyToMessage = &models.Message{From: botUser, ForumTopicCreated: &models.ForumTopicCreated{Name: "t"}}
	fromBot := msg(private, "hello")
	fromBot.From = &models.User{ID: 9, IsBot: true}
	channel := msg(models.Chat{ID: -7, Type: models.ChatTypeChannel}, "post")

	cases := []struct {
		name string
		m    *models.Message
		want route
	}{
		{"private text", msg(private, "  how do I log out  "), route{question, "how do I log out"}},
		{"private /ask", msg(private, "/ask web"), route{question, "web"}},
		{"private /start", msg(private, "/start"), route{intent: help}},
		{"private /HELP", msg(private, "/HELP"), route{intent: help}},
		{"private unknown command", msg(private, "/settings"), route{intent: help}},
		{"private path is a question", msg(private, "/usr/bin/whatsapp logout"), route{question, "/usr/bin/whatsapp logout"}},
		{"private /ask alone", msg(private, "/ask   "), route{intent: askUsage}},
		{"group chatter", msg(group, "log out of whatsapp"), route{}},
		{"group /ask", msg(group, "/ask\tweb"), route{question, "web"}},
		{"group /ask@me", msg(group, "/ask@faqtestbot web"), route{question, "web"}},
		{"group /ask@other", msg(group, "/ask@OtherBot web"), route{}},
		{"group /help", msg(group, "/help"), route{intent: help}},
		{"group /unknown", msg(group, "/weather"), route{}},
		{"group /unknown@me", msg(group, "/weather@FaqTestBot"), route{intent: help}},
		{"group mention", msg(group, "@FaqTestBot web", mention(0, 11)), route{question, "web"}},
		{"group mention after emoji", msg(group, "😀 @FaqTestBot web", mention(3, 11)), route{question, "😀  web"}},
		{"group mention alone", msg(group, "@FaqTestBot", mention(0, 11)), route{intent: help}},
		{"group other mention", msg(group, "@Other web", mention(0, 6)), route{}},
		{"group mention out of range", msg(group, "@FaqTestBot", mention(5, 11)), route{}},
		{"group negative entity", msg(group, "@FaqTestBot", mention(-1, 11)), route{}},
		{"group text mention", msg(group, "Bot web", models.MessageEntity{Type: models.MessageEntityTypeTextMention, Offset: 0, Length: 3, User: &models.User{ID: testBotID}}), route{question, "web"}},
		{"group reply to bot", replyToBot, route{question, "and on Android?"}},
		{"group topic message", topicStart, route{}},
		{"from a bot", fromBot, route{}},
		{"channel", channel, route{}},
		{"no text", msg(private, ""), route{}},
		{"nil", nil, route{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := routeMessage(c.m, me); got != c.want {
				t.Errorf("routeMessage = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestUserLang(t *testing.T) {
	for code, want := range map[string]string{"en": "en", "en-US": "en", "zh-hans": "zh-Hans", "zh-TW": "zh-Hant", "zh-hk": "zh-Hant", "zh": "zh-Hans", "ru": "", "": "", "!!": ""} {
		got, ok := userLang(&models.User{LanguageCode: code})
		if string(got) != want || ok != (want != "") {
			t.Errorf("userLang(%q) = %q, %v; want %q", code, got, ok, want)
		}
	}
}

// FuzzRouteMessage: any text with any entities is routed without a panic.
func FuzzRouteMessage(f *testing.F) {
	f.Add("@FaqTestBot hi", 0, 11, true)
	f.Add("/ask@FaqTestBot 😀", 1, 40, false)
	f.Fuzz(func(t *testing.T, text string, off, n int, group bool) {
		chat := models.Chat{ID: 1, Type: models.ChatTypePrivate}
		if group {
			chat.Type = models.ChatTypeGroup
		}
		m := &models.Message{Chat: chat, From: &models.User{ID: 2}, Text: text, Entities: []models.MessageEntity{
			{Type: models.MessageEntityTypeMention, Offset: off, Length: n},
			{Type: models.MessageEntityTypeBotCommand, Offset: n, Length: off},
			{Type: models.MessageEntityTypeTextMention, Offset: off, Length: n, User: &models.User{ID: testBotID}},
		}}
		routeMessage(m, identity{id: testBotID, username: testUsername})
	})
}
