package telegram

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"faqbot/bot"
	"faqbot/knowledge"
	"faqbot/search/searchtest"
)

// realEngine is the answer engine over the shipped guides, built once.
func realEngine(t *testing.T) bot.EngineAnswerer {
	return bot.EngineAnswerer{Engine: searchtest.Engine(t)}
}

func TestPrivateQuestionGetsTheRightAnswer(t *testing.T) {
	eng := realEngine(t)
	h := startBot(t, eng, nil)
	ids := h.api.Push(privateMsg(42, "en", "网页版怎么退出"))
	got := h.api.WaitSent(t, 1)[0]

	entry, _ := eng.Base().Entry("web-log-out", knowledge.SimplifiedChinese)
	if want := "<b>" + html.EscapeString(entry.Title) + "</b>\n\n1. "; !strings.HasPrefix(got.Text, want) {
		t.Errorf("reply %q\ndoes not start with %q", got.Text, want)
	}
	if got.Chat != 42 || got.ReplyTo != ids[0] || got.Parse != "HTML" {
		t.Errorf("sent to chat %d replying to %d in %q; want chat 42, reply to %d, HTML", got.Chat, got.ReplyTo, got.Parse, ids[0])
	}
	if !strings.Contains(got.Call.Fields["link_preview_options"], `"is_disabled":true`) {
		t.Errorf("link previews not disabled: %q", got.Call.Fields["link_preview_options"])
	}
	wantKB := keyboard{InlineKeyboard: [][]button{{{"👍", "y|zh-Hans|web-log-out"}, {"👎", "n|zh-Hans|web-log-out"}}}}
	if fmt.Sprint(got.Markup) != fmt.Sprint(wantKB) {
		t.Errorf("buttons %v, want %v", got.Markup, wantKB)
	}
	if strings.Contains(got.Call.Fields["reply_markup"], "copy_text") {
		t.Errorf("buttons carry an empty copy_text: %s", got.Call.Fields["reply_markup"])
	}

	t.Run("start-up", func(t *testing.T) {
		var methods []string
		for _, c := range h.api.Calls("") {
			if c.Method != "sendMessage" {
				methods = append(methods, c.Method)
			}
		}
		if want := []string{"getMe", "setMyCommands", "setMyCommands", "deleteWebhook"}; !slices.Equal(methods, want) {
			t.Errorf("start-up calls %v, want %v", methods, want)
		}
		menus := map[string]string{}
		for _, c := range h.api.Calls("setMyCommands") {
			menus[c.Fields["language_code"]] = c.Fields["commands"]
		}
		for code, lang := range map[string]knowledge.Lang{"": knowledge.English, "zh": knowledge.SimplifiedChinese} {
			if !strings.Contains(menus[code], `"command":"ask"`) || !strings.Contains(menus[code], bot.Text(bot.MsgCommandAsk, lang)) || !strings.Contains(menus[code], `"command":"help"`) {
				t.Errorf("command menu for %q: %s", code, menus[code])
			}
		}
	})
}

func TestReplyLanguage(t *testing.T) {
	eng := realEngine(t)
	h := startBot(t, eng, nil)
	web, _ := eng.Base().Entry("web-log-out", knowledge.English)
	ids := h.api.Push(
		privateMsg(43, "zh-hant", "🙂"),                               // no words: the user's language
		privateMsg(44, "zh-hans", "log out of whatsapp web desktop"), // the question's language wins
	)
	sent := h.api.WaitSent(t, 2)
	byReply := map[int]string{}
	for _, s := range sent {
		byReply[s.ReplyTo] = s.Text
	}
	if got := byReply[ids[0]]; !strings.Contains(got, "這個問題我還回答不了") {
		t.Errorf("wordless question from a zh-hant user: %q, want the Traditional Chinese default reply", got)
	}
	if got := byReply[ids[1]]; !strings.HasPrefix(got, "<b>"+html.EscapeString(web.Title)+"</b>") {
		t.Errorf("English question from a zh-hans user: %q, want %q", got, web.Title)
	}
}

func TestGroupRules(t *testing.T) {
	ans := &fakeAnswerer{}
	h := startBot(t, ans, nil)
	botMsg := map[string]any{"message_id": 1, "date": 1, "chat": map[string]any{"id": testGroup, "type": "supergroup"},
		"from": map[string]any{"id": testBotID, "is_bot": true, "first_name": "FAQ"}, "text": "an earlier answer"}
	otherMsg := map[string]any{"message_id": 2, "date": 1, "chat": map[string]any{"id": testGroup, "type": "supergroup"},
		"from": user(99, "en"), "text": "something"}
	updates := []struct {
		u    map[string]any
		want string // "" ignored, "q:<question>", "help", "usage"
	}{
		{groupMsg(1, "just chatting about WhatsApp"), ""},
		{groupMsg(2, "/ask how do I log out"), "q:how do I log out"},
		{groupMsg(3, "/ask@FaqTestBot second question"), "q:second question"},
		{groupMsg(4, "/ask@OtherBot third question"), ""},
		{groupMsg(5, "/help@OtherBot"), ""},
		{groupMsg(6, "/start@OtherBot"), ""},
		{with(groupMsg(7, "@FaqTestBot mention question"), "entities", []any{entity("mention", 0, 11)}), "q:mention question"},
		{with(groupMsg(8, "what about @faqtestbot here"), "entities", []any{entity("mention", 11, 11)}), "q:what about  here"},
		{with(groupMsg(9, "@OtherBot hi there"), "entities", []any{entity("mention", 0, 9)}), ""},
		{with(groupMsg(10, "reply question"), "reply_to_message", botMsg), "q:reply question"},
		{with(groupMsg(11, "not for the bot"), "reply_to_message", otherMsg), ""},
		{groupMsg(12, "/ask"), "usage"},
		{groupMsg(13, "/help"), "help"},
		{groupMsg(14, "/unknown"), ""},
		{groupMsg(15, "/ask@FaqTestBot"), "usage"},
	}
	var us []map[string]any
	for _, u := range updates {
		us = append(us, u.u)
	}
	ids := h.api.Push(us...)
	sentinel := h.api.Push(groupMsg(16, "/ask sentinel"))[0]
	waitFor(t, "the sentinel's answer", func() bool {
		return slices.ContainsFunc(h.api.Sent(), func(s sentMessage) bool { return s.ReplyTo == sentinel })
	})
	h.stop(t) // everything taken before the sentinel is handled by now

	replies := map[int]string{}
	for _, s := range h.api.Sent() {
		if _, dup := replies[s.ReplyTo]; dup {
			t.Errorf("message %d answered twice", s.ReplyTo)
		}
		replies[s.ReplyTo] = s.Text
		if s.Chat != testGroup {
			t.Errorf("reply sent to chat %d", s.Chat)
		}
	}
	var wantQuestions []string
	for i, u := range updates {
		text := u.u["message"].(map[string]any)["text"]
		got, answered := replies[ids[i]]
		switch {
		case u.want == "":
			if answered {
				t.Errorf("%q: answered %q, want it ignored", text, got)
			}
		case u.want == "help":
			if !strings.HasPrefix(got, html.EscapeString(bot.Text(bot.MsgHelp, knowledge.English))) {
				t.Errorf("%q: %q, want the help", text, got)
			}
		case u.want == "usage":
			if got != html.EscapeString(bot.Text(bot.MsgAskUsage, knowledge.English)) {
				t.Errorf("%q: %q, want the /ask usage", text, got)
			}
		default:
			q := strings.TrimPrefix(u.want, "q:")
			wantQuestions = append(wantQuestions, q)
			if !strings.HasPrefix(got, "<b>Answer: "+q+"</b>") {
				t.Errorf("%q: %q, want the answer to %q", text, got, q)
			}
		}
	}
	gotQuestions := ans.asked()
	sort.Strings(gotQuestions)
	wantQuestions = append(wantQuestions, "sentinel")
	sort.Strings(wantQuestions)
	if !slices.Equal(gotQuestions, wantQuestions) {
		t.Errorf("the engine was asked %q, want %q", gotQuestions, wantQuestions)
	}
}

func TestStartAndHelp(t *testing.T) {
	h := startBot(t, &fakeAnswerer{}, nil)
	cases := []struct {
		u    map[string]any
		lang knowledge.Lang
	}{
		{privateMsg(21, "en", "/start"), knowledge.English},
		{privateMsg(22, "zh-hans", "/help"), knowledge.SimplifiedChinese},
		{privateMsg(23, "zh-TW", "/start deep-link"), knowledge.TraditionalChinese},
		{privateMsg(24, "", "/settings"), knowledge.English},
		{groupMsg(25, "/help@FaqTestBot"), knowledge.English},
	}
	for _, c := range cases {
		h.api.Push(c.u)
	}
	sent := h.api.WaitSent(t, len(cases))
	byChat := map[int64]string{}
	for _, s := range sent {
		byChat[s.Chat] = s.Text
	}
	for _, c := range cases {
		chat := c.u["message"].(map[string]any)["chat"].(map[string]any)["id"].(int64)
		got := byChat[chat]
		want := html.EscapeString(bot.Text(bot.MsgHelp, c.lang))
		for _, ex := range bot.Examples[c.lang] {
			want += "\n• " + html.EscapeString(ex)
		}
		if got != want {
			t.Errorf("%v: help is\n%s\nwant\n%s", c.u["message"].(map[string]any)["text"], got, want)
		}
	}
}

func TestClarifyThenButton(t *testing.T) {
	h := startBot(t, &fakeAnswerer{}, nil)
	h.api.Push(privateMsg(42, "en", "clarify me"))
	clar := h.api.WaitSent(t, 1)[0]
	if want := html.EscapeString(bot.Text(bot.MsgDidYouMean, knowledge.English)); clar.Text != want {
		t.Errorf("clarification %q, want %q", clar.Text, want)
	}
	rows := clar.Markup.InlineKeyboard
	want := [][]button{
		{{fakeEntries["web-log-out"], "a|en|web-log-out"}},
		{{fakeEntries["remote-log-out"], "a|en|remote-log-out"}},
		{{fakeEntries["phone-delete-account"], "a|en|phone-delete-account"}},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Fatalf("choices %v, want %v (at most 3)", rows, want)
	}

	h.api.Push(callback("cq-1", 42, "en", 42, "private", clar.ID, rows[1][0].CallbackData))
	acks := h.api.WaitCalls(t, "answerCallbackQuery", 1)
	if acks[0].Fields["callback_query_id"] != "cq-1" {
		t.Errorf("answered callback %q, want cq-1", acks[0].Fields["callback_query_id"])
	}
	got := h.api.WaitSent(t, 2)[1]
	if !strings.HasPrefix(got.Text, "<b>"+fakeEntries["remote-log-out"]+"</b>") || got.ReplyTo != clar.ID {
		t.Errorf("after the button: %q replying to %d, want %q replying to %d", got.Text, got.ReplyTo, fakeEntries["remote-log-out"], clar.ID)
	}
	if len(got.Markup.InlineKeyboard) != 1 || got.Markup.InlineKeyboard[0][0].CallbackData != "y|en|remote-log-out" {
		t.Errorf("the chosen answer has buttons %v, want 👍/👎", got.Markup)
	}
}

func TestUnknownButtons(t *testing.T) {
	h := startBot(t, &fakeAnswerer{}, nil)
	forged := []map[string]any{
		callback("cq-1", 42, "en", 42, "private", 5, "garbage"),
		callback("cq-2", 42, "en", 42, "private", 5, "a|en|no-such-entry"),
		callback("cq-3", 42, "en", 42, "private", 5, "y|fr|echo"),
		callback("cq-4", 42, "zh-hans", 42, "private", 5, ""),
		callback("cq-5", 42, "en", 42, "private", 5, "a|en|"+strings.Repeat("x", 70)),
	}
	// A button on an inline message has no chat to answer in.
	inline := callback("cq-6", 42, "en", 42, "private", 5, "a|en|echo")
	delete(inline["callback_query"].(map[string]any), "message")
	inline["callback_query"].(map[string]any)["inline_message_id"] = "im"
	h.api.Push(append(forged, inline)...)
	acks := h.api.WaitCalls(t, "answerCallbackQuery", 6)
	h.stop(t)
	texts := map[string]string{}
	for _, c := range acks {
		texts[c.Fields["callback_query_id"]] = c.Fields["text"]
	}
	for id, lang := range map[string]knowledge.Lang{"cq-1": "en", "cq-2": "en", "cq-3": "en", "cq-4": "zh-Hans", "cq-5": "en", "cq-6": "en"} {
		if want := bot.Text(bot.MsgUnknownButton, lang); texts[id] != want {
			t.Errorf("%s: %q, want %q", id, texts[id], want)
		}
	}
	if n := len(h.api.Calls("answerCallbackQuery")); n != 6 {
		t.Errorf("%d answerCallbackQuery calls, want one per press (6)", n)
	}
	if s := h.api.Sent(); len(s) != 0 {
		t.Errorf("sent %v for forged buttons", s)
	}
}

func TestFeedbackReachesTheSink(t *testing.T) {
	h := startBot(t, &fakeAnswerer{}, nil)
	h.api.Push(privateMsg(42, "en", "how do I log out"))
	answer := h.api.WaitSent(t, 1)[0]
	up := answer.Markup.InlineKeyboard[0][0].CallbackData
	// Pressed twice: counted once.
	h.api.Push(callback("cq-1", 42, "en", 42, "private", answer.ID, up), callback("cq-2", 42, "en", 42, "private", answer.ID, up))
	acks := h.api.WaitCalls(t, "answerCallbackQuery", 2)
	for _, a := range acks {
		if want := bot.Text(bot.MsgThanksFeedback, knowledge.English); a.Fields["text"] != want {
			t.Errorf("answerCallbackQuery text %q, want %q", a.Fields["text"], want)
		}
	}
	edits := h.api.WaitCalls(t, "editMessageReplyMarkup", 1)
	if edits[0].Int("message_id") != int64(answer.ID) || edits[0].Int("chat_id") != 42 {
		t.Errorf("buttons removed from %v, want message %d in chat 42", edits[0].Fields, answer.ID)
	}

	// In a group, a vote leaves the buttons for the others.
	h.api.Push(callback("cq-3", 7, "en", testGroup, "supergroup", 500, "n|en|echo"))
	h.api.WaitCalls(t, "answerCallbackQuery", 3)
	h.stop(t)
	fb := h.sink.feedback()
	if len(fb) != 2 {
		t.Fatalf("sink got %+v, want 2 votes", fb)
	}
	sort.Slice(fb, func(i, j int) bool { return fb[i].User > fb[j].User })
	want := []bot.Feedback{
		{Adapter: "telegram", User: "7", EntryID: "echo", Lang: knowledge.English, Helpful: false},
		{Adapter: "telegram", User: "42", EntryID: "echo", Lang: knowledge.English, Helpful: true},
	}
	for i := range want {
		if fb[i].Time.IsZero() {
			t.Errorf("vote %d has no time", i)
		}
		fb[i].Time = time.Time{}
		if fb[i] != want[i] {
			t.Errorf("vote %d: %+v, want %+v", i, fb[i], want[i])
		}
	}
	if n := len(h.api.Calls("editMessageReplyMarkup")); n != 1 {
		t.Errorf("%d edits, want 1 (none in groups)", n)
	}

	t.Run("sink fails", func(t *testing.T) {
		h := startBot(t, &fakeAnswerer{}, nil)
		h.sink.mu.Lock()
		h.sink.fail = true
		h.sink.mu.Unlock()
		h.api.Push(callback("cq-1", 42, "en", 42, "private", 9, "y|en|echo"))
		ack := h.api.WaitCalls(t, "answerCallbackQuery", 1)[0]
		if want := bot.Text(bot.MsgError, knowledge.English); ack.Fields["text"] != want {
			t.Errorf("answerCallbackQuery text %q, want %q", ack.Fields["text"], want)
		}
		// The vote did not count: pressing again records it.
		h.sink.mu.Lock()
		h.sink.fail = false
		h.sink.mu.Unlock()
		h.api.Push(callback("cq-2", 42, "en", 42, "private", 9, "y|en|echo"))
		h.api.WaitCalls(t, "answerCallbackQuery", 2)
		h.stop(t)
		if fb := h.sink.feedback(); len(fb) != 1 {
			t.Errorf("sink got %+v after a retry, want the vote", fb)
		}
	})
}

func TestTooManyRequests(t *testing.T) {
	tooMany := `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`
	t.Run("then success", func(t *testing.T) {
		t.Parallel()
		h := startBot(t, &fakeAnswerer{}, nil)
		h.api.SetHook(func(method string, attempt int) (int, string, bool) {
			return 429, tooMany, method == "sendMessage" && attempt == 1
		})
		start := time.Now()
		h.api.Push(privateMsg(42, "en", "hello"))
		got := h.api.WaitSent(t, 1)[0]
		if waited := time.Since(start); waited < time.Second {
			t.Errorf("retried after %v, before the retry_after of 1s", waited)
		}
		attempts := h.api.Calls("sendMessage")
		if len(attempts) != 2 || attempts[0].Status != 429 || attempts[0].Fields["text"] != got.Text {
			t.Errorf("attempts %+v, want a 429 then the same message again", attempts)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		t.Parallel()
		h := startBot(t, &fakeAnswerer{}, func(c *Config) { c.MaxRetries = 1 })
		h.api.SetHook(func(method string, attempt int) (int, string, bool) { return 429, tooMany, method == "sendMessage" })
		h.api.Push(privateMsg(42, "en", "hello"))
		waitFor(t, "giving up", func() bool { return strings.Contains(h.logs.String(), "reply not sent") })
		h.stop(t)
		if n := len(h.api.Calls("sendMessage")); n != 2 {
			t.Errorf("%d attempts, want 2 (MaxRetries 1)", n)
		}
	})
}

func TestWebhook(t *testing.T) {
	const secret = "webhook-Secret_for-tests-0123456789"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ans := &fakeAnswerer{}
	h := startBot(t, ans, func(c *Config) {
		c.WebhookURL = "https://bot.example.com/tg/hook"
		c.WebhookSecret = secret
	}, WithListener(ln))

	sw := h.api.Calls("setWebhook")[0]
	if sw.Fields["url"] != "https://bot.example.com/tg/hook" || sw.Fields["secret_token"] != secret {
		t.Errorf("setWebhook %v", sw.Fields)
	}
	if n := len(h.api.Calls("deleteWebhook")); n != 0 {
		t.Errorf("deleteWebhook called in webhook mode")
	}

	url := "http://" + ln.Addr().String() + "/tg/hook"
	update := func(id int, text string) string {
		return fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"U"},"text":%q}}`, id, id, text)
	}
	post := func(method, url, secret, body string) int {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		if secret != "" {
			req.Header.Set(secretHeader, secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	cases := []struct {
		name, method, url, secret, body string
		want                            int
	}{
		{"no secret", "POST", url, "", update(1, "intruder one"), 401},
		{"wrong secret", "POST", url, "wrong", update(2, "intruder two"), 401},
		{"secret prefix", "POST", url, secret[:10], update(3, "intruder three"), 401},
		{"too large", "POST", url, secret, `{"update_id":4,"x":"` + strings.Repeat("a", 1<<20) + `"}`, 413},
		{"not JSON", "POST", url, secret, `{"update_id":`, 400},
		{"not an update", "POST", url, secret, `[1,2]`, 400},
		{"GET", "GET", url, secret, "", 405},
		{"other path", "POST", "http://" + ln.Addr().String() + "/other", secret, update(5, "elsewhere"), 404},
		{"good", "POST", url, secret, update(6, "authorized question"), 200},
		{"delivered again", "POST", url, secret, update(6, "authorized question"), 200},
	}
	for _, c := range cases {
		if got := post(c.method, c.url, c.secret, c.body); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	got := h.api.WaitSent(t, 1)[0]
	if got.ReplyTo != 6 || !strings.Contains(got.Text, "authorized question") {
		t.Errorf("answered %q replying to %d, want the authorized question (6)", got.Text, got.ReplyTo)
	}
	h.stop(t)
	if q := ans.asked(); !slices.Equal(q, []string{"authorized question"}) {
		t.Errorf("the engine was asked %q, want only the authorized question", q)
	}
	if n := len(h.api.Sent()); n != 1 {
		t.Errorf("%d messages sent, want 1", n)
	}
	if n := len(h.api.Calls("getUpdates")); n != 0 {
		t.Errorf("polled in webhook mode")
	}
}

func TestWebhookMountedByTheRuntime(t *testing.T) {
	h := startBot(t, &fakeAnswerer{}, func(c *Config) {
		c.WebhookURL = "https://bot.example.com/hook"
		c.ListenAddr = "" // the runtime serves Handler
	})
	srv := httptest.NewServer(h.bot.Handler())
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/hook", strings.NewReader(`{"update_id":1,"message":{"message_id":9,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"U"},"text":"mounted"}}`))
	req.Header.Set(secretHeader, h.bot.cfg.WebhookSecret) // generated
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := h.api.WaitSent(t, 1)[0]; got.ReplyTo != 9 {
		t.Errorf("reply to %d, want 9", got.ReplyTo)
	}
	if got := h.api.Calls("setWebhook")[0].Fields["secret_token"]; got != h.bot.cfg.WebhookSecret {
		t.Errorf("registered secret %q, want the generated one", got)
	}
}

func TestForumTopicReply(t *testing.T) {
	h := startBot(t, &fakeAnswerer{}, nil)
	h.api.Push(with(with(groupMsg(5, "/ask in a topic"), "is_topic_message", true), "message_thread_id", 77))
	if got := h.api.WaitSent(t, 1)[0]; got.Thread != 77 {
		t.Errorf("reply in thread %d, want 77", got.Thread)
	}
}

func TestHandlerBeforeRun(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	cfg.WebhookURL = "https://bot.example.com/hook"
	cfg.WebhookSecret = "secret-0123456789"
	b, err := New(cfg, &fakeAnswerer{})
	if err != nil {
		t.Fatal(err)
	}
	srv := http.Server{Handler: b.Handler()}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()
	req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/hook", strings.NewReader(`{"update_id":1}`))
	req.Header.Set(secretHeader, cfg.WebhookSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d before Run, want 503 so Telegram delivers it again", resp.StatusCode)
	}
}

func TestThousandQuestionsAtOnce(t *testing.T) {
	eng := realEngine(t)
	h := startBot(t, eng, func(c *Config) { c.UserBurst = 10 })
	questions := []string{"网页版怎么退出", "how do I log out of WhatsApp Web", "怎么开启两步验证", "網頁版怎麼登出", "hello", "怎么删除账号", "微信怎么退出登录"}
	var updates []map[string]any
	for i := range 1000 {
		u := int64(1 + i%100)
		updates = append(updates, privateMsg(u, "en", questions[i%len(questions)]))
	}
	ids := h.api.Push(updates...)
	h.api.WaitSent(t, 1000)
	h.stop(t)
	sent := h.api.Sent()
	if len(sent) != 1000 {
		t.Errorf("%d messages sent, want 1000", len(sent))
	}
	want := map[[2]int64]bool{}
	for i, id := range ids {
		want[[2]int64{1 + int64(i%100), int64(id)}] = true
	}
	seen := map[[2]int64]bool{}
	for _, s := range sent {
		k := [2]int64{s.Chat, int64(s.ReplyTo)}
		if seen[k] {
			t.Errorf("message %d in chat %d answered twice", s.ReplyTo, s.Chat)
		}
		if !want[k] {
			t.Errorf("reply to unknown message %d in chat %d", s.ReplyTo, s.Chat)
		}
		seen[k] = true
	}
}

// TestShutdownLosesNoUpdate stops the bot in the middle of a flood: the
// updates confirmed to Telegram (below the last offset asked for) must be
// exactly those answered, each once; Telegram delivers the others again
// after a restart.
func TestShutdownLosesNoUpdate(t *testing.T) {
	h := startBot(t, &fakeAnswerer{}, nil)
	var us []map[string]any
	for i := range 300 {
		us = append(us, privateMsg(int64(1000+i), "en", "question"))
	}
	ids := h.api.Push(us...)
	h.api.WaitSent(t, 1)
	h.stop(t)
	answered := map[int]int{}
	for _, s := range h.api.Sent() {
		answered[s.ReplyTo]++
	}
	confirmed := h.api.Confirmed()
	n := 0
	for i, u := range us {
		isConfirmed := u["update_id"].(int64) < confirmed
		if isConfirmed {
			n++
		}
		switch got := answered[ids[i]]; {
		case isConfirmed && got != 1:
			t.Errorf("update %d was confirmed to Telegram and answered %d times", u["update_id"], got)
		case !isConfirmed && got != 0:
			t.Errorf("update %d was answered but not confirmed: Telegram would deliver it again", u["update_id"])
		}
	}
	t.Logf("%d updates confirmed and answered", n)
}

// TestPacingHoldsOnlyTheBusyChat: a chat waiting for its turn does not hold
// up the others.
func TestPacingHoldsOnlyTheBusyChat(t *testing.T) {
	h := startBot(t, &fakeAnswerer{}, func(c *Config) {
		c.ChatEvery, c.MaxSendDelay = time.Hour, 2*time.Hour
		c.ShutdownTimeout = 100 * time.Millisecond
	})
	h.api.Push(privateMsg(42, "en", "first"), privateMsg(42, "en", "second"))
	other := h.api.Push(privateMsg(43, "en", "other chat"))[0]
	waitFor(t, "the other chat's answer", func() bool {
		return slices.ContainsFunc(h.api.Sent(), func(s sentMessage) bool { return s.ReplyTo == other })
	})
	h.stop(t) // the second answer to chat 42 would wait an hour: cancelled
	n := 0
	for _, s := range h.api.Sent() {
		if s.Chat == 42 {
			n++
		}
	}
	if n != 1 {
		t.Errorf("chat 42 got %d messages, want 1 (one an hour)", n)
	}
}

func TestFloodControl(t *testing.T) {
	h := startBot(t, &fakeAnswerer{}, func(c *Config) { c.UserEvery, c.UserBurst = time.Minute, 5 })
	var flood []map[string]any
	for i := range 8 {
		flood = append(flood, privateMsg(42, "en", fmt.Sprint("question ", i)))
	}
	h.api.Push(flood...)
	h.api.WaitSent(t, 6)
	sentinel := h.api.Push(privateMsg(43, "en", "another user"))[0]
	waitFor(t, "the other user's answer", func() bool {
		return slices.ContainsFunc(h.api.Sent(), func(s sentMessage) bool { return s.ReplyTo == sentinel })
	})
	h.stop(t)
	var answers, notices int
	for _, s := range h.api.Sent() {
		switch {
		case s.Chat != 42:
		case s.Text == html.EscapeString(bot.Text(bot.MsgSlowDown, knowledge.English)):
			notices++
		default:
			answers++
		}
	}
	if answers != 5 || notices != 1 {
		t.Errorf("%d answers and %d notices, want 5 and 1", answers, notices)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	h := startBot(t, &fakeAnswerer{}, nil)
	ids := h.api.Push(privateMsg(42, "en", "panic"), privateMsg(43, "en", "after the panic"))
	sent := h.api.WaitSent(t, 2)
	byReply := map[int]string{}
	for _, s := range sent {
		byReply[s.ReplyTo] = s.Text
	}
	if got, want := byReply[ids[0]], html.EscapeString(bot.Text(bot.MsgError, knowledge.English)); got != want {
		t.Errorf("after a panic the user got %q, want %q", got, want)
	}
	if !strings.HasPrefix(byReply[ids[1]], "<b>Answer: after the panic</b>") {
		t.Errorf("the next question got %q", byReply[ids[1]])
	}
	if !strings.Contains(h.logs.String(), "panic while handling an update") {
		t.Errorf("the panic was not logged")
	}
	// The panic value held the token: stop checks the logs do not.
}

func TestEngineErrorIsPolite(t *testing.T) {
	h := startBot(t, &fakeAnswerer{}, nil)
	h.api.Push(privateMsg(42, "zh-hans", "fail"))
	if got, want := h.api.WaitSent(t, 1)[0].Text, html.EscapeString(bot.Text(bot.MsgError, knowledge.SimplifiedChinese)); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMalformedUpdatesAreSurvived(t *testing.T) {
	h := startBot(t, &fakeAnswerer{}, nil)
	noFrom := privateMsg(50, "en", "no sender")
	delete(noFrom["message"].(map[string]any), "from")
	nullMessage := callback("cq-1", 42, "en", 42, "private", 1, "a|en|echo")
	nullMessage["callback_query"].(map[string]any)["message"] = nil
	ids := h.api.Push(
		// bot_command entities out of range: the library's command
		// matcher would slice out of bounds.
		with(groupMsg(51, "hi"), "entities", []any{entity("bot_command", 5, 10)}),
		with(privateMsg(52, "en", "/ask"), "entities", []any{entity("bot_command", 0, 99)}),
		with(groupMsg(53, "@FaqTestBot"), "entities", []any{entity("mention", -3, 100), entity("mention", 4, -1), entity("mention", 1<<30, 1<<30)}),
		with(groupMsg(54, "😀@FaqTestBot q"), "entities", []any{entity("mention", 1, 11)}), // cuts the emoji's surrogate pair
		noFrom,
		map[string]any{"edited_message": privateMsg(55, "en", "edited")["message"]},
		map[string]any{"poll": map[string]any{"id": "p"}},
		nullMessage,
		privateMsg(56, "en", "sentinel"),
	)
	waitFor(t, "the sentinel's answer", func() bool {
		return slices.ContainsFunc(h.api.Sent(), func(s sentMessage) bool { return s.ReplyTo == ids[len(ids)-1] })
	})
	h.stop(t)
	replies := map[int]string{}
	for _, s := range h.api.Sent() {
		replies[s.ReplyTo] = s.Text
	}
	if len(replies) != 2 {
		t.Errorf("replies %v, want only the /ask usage and the sentinel", replies)
	}
	if got := replies[ids[1]]; got != html.EscapeString(bot.Text(bot.MsgAskUsage, knowledge.English)) {
		t.Errorf("/ask with a bad entity: %q", got)
	}
	if n := len(h.api.Calls("answerCallbackQuery")); n != 1 {
		t.Errorf("%d answerCallbackQuery calls, want 1", n)
	}
}

func TestShutdownFinishesAnswersInFlight(t *testing.T) {
	ans := &fakeAnswerer{started: make(chan struct{}), release: make(chan struct{})}
	h := startBot(t, ans, nil)
	h.api.Push(privateMsg(42, "en", "slow"))
	<-ans.started
	h.cancel()
	select {
	case err := <-h.done:
		t.Fatalf("Run returned (%v) with an answer in flight", err)
	default:
	}
	close(ans.release)
	select {
	case err := <-h.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	if n := len(h.api.Sent()); n != 1 {
		t.Errorf("%d messages sent by the time Run returned, want the answer in flight", n)
	}
	h.done <- nil // for stop
}

func TestShutdownTimeoutCancelsAnswers(t *testing.T) {
	ans := &fakeAnswerer{started: make(chan struct{}), release: make(chan struct{})}
	h := startBot(t, ans, func(c *Config) { c.ShutdownTimeout = 100 * time.Millisecond })
	h.api.Push(privateMsg(42, "en", "slow"))
	<-ans.started
	h.stop(t) // returns although the answer never finishes
}

func TestTokenNeverInErrors(t *testing.T) {
	t.Run("Validate", func(t *testing.T) {
		c := DefaultConfig()
		c.Token = "123456:has spaces and secrets"
		c.WebhookSecret = "bad secret!"
		err := c.Validate()
		if err == nil || strings.Contains(err.Error(), "has spaces") || strings.Contains(err.Error(), "bad secret") {
			t.Errorf("Validate: %v", err)
		}
	})
	t.Run("unreachable server", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		cfg := testConfig("http://" + addr)
		cfg.RetryFor = time.Second // a refused connection is retried that long
		b, err := New(cfg, &fakeAnswerer{}, WithLogger(discardLogger()))
		if err != nil {
			t.Fatal(err)
		}
		err = b.Run(context.Background())
		if err == nil || strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), strings.Split(testToken, ":")[1]) {
			t.Errorf("Run: %v", err)
		}
	})
	t.Run("error echoing the URL", func(t *testing.T) {
		h := startBot(t, &fakeAnswerer{}, nil)
		h.api.SetHook(func(method string, _ int) (int, string, bool) {
			return 400, `{"ok":false,"error_code":400,"description":"Bad Request: /bot` + testToken + `/sendMessage"}`, method == "sendMessage"
		})
		h.api.Push(privateMsg(42, "en", "hello"))
		waitFor(t, "the failure logged", func() bool { return strings.Contains(h.logs.String(), "reply not sent") })
		if !strings.Contains(h.logs.String(), "[redacted]") {
			t.Errorf("the error was not redacted:\n%s", h.logs.String())
		}
		// stop checks the logs hold no token
	})
}

func TestRunTwice(t *testing.T) {
	h := startBot(t, &fakeAnswerer{}, nil)
	if err := h.bot.Run(context.Background()); err == nil {
		t.Error("second Run: no error")
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
