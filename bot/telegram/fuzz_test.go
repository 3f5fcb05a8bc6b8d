package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"faqbot/bot"
	"faqbot/bot/bottest"
	"faqbot/search/searchtest"
)

// recorder is a Bot API in memory, as a RoundTripper: the bot's real
// client sends it requests, it records them and answers like Telegram.
type recorder struct {
	mu    sync.Mutex
	calls []call
	next  int
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	method := req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:]
	fields := map[string]string{}
	if err := req.ParseMultipartForm(1 << 20); err == nil {
		for k, v := range req.MultipartForm.Value {
			fields[k] = v[0]
		}
	}
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
	}
	r.mu.Lock()
	r.next++
	id := r.next
	r.calls = append(r.calls, call{Method: method, Fields: fields, Status: 200, Result: id})
	r.mu.Unlock()
	body := `{"ok":true,"result":true}`
	if method == "sendMessage" || method == "editMessageReplyMarkup" {
		body = fmt.Sprintf(`{"ok":true,"result":{"message_id":%d,"date":1,"chat":{"id":1,"type":"private"}}}`, id)
	}
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"application/json"}},
		Body:    io.NopCloser(strings.NewReader(body)),
		Request: req,
	}, nil
}

func (r *recorder) take() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

// offlineBot is a Bot taking updates without Run: answering with the real
// engine, sending to rt, pacing and flood control out of the way.
func offlineBot(tb testing.TB, rt http.RoundTripper, logs io.Writer, webhook bool) *Bot {
	cfg := testConfig("http://api.invalid")
	cfg.UserBurst = 1 << 30
	cfg.UserEvery = 1
	if webhook {
		cfg.WebhookURL = "https://bot.example.com/hook"
		cfg.WebhookSecret = "fuzz-secret-0123456789"
	}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := New(cfg, bot.EngineAnswerer{Engine: searchtest.Engine(tb)}, WithHTTPClient(&http.Client{Transport: rt}), WithLogger(logger))
	if err != nil {
		tb.Fatal(err)
	}
	b.me.Store(&identity{id: testBotID, username: testUsername})
	b.work, b.state = context.Background(), stateRunning
	return b
}

// checkOutgoing says what is wrong with one Bot API call the bot made in
// answer to strangers: every message valid Telegram HTML within 4,096
// UTF-16 units, buttons carrying data the bot reads back, callback notices
// within 200 characters, and no other method.
func checkOutgoing(c call) []string {
	var bad []string
	switch c.Method {
	case "sendMessage":
		text := c.Fields["text"]
		if c.Fields["parse_mode"] != "HTML" {
			bad = append(bad, fmt.Sprintf("parse mode %q", c.Fields["parse_mode"]))
		}
		if err := bottest.TelegramHTML(text); err != nil {
			bad = append(bad, fmt.Sprintf("not Telegram HTML (%v): %q", err, text))
		}
		if n := bottest.UTF16Len(text); n > MaxMessageLen || strings.TrimSpace(text) == "" {
			bad = append(bad, fmt.Sprintf("text of %d UTF-16 units: %.80q", n, text))
		}
		if m := c.Fields["reply_markup"]; m != "" {
			var kb keyboard
			if err := json.Unmarshal([]byte(m), &kb); err != nil {
				bad = append(bad, fmt.Sprintf("reply_markup %s: %v", m, err))
			}
			for _, row := range kb.InlineKeyboard {
				for _, b := range row {
					if _, err := bot.ParsePayload(b.CallbackData); err != nil || len(b.CallbackData) > 64 || b.Text == "" || !utf8.ValidString(b.Text) {
						bad = append(bad, fmt.Sprintf("button %+v", b))
					}
				}
			}
		}
	case "answerCallbackQuery":
		if n := utf8.RuneCountInString(c.Fields["text"]); n > 200 {
			bad = append(bad, fmt.Sprintf("callback notice of %d characters", n))
		}
	case "editMessageReplyMarkup":
	default:
		bad = append(bad, "unexpected method "+c.Method)
	}
	return bad
}

// FuzzHandleUpdate feeds any bytes to the bot as an update, through both
// entries (a getUpdates batch's item, and a webhook request), with the
// real engine answering: no panic, and everything sent passes
// checkOutgoing. Seeds: testdata/fuzz/FuzzHandleUpdate.
func FuzzHandleUpdate(f *testing.F) {
	f.Add([]byte(`{"update_id":1,"message":{"message_id":5,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"U","language_code":"zh-hans"},"text":"网页版怎么退出"}}`))
	f.Add([]byte(`{"update_id":2,"callback_query":{"id":"c","from":{"id":42,"is_bot":false,"first_name":"U"},"chat_instance":"ci","data":"a|en|web-log-out","message":{"message_id":5,"date":1,"chat":{"id":42,"type":"private"}}}}`))
	// Every bad input as a private question and a group /ask, every forged
	// button as a press; more seeds in testdata/fuzz/FuzzHandleUpdate.
	seed := func(u map[string]any) {
		u["update_id"] = 7
		if m, ok := u["message"].(map[string]any); ok {
			m["message_id"] = 3
		}
		b, err := json.Marshal(u)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, in := range bottest.BadInputs() {
		seed(privateMsg(42, "zh-hant", in.Text))
		seed(groupMsg(43, "/ask "+in.Text))
	}
	for _, p := range bottest.ForgedPayloads() {
		seed(callback("cq", 42, "en", 42, "private", 5, p))
	}
	rec := &recorder{}
	logs := &lockedBuffer{}
	polling := offlineBot(f, rec, logs, false)
	webhook := offlineBot(f, rec, logs, true)
	hook := webhook.Handler()
	f.Fuzz(func(t *testing.T, data []byte) {
		wd := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("update not handled within 10 s: %q", data)) })
		defer wd.Stop()
		polling.offsets = newOffsets()
		polling.updates, webhook.updates = newRecentSet(8), newRecentSet(8)
		polling.takeRaw(context.Background(), data)
		polling.inflight.Wait()

		req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(data))
		req.Header.Set(secretHeader, webhook.cfg.WebhookSecret)
		w := httptest.NewRecorder()
		hook.ServeHTTP(w, req)
		webhook.inflight.Wait()
		if w.Code != 200 && w.Code != 400 {
			t.Errorf("webhook answered %d", w.Code)
		}

		for _, c := range rec.take() {
			for _, p := range checkOutgoing(c) {
				t.Errorf("%s: %s", c.Method, p)
			}
		}
		if l := logs.String(); strings.Contains(l, "panic while handling") {
			t.Fatalf("a panic was recovered:\n%s", l)
		}
		logs.reset()
	})
}
