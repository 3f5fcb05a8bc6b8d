package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"faqbot/bot"
	"faqbot/knowledge"
	"faqbot/search"
	"faqbot/search/searchtest"
)

// These tests run the real discordgo client against fakeDiscord: REST on
// 127.0.0.1 through the session's HTTP client, and a websocket gateway.

// realEngine is the answer engine over the shipped guides, built once.
func realEngine(t *testing.T) bot.EngineAnswerer {
	return bot.EngineAnswerer{Engine: searchtest.Engine(t)}
}

func entryTitle(t *testing.T, id string, lang knowledge.Lang) string {
	t.Helper()
	e, ok := realEngine(t).Base().Entry(id, lang)
	if !ok {
		t.Fatalf("no entry %s in %s", id, lang)
	}
	return e.Title
}

func mentionOf(id string) string { return "<@" + id + ">" }

func TestMentionAnsweredByEngine(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	start(t, f, testConfig(f), realEngine(t))

	f.dispatch("MESSAGE_CREATE", message("m1", channelID, guildID, user(userID, false),
		mentionOf(botUserID)+" 网页版怎么退出", user(botUserID, true)))
	reqs := f.waitSent(t, routeMessages, 1)

	r := reqs[0]
	if got, want := r.Path, "/api/v9/channels/"+channelID+"/messages"; got != want {
		t.Errorf("sent to %s, want %s", got, want)
	}
	if got, want := r.Header.Get("Authorization"), "Bot "+testToken; got != want {
		t.Errorf("Authorization = %q, want the bot token", got)
	}
	m := decode[sentMessage](t, r.Body)
	if len(m.Embeds) != 1 {
		t.Fatalf("got %d embeds, want 1: %s", len(m.Embeds), r.Body)
	}
	if got, want := m.Embeds[0].Title, entryTitle(t, "web-log-out", knowledge.SimplifiedChinese); got != want {
		t.Errorf("embed title %q, want %q", got, want)
	}
	if !strings.Contains(m.Embeds[0].Description, "1. ") {
		t.Errorf("description has no numbered steps: %q", m.Embeds[0].Description)
	}
	if m.Reference == nil || m.Reference.MessageID != "m1" {
		t.Errorf("not a reply to the question: %s", r.Body)
	}
	if m.AllowedMentions == nil || string(m.AllowedMentions.Parse) != "[]" {
		t.Errorf("allowed_mentions.parse is not []: %s", r.Body)
	}
	wantIDs := []string{"y|zh-Hans|web-log-out", "n|zh-Hans|web-log-out"}
	if got := m.customIDs(); !slices.Equal(got, wantIDs) {
		t.Errorf("buttons %q, want %q", got, wantIDs)
	}
	if got := f.identified(); len(got) != 1 || got[0] != baseIntents {
		t.Errorf("IDENTIFY intents %v, want [%d] (no Message Content without support channels)", got, baseIntents)
	}
	f.mu.Lock()
	hb := f.heartbeats
	f.mu.Unlock()
	if hb < 1 {
		t.Errorf("no heartbeat sent")
	}
}

func TestEveryoneInSupportChannelPingsNobody(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	cfg := testConfig(f)
	cfg.ChannelIDs = []string{channelID}
	start(t, f, cfg, realEngine(t))

	f.dispatch("MESSAGE_CREATE", message("m1", channelID, guildID, user(userID, false), "@everyone 网页版怎么退出"))
	m := decode[sentMessage](t, f.waitSent(t, routeMessages, 1)[0].Body)
	if len(m.Embeds) != 1 || m.Embeds[0].Title != entryTitle(t, "web-log-out", knowledge.SimplifiedChinese) {
		t.Errorf("not answered with web-log-out: %+v", m)
	}
	if got := f.identified(); len(got) != 1 || got[0]&discordgo.IntentMessageContent == 0 {
		t.Errorf("IDENTIFY intents %v, want Message Content for support channels", got)
	}
	// checkNoPings, run at cleanup, asserts allowed_mentions.parse == [].
}

func TestDirectMessage(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	a := &stubAnswerer{}
	start(t, f, testConfig(f), a)

	f.dispatch("MESSAGE_CREATE", message("m1", "4444", "", user(userID, false), "how do I log out of WhatsApp Web"))
	r := f.waitSent(t, routeMessages, 1)[0]
	if got, want := r.Path, "/api/v9/channels/4444/messages"; got != want {
		t.Errorf("sent to %s, want %s", got, want)
	}
	m := decode[sentMessage](t, r.Body)
	if len(m.Embeds) != 1 || m.Embeds[0].Title != "Answer to how do I log out of WhatsApp Web" {
		t.Errorf("unexpected reply %s", r.Body)
	}
	if m.Reference == nil || m.Reference.MessageID != "m1" {
		t.Errorf("not a reply: %s", r.Body)
	}
}

func TestIgnoresItselfBotsAndChatter(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	a := &stubAnswerer{}
	start(t, f, testConfig(f), a)

	mention := user(botUserID, true)
	f.dispatch("MESSAGE_CREATE", message("m1", channelID, guildID, user(botUserID, true), mentionOf(botUserID)+" from itself", mention))
	f.dispatch("MESSAGE_CREATE", message("m2", channelID, guildID, user("6000", true), mentionOf(botUserID)+" from another bot", mention))
	webhook := message("m3", channelID, guildID, user("6001", false), mentionOf(botUserID)+" from a webhook", mention)
	webhook["webhook_id"] = "6001"
	f.dispatch("MESSAGE_CREATE", webhook)
	f.dispatch("MESSAGE_CREATE", message("m4", channelID, guildID, user(userID, false), "chatter, not addressed"))
	f.dispatch("MESSAGE_CREATE", message("m5", channelID, guildID, user(userID, false), mentionOf(botUserID)+" the real one", mention))

	f.waitSent(t, routeMessages, 1)
	if got := a.questions(); !slices.Equal(got, []string{"the real one"}) {
		t.Errorf("asked %q, want only the addressed question", got)
	}
}

func TestMentionWithoutQuestionGetsHelp(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	a := &stubAnswerer{}
	start(t, f, testConfig(f), a)

	f.dispatch("MESSAGE_CREATE", message("m1", channelID, guildID, user(userID, false), mentionOf(botUserID), user(botUserID, true)))
	m := decode[sentMessage](t, f.waitSent(t, routeMessages, 1)[0].Body)
	if !strings.HasPrefix(m.Content, bot.Text(bot.MsgHelp, knowledge.English)) {
		t.Errorf("content %q, want the help text", m.Content)
	}
	if len(a.questions()) != 0 {
		t.Errorf("asked the engine %q", a.questions())
	}
}

func TestSlashAskAnsweredAtOnce(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	start(t, f, testConfig(f), realEngine(t))

	f.dispatch("INTERACTION_CREATE", slashAsk("i1", "zh-CN", "网页版怎么退出"))
	r := f.waitSent(t, routeCallback, 1)[0]
	if got, want := r.Path, "/api/v9/interactions/i1/tok-i1/callback"; got != want {
		t.Errorf("callback to %s, want %s", got, want)
	}
	cb := decode[callback](t, r.Body)
	if cb.Type != int(discordgo.InteractionResponseChannelMessageWithSource) || cb.Data == nil {
		t.Fatalf("callback %s, want type 4 with data", r.Body)
	}
	if len(cb.Data.Embeds) != 1 || cb.Data.Embeds[0].Title != entryTitle(t, "web-log-out", knowledge.SimplifiedChinese) {
		t.Errorf("unexpected answer %s", r.Body)
	}
	if cb.Data.Flags != 0 {
		t.Errorf("the answer is ephemeral: %s", r.Body)
	}

	// A question without words is answered in the user's language: the
	// locale is passed to the engine as a hint. (The engine's first
	// Traditional Chinese answer loads OpenCC's tables, which may take
	// longer than DeferAfter: the answer may come as an edit.)
	f.dispatch("INTERACTION_CREATE", slashAsk("i2", "zh-TW", "??"))
	got := f.interactionAnswer(t, "i2")
	want, _ := realEngine(t).Answer(context.Background(), "??", search.WithLangHint(knowledge.TraditionalChinese))
	english, _ := realEngine(t).Answer(context.Background(), "??")
	if want.Title == english.Title {
		t.Fatalf("test premise: the hint does not change the answer")
	}
	if len(got.Embeds) == 0 || got.Embeds[0].Title != want.Title {
		t.Errorf("answer %+v, want titled %q", got, want.Title)
	}
}

// interactionAnswer waits for the answer to interaction id: the data of
// its response, or after a deferral the edit of the original response.
func (f *fakeDiscord) interactionAnswer(t *testing.T, id string) *sentMessage {
	t.Helper()
	var cb callback
	waitFor(t, "the response to "+id, func() bool {
		for _, r := range f.sent(routeCallback) {
			if r.Path == "/api/v9/interactions/"+id+"/tok-"+id+"/callback" {
				cb = decode[callback](t, r.Body)
				return true
			}
		}
		return false
	})
	switch discordgo.InteractionResponseType(cb.Type) {
	case discordgo.InteractionResponseChannelMessageWithSource, discordgo.InteractionResponseUpdateMessage:
		if cb.Data == nil {
			t.Fatalf("response to %s without data", id)
		}
		return cb.Data
	case discordgo.InteractionResponseDeferredChannelMessageWithSource, discordgo.InteractionResponseDeferredMessageUpdate:
		var edit *sentMessage
		waitFor(t, "the edit answering "+id, func() bool {
			for _, r := range f.sent(routeEditOriginal) {
				if r.Path == "/api/v9/webhooks/"+appID+"/tok-"+id+"/messages/@original" {
					edit = decodePtr[sentMessage](t, r.Body)
					return true
				}
			}
			return false
		})
		return edit
	}
	t.Fatalf("response to %s of type %d", id, cb.Type)
	return nil
}

func TestSlashAskDeferredWhenSlow(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	cfg := testConfig(f)
	cfg.DeferAfter = 20 * time.Millisecond
	a := &stubAnswerer{answer: func(ctx context.Context, q string) (search.Answer, error) {
		select {
		case <-time.After(300 * time.Millisecond): // slower than DeferAfter
		case <-ctx.Done():
			return search.Answer{}, ctx.Err()
		}
		return answerFor(q), nil
	}}
	start(t, f, cfg, a)

	f.dispatch("INTERACTION_CREATE", slashAsk("i1", "en-US", "slow question"))
	edit := f.waitSent(t, routeEditOriginal, 1)[0]
	cbs := f.sent(routeCallback)
	if len(cbs) != 1 {
		t.Fatalf("%d callbacks, want 1", len(cbs))
	}
	if cb := decode[callback](t, cbs[0].Body); cb.Type != int(discordgo.InteractionResponseDeferredChannelMessageWithSource) {
		t.Errorf("callback %s, want type 5 (deferred)", cbs[0].Body)
	}
	if got, want := edit.Path, "/api/v9/webhooks/"+appID+"/tok-i1/messages/@original"; got != want {
		t.Errorf("edited %s, want %s", got, want)
	}
	m := decode[sentMessage](t, edit.Body)
	if len(m.Embeds) != 1 || m.Embeds[0].Title != "Answer to slow question" {
		t.Errorf("edit %s, want the answer", edit.Body)
	}
}

func TestClarifyButtonsThenChoose(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	a := &stubAnswerer{answer: func(_ context.Context, q string) (search.Answer, error) {
		return search.Answer{Query: q, Outcome: search.Clarify, ID: "web-log-out", Title: "Log out of WhatsApp Web", Lang: knowledge.English,
			Alternatives: []search.Candidate{{ID: "remote-log-out", Title: "Log out remotely"}, {ID: "phone-log-out", Title: "Log out on the phone"}, {ID: "fourth", Title: "Fourth"}}}, nil
	}}
	start(t, f, testConfig(f), a)

	f.dispatch("MESSAGE_CREATE", message("m1", channelID, guildID, user(userID, false), mentionOf(botUserID)+" log out", user(botUserID, true)))
	m := decode[sentMessage](t, f.waitSent(t, routeMessages, 1)[0].Body)
	if m.Content != bot.Text(bot.MsgDidYouMean, knowledge.English) {
		t.Errorf("content %q, want the did-you-mean question", m.Content)
	}
	want := []string{"a|en|web-log-out", "a|en|remote-log-out", "a|en|phone-log-out"}
	if got := m.customIDs(); !slices.Equal(got, want) {
		t.Fatalf("buttons %q, want %q", got, want)
	}

	f.dispatch("INTERACTION_CREATE", press("i1", want[1]))
	r := f.waitSent(t, routeCallback, 1)[0]
	cb := decode[callback](t, r.Body)
	if cb.Type != int(discordgo.InteractionResponseUpdateMessage) || cb.Data == nil {
		t.Fatalf("callback %s, want type 7 (update the message)", r.Body)
	}
	if len(cb.Data.Embeds) != 1 || cb.Data.Embeds[0].Title != "Entry remote-log-out" {
		t.Errorf("answer %s, want entry remote-log-out", r.Body)
	}
	if got := cb.Data.customIDs(); !slices.Equal(got, []string{"y|en|remote-log-out", "n|en|remote-log-out"}) {
		t.Errorf("buttons %q, want the feedback buttons", got)
	}
}

func TestFeedbackAndUnknownButtons(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	sink := &recordingSink{}
	a := &stubAnswerer{lookupFn: func(_ context.Context, id string, _ knowledge.Lang) (search.Answer, error) {
		return search.Answer{}, fmt.Errorf("search: no entry %q", id)
	}}
	start(t, f, testConfig(f), a, WithFeedbackSink(sink))

	f.dispatch("INTERACTION_CREATE", press("i1", "y|zh-Hans|web-log-out"))
	f.dispatch("INTERACTION_CREATE", press("i2", "not a payload"))
	f.dispatch("INTERACTION_CREATE", press("i3", "a|en|gone-entry"))
	f.waitSent(t, routeCallback, 3)

	wantFB := bot.Feedback{Adapter: "discord", User: userID, EntryID: "web-log-out", Lang: knowledge.SimplifiedChinese, Helpful: true}
	fb := sink.feedback()
	if len(fb) != 1 {
		t.Fatalf("%d feedback records, want 1", len(fb))
	}
	fb[0].Time = time.Time{}
	if fb[0] != wantFB {
		t.Errorf("feedback %+v, want %+v", fb[0], wantFB)
	}
	want := map[string]string{
		"/api/v9/interactions/i1/tok-i1/callback": bot.Text(bot.MsgThanksFeedback, knowledge.SimplifiedChinese),
		"/api/v9/interactions/i2/tok-i2/callback": bot.Text(bot.MsgUnknownButton, knowledge.English),
		"/api/v9/interactions/i3/tok-i3/callback": bot.Text(bot.MsgUnknownButton, knowledge.English),
	}
	for _, r := range f.sent(routeCallback) {
		cb := decode[callback](t, r.Body)
		if cb.Type != 4 || cb.Data == nil || cb.Data.Flags != int(discordgo.MessageFlagsEphemeral) || cb.Data.Content != want[r.Path] {
			t.Errorf("%s: %s, want an ephemeral %q", r.Path, r.Body, want[r.Path])
		}
	}
}

// failingSink refuses every vote, as a busy question log does.
type failingSink struct{}

func (failingSink) RecordFeedback(context.Context, bot.Feedback) error {
	return errors.New("question log busy")
}

// A vote that was not recorded is not thanked for: the voter sees the
// error message and may vote again.
func TestFeedbackNotRecorded(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	start(t, f, testConfig(f), &stubAnswerer{}, WithFeedbackSink(failingSink{}))
	f.dispatch("INTERACTION_CREATE", press("i1", "n|en|web-log-out"))
	r := f.waitSent(t, routeCallback, 1)[0]
	if cb := decode[callback](t, r.Body); cb.Data == nil || cb.Data.Content != bot.Text(bot.MsgError, knowledge.English) {
		t.Errorf("reply %s, want the error message", r.Body)
	}
}

func TestErrorsShownOnlyToTheAsker(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	a := &stubAnswerer{answer: func(_ context.Context, q string) (search.Answer, error) {
		switch q {
		case "boom":
			panic("engine bug")
		case "fail":
			return search.Answer{}, errors.New("index unavailable")
		}
		return answerFor(q), nil
	}}
	h := start(t, f, testConfig(f), a)

	f.dispatch("INTERACTION_CREATE", slashAsk("i1", "en-US", "fail"))
	f.dispatch("INTERACTION_CREATE", slashAsk("i2", "en-GB", "boom"))
	f.dispatch("MESSAGE_CREATE", message("m1", channelID, guildID, user(userID, false), mentionOf(botUserID)+" boom", user(botUserID, true)))
	f.waitSent(t, routeCallback, 2)
	for _, r := range f.sent(routeCallback) {
		cb := decode[callback](t, r.Body)
		if cb.Type != 4 || cb.Data == nil || cb.Data.Flags != int(discordgo.MessageFlagsEphemeral) || cb.Data.Content != bot.Text(bot.MsgError, knowledge.English) {
			t.Errorf("%s: %s, want an ephemeral error message", r.Path, r.Body)
		}
		if strings.Contains(string(r.Body), "index unavailable") || strings.Contains(string(r.Body), "engine bug") {
			t.Errorf("internal detail shown to the user: %s", r.Body)
		}
	}
	m := decode[sentMessage](t, f.waitSent(t, routeMessages, 1)[0].Body)
	if m.Content != bot.Text(bot.MsgError, knowledge.English) {
		t.Errorf("reply %q, want the error message", m.Content)
	}

	// The bot survived the panics.
	f.dispatch("INTERACTION_CREATE", slashAsk("i3", "en-US", "fine"))
	cb := decode[callback](t, f.waitSent(t, routeCallback, 3)[2].Body)
	if cb.Data == nil || len(cb.Data.Embeds) != 1 {
		t.Errorf("no answer after the panics: %+v", cb)
	}
	if !strings.Contains(h.logs.String(), "engine bug") {
		t.Errorf("the panic was not logged")
	}
}

func TestDeferredErrorReplacedByEphemeral(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	cfg := testConfig(f)
	cfg.DeferAfter = 20 * time.Millisecond
	a := &stubAnswerer{answer: func(ctx context.Context, q string) (search.Answer, error) {
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
		}
		return search.Answer{}, errors.New("slow failure")
	}}
	start(t, f, cfg, a)

	f.dispatch("INTERACTION_CREATE", slashAsk("i1", "en-US", "anything"))
	fu := f.waitSent(t, routeFollowup, 1)[0]
	if len(f.sent(routeDelOriginal)) != 1 {
		t.Errorf("the public \"thinking…\" response was not deleted")
	}
	m := decode[sentMessage](t, fu.Body)
	if m.Flags != int(discordgo.MessageFlagsEphemeral) || m.Content != bot.Text(bot.MsgError, knowledge.English) {
		t.Errorf("follow-up %s, want an ephemeral error", fu.Body)
	}
}

func TestLongAnswerSplitInOrder(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	var items []string
	for i := range 60 {
		items = append(items, fmt.Sprintf("Step %d: %s", i+1, strings.Repeat("打开设置并检查已链接的设备。", 12)))
	}
	long := search.Answer{Outcome: search.Answered, ID: "long-entry", Title: "A long answer", Lang: knowledge.SimplifiedChinese,
		Blocks: []knowledge.Block{{Kind: knowledge.Steps, Items: items}}}
	a := &stubAnswerer{answer: func(context.Context, string) (search.Answer, error) { return long, nil }}
	start(t, f, testConfig(f), a)

	want := Render(long)
	if len(want) < 3 {
		t.Fatalf("test premise: the answer fills %d messages, want ≥ 3", len(want))
	}
	f.dispatch("MESSAGE_CREATE", message("m1", channelID, guildID, user(userID, false), mentionOf(botUserID)+" long", user(botUserID, true)))
	reqs := f.waitSent(t, routeMessages, len(want))
	for i, r := range reqs {
		m := decode[sentMessage](t, r.Body)
		if len(m.Embeds) != 1 || m.Embeds[0].Description != want[i].Embeds[0].Description {
			t.Fatalf("message %d is not part %d in order", i+1, i+1)
		}
		if got := width(m.Embeds[0].Description); got > MaxDescription {
			t.Errorf("message %d: description of %d", i+1, got)
		}
		if (m.Reference != nil) != (i == 0) {
			t.Errorf("message %d: reply reference %v, want one on the first only", i+1, m.Reference)
		}
		if (len(m.customIDs()) > 0) != (i == len(reqs)-1) {
			t.Errorf("message %d: buttons %q, want them on the last only", i+1, m.customIDs())
		}
	}

	// The same answer to /ask: the response, then follow-ups.
	f.dispatch("INTERACTION_CREATE", slashAsk("i1", "zh-CN", "long"))
	fus := f.waitSent(t, routeFollowup, len(want)-1)
	cb := decode[callback](t, f.sent(routeCallback)[0].Body)
	if cb.Data == nil || cb.Data.Embeds[0].Description != want[0].Embeds[0].Description {
		t.Errorf("the response is not the first part")
	}
	for i, r := range fus {
		if !strings.Contains(r.Query, "wait=true") {
			t.Errorf("follow-up without wait=true: %q", r.Query)
		}
		if m := decode[sentMessage](t, r.Body); m.Embeds[0].Description != want[i+1].Embeds[0].Description {
			t.Errorf("follow-up %d is not part %d", i+1, i+2)
		}
	}
}

func TestReconnectsAfterDroppedConnection(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	a := &stubAnswerer{}
	h := start(t, f, testConfig(f), a)

	f.drop()
	waitFor(t, "the bot to reconnect", func() bool { return f.readyCount() >= 2 })
	f.mu.Lock()
	resumes := f.resumes
	f.mu.Unlock()
	if resumes != 1 || len(f.identified()) != 1 {
		t.Errorf("%d resumes and %d identifies, want the session resumed", resumes, len(f.identified()))
	}

	f.dispatch("MESSAGE_CREATE", message("m1", channelID, guildID, user(userID, false), mentionOf(botUserID)+" after the drop", user(botUserID, true)))
	m := decode[sentMessage](t, f.waitSent(t, routeMessages, 1)[0].Body)
	if len(m.Embeds) != 1 || m.Embeds[0].Title != "Answer to after the drop" {
		t.Errorf("unexpected reply %+v", m)
	}
	if !strings.Contains(h.logs.String(), "reconnected to the gateway") {
		t.Errorf("the reconnection was not logged")
	}

	// Discord asks for a reconnection (op 7) before it restarts a server.
	f.askReconnect()
	waitFor(t, "the bot to reconnect on request", func() bool { return f.readyCount() >= 3 })
	f.dispatch("MESSAGE_CREATE", message("m2", channelID, guildID, user(userID, false), mentionOf(botUserID)+" after op 7", user(botUserID, true)))
	f.waitSent(t, routeMessages, 2)
}

func TestRateLimitRetriesAreBounded(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	cfg := testConfig(f) // MaxRetries 2
	h := start(t, f, cfg, &stubAnswerer{})

	f.failAlways(routeMessages, fault{status: 429, body: `{"message":"You are being rate limited.","retry_after":0.05,"global":false}`})
	began := time.Now()
	f.dispatch("MESSAGE_CREATE", message("m1", channelID, guildID, user(userID, false), mentionOf(botUserID)+" first", user(botUserID, true)))
	waitFor(t, "the bot to give up", func() bool { return strings.Contains(h.logs.String(), "sending a reply failed") })
	if got, want := len(f.sent(routeMessages)), 1+cfg.MaxRetries; got != want {
		t.Errorf("%d attempts, want %d", got, want)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("giving up took %v", took)
	}

	// Once the limit lifts, the bot answers again.
	f.failAlways(routeMessages, fault{})
	f.dispatch("MESSAGE_CREATE", message("m2", channelID, guildID, user("5001", false), mentionOf(botUserID)+" second", user(botUserID, true)))
	f.waitSent(t, routeMessages, 1+cfg.MaxRetries+1)

	// A 429 asking for an hour is not waited out, and the bucket it closed
	// reopens after MaxRetryWait, not after an hour.
	f.failOnce(routeMessages, fault{status: 429, body: `{"message":"You are being rate limited.","retry_after":3600,"global":false}`,
		header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "3600", "X-RateLimit-Bucket": "b1"}})
	f.dispatch("MESSAGE_CREATE", message("m3", channelID, guildID, user("5002", false), mentionOf(botUserID)+" third", user(botUserID, true)))
	f.waitSent(t, routeMessages, 1+cfg.MaxRetries+2)
	f.dispatch("MESSAGE_CREATE", message("m4", channelID, guildID, user("5003", false), mentionOf(botUserID)+" fourth", user(botUserID, true)))
	began = time.Now()
	f.waitSent(t, routeMessages, 1+cfg.MaxRetries+3)
	if took := time.Since(began); took > cfg.MaxRetryWait+3*time.Second {
		t.Errorf("the next message waited %v", took)
	}
}

func TestServerErrorsDoNotDuplicateMessages(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	// Registering commands is safe to repeat: a 502 is retried.
	f.failOnce(routeCommands, fault{status: 502, body: `{"message":"Bad Gateway"}`})
	h := start(t, f, testConfig(f), &stubAnswerer{})
	f.waitSent(t, routeCommands, 2)
	if got := len(f.sent(routeCommands)); got != 2 {
		t.Errorf("%d command registrations, want 2 (one retry after the 502)", got)
	}

	// A message create that met a 502 may have been posted: not repeated.
	f.failOnce(routeMessages, fault{status: 502, body: `{"message":"Bad Gateway"}`})
	f.dispatch("MESSAGE_CREATE", message("m1", channelID, guildID, user(userID, false), mentionOf(botUserID)+" first", user(botUserID, true)))
	waitFor(t, "the bot to give up", func() bool { return strings.Contains(h.logs.String(), "sending a reply failed") })
	f.dispatch("MESSAGE_CREATE", message("m2", channelID, guildID, user(userID, false), mentionOf(botUserID)+" second", user(botUserID, true)))
	reqs := f.waitSent(t, routeMessages, 2)
	if len(reqs) != 2 {
		t.Errorf("%d message creates, want 2 (no retry)", len(reqs))
	}
	if m := decode[sentMessage](t, reqs[1].Body); m.Reference == nil || m.Reference.MessageID != "m2" {
		t.Errorf("second request %s, want the answer to m2", reqs[1].Body)
	}
}

func TestMessageContentRefusedCarriesOn(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	f.rejectIntents = discordgo.IntentMessageContent
	cfg := testConfig(f)
	cfg.ChannelIDs = []string{channelID}
	h := start(t, f, cfg, &stubAnswerer{})

	got := f.identified()
	if len(got) != 2 || got[0]&discordgo.IntentMessageContent == 0 || got[1] != baseIntents {
		t.Errorf("IDENTIFY intents %v, want [with Message Content, %d]", got, baseIntents)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "4014") || !strings.Contains(logs, "Privileged Gateway Intents") {
		t.Errorf("no clear log about enabling the intent:\n%s", logs)
	}
	// Without the intent Discord sends support-channel messages without
	// their text: ignored. Slash commands and mentions still work.
	f.dispatch("MESSAGE_CREATE", message("m0", channelID, guildID, user(userID, false), ""))
	f.dispatch("INTERACTION_CREATE", slashAsk("i1", "en-US", "via slash"))
	f.dispatch("MESSAGE_CREATE", message("m1", channelID, guildID, user(userID, false), mentionOf(botUserID)+" via mention", user(botUserID, true)))
	f.waitSent(t, routeCallback, 1)
	reqs := f.waitSent(t, routeMessages, 1)
	if len(reqs) != 1 {
		t.Errorf("%d replies, want 1 (to the mention)", len(reqs))
	}
}

func TestRejectedTokenStopsRun(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	f.closeIdentify = 4004
	logs := &syncBuffer{}
	b, err := New(testConfig(f), &stubAnswerer{}, WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = b.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), EnvToken) {
		t.Fatalf("Run: %v, want an error about the token", err)
	}
	if strings.Contains(err.Error(), testToken) || strings.Contains(logs.String(), testToken) {
		t.Errorf("the token was shown: %v\n%s", err, logs)
	}
}

func TestFloodControl(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	cfg := testConfig(f)
	cfg.UserBurst = 1
	cfg.UserEvery = time.Hour
	a := &stubAnswerer{}
	start(t, f, cfg, a)

	for i, q := range []string{"网页版怎么退出", "第二个问题", "第三个问题"} {
		f.dispatch("MESSAGE_CREATE", message(fmt.Sprint("m", i), channelID, guildID, user(userID, false), mentionOf(botUserID)+" "+q, user(botUserID, true)))
	}
	f.dispatch("MESSAGE_CREATE", message("m9", channelID, guildID, user("5999", false), mentionOf(botUserID)+" someone else", user(botUserID, true)))
	f.waitSent(t, routeMessages, 3)
	var slowDowns int
	for _, r := range f.sent(routeMessages) {
		if m := decode[sentMessage](t, r.Body); m.Content == bot.Text(bot.MsgSlowDown, knowledge.SimplifiedChinese) {
			slowDowns++
			if m.Reference == nil || m.Reference.MessageID != "m1" {
				t.Errorf("slow-down notice not a reply to the second question: %s", r.Body)
			}
		}
	}
	got := a.questions()
	slices.Sort(got)
	if !slices.Equal(got, []string{"someone else", "网页版怎么退出"}) || slowDowns != 1 {
		t.Errorf("asked %q with %d slow-down notices; want the first question and the other user's, one notice", got, slowDowns)
	}
}

func TestShutdownFinishesAnswersInFlight(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	var h *harness
	ready := make(chan struct{})
	a := &stubAnswerer{answer: func(ctx context.Context, q string) (search.Answer, error) {
		<-ready
		// Answer only once Run has been told to stop.
		for !h.bot.stopping.Load() {
			select {
			case <-ctx.Done():
				return search.Answer{}, ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
		return answerFor(q), nil
	}}
	h = start(t, f, testConfig(f), a)
	close(ready)

	f.dispatch("MESSAGE_CREATE", message("m1", channelID, guildID, user(userID, false), mentionOf(botUserID)+" in flight", user(botUserID, true)))
	waitFor(t, "the question to reach the engine", func() bool { return len(a.questions()) == 1 })
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := len(f.sent(routeMessages)); got != 1 {
		t.Errorf("%d answers sent before Run returned, want 1", got)
	}
}

func TestGuildCommandsLocalized(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	cfg := testConfig(f)
	cfg.GuildID = guildID
	start(t, f, cfg, &stubAnswerer{})

	r := f.sent(routeGuildCmds)[0]
	if got, want := r.Path, "/api/v9/applications/"+appID+"/guilds/"+guildID+"/commands"; got != want {
		t.Errorf("registered at %s, want %s", got, want)
	}
	if n := len(f.sent(routeCommands)); n != 0 {
		t.Errorf("%d global registrations, want none with a guild", n)
	}
	cmds := decode[[]struct {
		Name                     string            `json:"name"`
		Description              string            `json:"description"`
		DescriptionLocalizations map[string]string `json:"description_localizations"`
		Options                  []struct {
			Name     string `json:"name"`
			Type     int    `json:"type"`
			Required bool   `json:"required"`
		} `json:"options"`
	}](t, r.Body)
	if len(cmds) != 2 || cmds[0].Name != "ask" || cmds[1].Name != "help" {
		t.Fatalf("commands %s, want ask and help", r.Body)
	}
	ask := cmds[0]
	if ask.DescriptionLocalizations["zh-CN"] != bot.Text(bot.MsgCommandAsk, knowledge.SimplifiedChinese) ||
		ask.DescriptionLocalizations["zh-TW"] != bot.Text(bot.MsgCommandAsk, knowledge.TraditionalChinese) ||
		ask.DescriptionLocalizations["en-US"] != bot.Text(bot.MsgCommandAsk, knowledge.English) {
		t.Errorf("ask's localisations %v", ask.DescriptionLocalizations)
	}
	if len(ask.Options) != 1 || ask.Options[0].Name != "question" || ask.Options[0].Type != 3 || !ask.Options[0].Required {
		t.Errorf("ask's options %+v, want a required string question", ask.Options)
	}
}

func TestGatewayURLOption(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	f.failAlways(routeGateway, fault{status: 500, body: `{"message":"use the option"}`})
	start(t, f, testConfig(f), &stubAnswerer{}, WithGatewayURL(f.wsURL()))
	if n := len(f.sent(routeGateway)); n != 0 {
		t.Errorf("asked Discord for the gateway %d times", n)
	}
}
