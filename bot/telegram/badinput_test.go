package telegram

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"faqbot/bot"
	"faqbot/bot/bottest"
	"faqbot/knowledge"
)

// checkReplies fails t for every sendMessage and answerCallbackQuery that
// checkOutgoing refuses, or that shows one of the inputs as it was sent.
func checkReplies(t *testing.T, calls []call, inputs []bottest.Input) {
	t.Helper()
	for _, c := range calls {
		switch c.Method {
		case "getMe", "setMyCommands", "deleteWebhook", "setWebhook":
			continue // start-up
		}
		for _, p := range checkOutgoing(c) {
			t.Errorf("%s: %s", c.Method, p)
		}
		for _, in := range inputs {
			if len(in.Text) >= 8 && strings.Contains(c.Fields["text"], in.Text) {
				t.Errorf("%s echoes the %s input raw: %.100q", c.Method, in.Name, c.Fields["text"])
			}
		}
	}
}

// TestBadInputs sends every bad input as a private message and as a group
// /ask, and every forged button as a press, through the fake Bot API to the
// real engine: each gets a clear reply (an answer, a decline, the /ask
// usage, a notice that the button is unknown) or, for a message with no
// text, nothing, within a deadline; every reply is valid Telegram HTML
// within the limits and echoes nothing raw.
func TestBadInputs(t *testing.T) {
	h := startBot(t, realEngine(t), nil)
	inputs := bottest.BadInputs()
	type expect struct {
		name  string
		msg   int
		reply bool
	}
	var expects []expect
	for i, in := range inputs {
		ids := h.api.Push(privateMsg(int64(100+i), "en", in.Text), groupMsg(int64(200+i), "/ask "+in.Text))
		// A message with no text is a sticker or a photo: not a question.
		expects = append(expects, expect{"private " + in.Name, ids[0], in.Text != ""}, expect{"group /ask " + in.Name, ids[1], true})
	}
	forged := bottest.ForgedPayloads()
	const forgedOn = 99_999 // the message the forged buttons are on
	for i, p := range forged {
		h.api.Push(callback(fmt.Sprint("cq-", i), int64(300+i), "zh-hans", int64(300+i), "private", forgedOn, p))
	}
	sentinel := h.api.Push(privateMsg(999, "en", "sentinel"))[0]

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	replied := map[int]int{}
	for {
		replied = map[int]int{}
		for _, s := range h.api.Sent() {
			replied[s.ReplyTo]++
		}
		missing := 0
		for _, e := range expects {
			if e.reply && replied[e.msg] == 0 {
				missing++
			}
		}
		if missing == 0 && replied[sentinel] > 0 && len(h.api.Calls("answerCallbackQuery")) >= len(forged) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d bad inputs unanswered after 30 s", missing)
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	h.stop(t)

	for _, e := range expects {
		switch n := replied[e.msg]; {
		case e.reply && n != 1:
			t.Errorf("%s: %d replies, want 1", e.name, n)
		case !e.reply && n != 0:
			t.Errorf("%s: %d replies, want none", e.name, n)
		}
	}
	for _, s := range h.api.Sent() {
		if s.ReplyTo == forgedOn {
			t.Errorf("a forged button got a message: %q", s.Text)
		}
	}
	acks := h.api.Calls("answerCallbackQuery")
	if len(acks) != len(forged) {
		t.Errorf("%d answerCallbackQuery calls for %d forged presses", len(acks), len(forged))
	}
	for _, a := range acks {
		if want := bot.Text(bot.MsgUnknownButton, knowledge.SimplifiedChinese); a.Fields["text"] != want {
			t.Errorf("forged press %s: notice %q, want %q", a.Fields["callback_query_id"], a.Fields["text"], want)
		}
	}
	checkReplies(t, h.api.Calls(""), inputs)
	t.Logf("%d bad inputs × 2 and %d forged buttons: each answered or refused cleanly", len(inputs), len(forged))
}

// TestBadInputsThroughTheWebhook posts the bad inputs as webhook bodies,
// byte for byte (bytes that are not UTF-8 included), and bodies that are
// not updates or too large: each request gets its status at once, each
// question a reply.
func TestBadInputsThroughTheWebhook(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const secret = "webhook-Secret_for-bad-inputs-0123"
	h := startBot(t, realEngine(t), func(c *Config) {
		c.WebhookURL = "https://bot.example.com/hook"
		c.WebhookSecret = secret
	}, WithListener(ln))
	url := "http://" + ln.Addr().String() + "/hook"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	post := func(body string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
		req.Header.Set(secretHeader, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("post: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	inputs := bottest.BadInputs()
	want := 0
	for i, in := range inputs {
		// Written by hand, so that bytes that are not UTF-8 reach the bot
		// as they are (json.Marshal would replace them).
		body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1,"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"U"},"text":"%s"}}`,
			i+1, i+1, 100+i, 100+i, jsonEscapeKeepingBytes(in.Text))
		if got := post(body); got != 200 {
			t.Errorf("%s: status %d, want 200", in.Name, got)
		}
		if in.Text != "" {
			want++
		}
	}
	for _, c := range []struct {
		name, body string
		want       int
	}{
		{"over 1 MiB", `{"update_id":900,"message":{"text":"` + strings.Repeat("a", 1<<20) + `"}}`, 413},
		{"16 MiB", strings.Repeat("[", 16<<20), 413},
		{"not JSON", "\xff\xfe\x00", 400},
		{"deeply nested", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), 400},
		{"a number", "42", 400},
		{"empty", "", 400},
	} {
		if got := post(c.body); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	for h.api.SentCount() < want {
		if ctx.Err() != nil {
			t.Fatalf("%d of %d replies after 30 s", h.api.SentCount(), want)
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	h.stop(t)
	if got := h.api.SentCount(); got != want {
		t.Errorf("%d replies, want %d", got, want)
	}
	checkReplies(t, h.api.Calls(""), inputs)
}

// jsonEscapeKeepingBytes escapes s for a JSON string but leaves bytes that
// are not UTF-8 as they are.
func jsonEscapeKeepingBytes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
