package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"faqbot/bot"
	"faqbot/knowledge"
	"faqbot/search"
)

// The fake Bot API server's bot.
const (
	testToken    = "123456:AAF-test_Token-0123456789abcdefXYZ"
	testBotID    = 123456
	testUsername = "FaqTestBot"
)

// fakeAPI is a Bot API server on 127.0.0.1 for the real go-telegram/bot
// client: it serves queued updates to getUpdates (long polling with short
// waits, honouring offsets as Telegram does), answers the methods the bot
// uses, and records every call but getUpdates.
type fakeAPI struct {
	srv *httptest.Server

	mu         sync.Mutex
	queue      []queued
	nextUpdate int64
	nextMsg    int
	calls      []call
	counts     map[string]int
	polls      int
	confirmed  int64         // the highest offset asked for: updates below it are confirmed
	wake       chan struct{} // closed when updates are queued
	// hook, when set, may answer a call instead of the fake: attempt
	// counts the calls of that method so far, this one included.
	hook func(method string, attempt int) (status int, body string, ok bool)
}

type queued struct {
	id   int64
	body json.RawMessage
}

// call is one request the bot made.
type call struct {
	Method string
	Fields map[string]string
	Status int // what the fake answered
	Result int // message_id of a sent message
}

func (c call) int(field string) int64 {
	n, _ := strconv.ParseInt(c.Fields[field], 10, 64)
	return n
}

func (c call) json(field string, v any) error { return json.Unmarshal([]byte(c.Fields[field]), v) }

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{nextUpdate: 1000, nextMsg: 1, counts: map[string]int{}, wake: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) URL() string { return f.srv.URL }

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		writeJSON(w, 404, `{"ok":false,"error_code":404,"description":"Not Found"}`)
		return
	}
	if token != testToken {
		writeJSON(w, 401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
		return
	}
	fields := map[string]string{}
	r.ParseMultipartForm(10 << 20) // the library's multipart, or a plain form
	for k, v := range r.Form {
		fields[k] = v[0]
	}
	// Read to the end, so the server notices when the client hangs up
	// (a long poll cancelled at shutdown).
	io.Copy(io.Discard, r.Body)
	if method == "getUpdates" {
		f.getUpdates(w, r, fields)
		return
	}
	f.mu.Lock()
	f.counts[method]++
	attempt := f.counts[method]
	hook := f.hook
	f.mu.Unlock()
	c := call{Method: method, Fields: fields, Status: 200}
	if hook != nil {
		if status, body, ok := hook(method, attempt); ok {
			c.Status = status
			f.record(c)
			writeJSON(w, status, body)
			return
		}
	}
	switch method {
	case "getMe":
		writeJSON(w, 200, fmt.Sprintf(`{"ok":true,"result":{"id":%d,"is_bot":true,"first_name":"FAQ","username":%q}}`, testBotID, testUsername))
	case "deleteWebhook", "setWebhook", "setMyCommands", "answerCallbackQuery":
		writeJSON(w, 200, `{"ok":true,"result":true}`)
	case "sendMessage", "editMessageReplyMarkup":
		f.mu.Lock()
		id := f.nextMsg
		f.nextMsg++
		f.mu.Unlock()
		if method == "sendMessage" {
			c.Result = id
		} else {
			id = int(c.int("message_id"))
		}
		msg, _ := json.Marshal(map[string]any{
			"message_id": id, "date": 1, "text": fields["text"],
			"chat": map[string]any{"id": c.int("chat_id"), "type": "private"},
			"from": map[string]any{"id": testBotID, "is_bot": true, "first_name": "FAQ"},
		})
		writeJSON(w, 200, `{"ok":true,"result":`+string(msg)+`}`)
	default:
		c.Status = 404
		writeJSON(w, 404, `{"ok":false,"error_code":404,"description":"Not Found: method not found"}`)
	}
	f.record(c)
}

func (f *fakeAPI) record(c call) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
}

func (f *fakeAPI) getUpdates(w http.ResponseWriter, r *http.Request, fields map[string]string) {
	offset, _ := strconv.ParseInt(fields["offset"], 10, 64)
	wait, _ := strconv.Atoi(fields["timeout"])
	deadline := time.NewTimer(min(time.Duration(wait)*time.Second, 2*time.Second))
	defer deadline.Stop()
	for {
		f.mu.Lock()
		f.polls++
		f.confirmed = max(f.confirmed, offset)
		// Telegram forgets the updates below the offset: they are confirmed.
		for len(f.queue) > 0 && f.queue[0].id < offset {
			f.queue = f.queue[1:]
		}
		if len(f.queue) > 0 || wait == 0 {
			batch := f.queue[:min(len(f.queue), 100)]
			var buf bytes.Buffer
			buf.WriteString(`{"ok":true,"result":[`)
			for i, q := range batch {
				if i > 0 {
					buf.WriteByte(',')
				}
				buf.Write(q.body)
			}
			buf.WriteString(`]}`)
			f.mu.Unlock()
			writeJSON(w, 200, buf.String())
			return
		}
		wake := f.wake
		f.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			writeJSON(w, 200, `{"ok":true,"result":[]}`)
			return
		case <-r.Context().Done():
			return
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// push queues updates, giving each an update_id and its message a
// message_id; it returns the message ids (0 for updates without one).
func (f *fakeAPI) push(updates ...map[string]any) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]int, len(updates))
	for i, u := range updates {
		f.nextUpdate++
		u["update_id"] = f.nextUpdate
		if m, ok := u["message"].(map[string]any); ok {
			if _, set := m["message_id"]; !set {
				m["message_id"] = f.nextMsg
				f.nextMsg++
			}
			ids[i] = m["message_id"].(int)
		}
		body, err := json.Marshal(u)
		if err != nil {
			panic(err)
		}
		f.queue = append(f.queue, queued{id: f.nextUpdate, body: body})
	}
	close(f.wake)
	f.wake = make(chan struct{})
	return ids
}

// callsOf returns the calls of method, in order (all calls for "").
func (f *fakeAPI) callsOf(method string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// sentMessage is a message the bot sent successfully.
type sentMessage struct {
	ID      int
	Chat    int64
	Thread  int64
	ReplyTo int
	Text    string
	Parse   string
	Markup  keyboard
	call    call
}

func (f *fakeAPI) sent() []sentMessage {
	var out []sentMessage
	for _, c := range f.callsOf("sendMessage") {
		if c.Status != 200 {
			continue
		}
		s := sentMessage{ID: c.Result, Chat: c.int("chat_id"), Thread: c.int("message_thread_id"), Text: c.Fields["text"], Parse: c.Fields["parse_mode"], call: c}
		var rp struct {
			MessageID int `json:"message_id"`
		}
		if c.Fields["reply_parameters"] != "" {
			if err := c.json("reply_parameters", &rp); err != nil {
				panic(err)
			}
		}
		s.ReplyTo = rp.MessageID
		if c.Fields["reply_markup"] != "" {
			if err := c.json("reply_markup", &s.Markup); err != nil {
				panic(err)
			}
		}
		out = append(out, s)
	}
	return out
}

// waitFor polls cond until it holds, failing the test after a while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling interval, not synchronisation
	}
}

// waitSent waits until n messages were sent and returns them.
func (f *fakeAPI) waitSent(t *testing.T, n int) []sentMessage {
	t.Helper()
	var s []sentMessage
	waitFor(t, fmt.Sprintf("%d sent messages", n), func() bool { s = f.sent(); return len(s) >= n })
	return s
}

func (f *fakeAPI) waitCalls(t *testing.T, method string, n int) []call {
	t.Helper()
	var cs []call
	waitFor(t, fmt.Sprintf("%d %s calls", n, method), func() bool { cs = f.callsOf(method); return len(cs) >= n })
	return cs
}

// Updates, as Telegram sends them.

func user(id int64, lang string) map[string]any {
	u := map[string]any{"id": id, "is_bot": false, "first_name": "User" + strconv.FormatInt(id, 10)}
	if lang != "" {
		u["language_code"] = lang
	}
	return u
}

func privateMsg(from int64, lang, text string) map[string]any {
	return map[string]any{"message": map[string]any{
		"date": 1, "chat": map[string]any{"id": from, "type": "private"},
		"from": user(from, lang), "text": text,
	}}
}

const testGroup int64 = -1001234

func groupMsg(from int64, text string) map[string]any {
	return map[string]any{"message": map[string]any{
		"date": 1, "chat": map[string]any{"id": testGroup, "type": "supergroup", "title": "Group"},
		"from": user(from, "en"), "text": text,
	}}
}

func with(u map[string]any, key string, v any) map[string]any {
	u["message"].(map[string]any)[key] = v
	return u
}

func entity(typ string, offset, length int) map[string]any {
	return map[string]any{"type": typ, "offset": offset, "length": length}
}

// callback is a button press on message msgID in chat.
func callback(id string, from int64, lang string, chat int64, chatType string, msgID int, data string) map[string]any {
	return map[string]any{"callback_query": map[string]any{
		"id": id, "from": user(from, lang), "chat_instance": "ci", "data": data,
		"message": map[string]any{
			"message_id": msgID, "date": 1, "text": "…",
			"chat": map[string]any{"id": chat, "type": chatType},
			"from": map[string]any{"id": testBotID, "is_bot": true, "first_name": "FAQ"},
		},
	}}
}

// fakeAnswerer answers from a script: "clarify…" asks to choose among
// four entries, "panic" panics, "fail" fails, "slow" waits for release;
// anything else is answered by entry "echo" titled "Answer: <question>".
type fakeAnswerer struct {
	mu        sync.Mutex
	questions []string
	started   chan struct{} // "slow" closes it when it starts
	release   chan struct{} // and waits for this
}

var fakeEntries = map[string]string{
	"echo":                      "Echo",
	"web-log-out":               "Log out of WhatsApp Web",
	"remote-log-out":            "Log out a computer from your phone",
	"phone-delete-account":      "Delete your account",
	"tip-two-step-verification": "Turn on two-step verification",
}

func (a *fakeAnswerer) Answer(ctx context.Context, q string, _ ...search.AskOption) (search.Answer, error) {
	a.mu.Lock()
	a.questions = append(a.questions, q)
	a.mu.Unlock()
	switch {
	case q == "panic":
		panic("boom with " + testToken)
	case q == "fail":
		return search.Answer{}, errors.New("engine down")
	case q == "slow":
		close(a.started)
		select {
		case <-a.release:
		case <-ctx.Done():
			return search.Answer{}, ctx.Err()
		}
	case strings.HasPrefix(q, "clarify"):
		return search.Answer{
			Outcome: search.Clarify, ID: "web-log-out", Title: fakeEntries["web-log-out"], Lang: knowledge.English,
			Blocks: []knowledge.Block{{Kind: knowledge.Paragraph, Text: "…"}},
			Alternatives: []search.Candidate{
				{ID: "remote-log-out", Title: fakeEntries["remote-log-out"]},
				{ID: "phone-delete-account", Title: fakeEntries["phone-delete-account"]},
				{ID: "tip-two-step-verification", Title: fakeEntries["tip-two-step-verification"]},
			},
		}, nil
	}
	return search.Answer{
		Outcome: search.Answered, ID: "echo", Title: "Answer: " + q, Lang: knowledge.English, Confidence: 0.9,
		Blocks: []knowledge.Block{{Kind: knowledge.Steps, Items: []string{"Open <Settings> & tap", "Log out"}}},
	}, nil
}

func (a *fakeAnswerer) Lookup(id string, lang knowledge.Lang) (search.Answer, error) {
	title, ok := fakeEntries[id]
	if !ok {
		return search.Answer{}, fmt.Errorf("no entry %q", id)
	}
	return search.Answer{Outcome: search.Answered, ID: id, Title: title, Lang: lang, Confidence: 1,
		Blocks: []knowledge.Block{{Kind: knowledge.Paragraph, Text: "About " + id}}}, nil
}

func (a *fakeAnswerer) asked() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.questions...)
}

// memorySink keeps feedback; with fail set it refuses it.
type memorySink struct {
	mu   sync.Mutex
	got  []bot.Feedback
	fail bool
}

func (s *memorySink) RecordFeedback(_ context.Context, f bot.Feedback) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("disk full")
	}
	s.got = append(s.got, f)
	return nil
}

func (s *memorySink) feedback() []bot.Feedback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]bot.Feedback(nil), s.got...)
}

// lockedBuffer collects log output from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness runs a Bot against a fakeAPI until the test ends.
type harness struct {
	api    *fakeAPI
	bot    *Bot
	cfg    Config
	sink   *memorySink
	logs   *lockedBuffer
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// testConfig paces nothing, so tests run fast; the pacing has unit tests.
func testConfig(apiURL string) Config {
	c := DefaultConfig()
	c.Token = testToken
	c.APIURL = apiURL
	c.PollTimeout = time.Second
	c.RequestTimeout = 5 * time.Second
	c.ChatEvery = time.Microsecond
	c.GroupEvery = time.Microsecond
	c.GlobalPerSecond = 1e6
	c.ShutdownTimeout = 5 * time.Second
	return c
}

// startBot runs a bot with the test configuration (adjusted by adjust)
// and waits until it takes updates.
func startBot(t *testing.T, answerer bot.Answerer, adjust func(*Config), opts ...Option) *harness {
	t.Helper()
	h := &harness{api: newFakeAPI(t), sink: &memorySink{}, logs: &lockedBuffer{}, done: make(chan error, 1)}
	h.cfg = testConfig(h.api.URL())
	if adjust != nil {
		adjust(&h.cfg)
	}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := New(h.cfg, answerer, append([]Option{WithLogger(logger), WithFeedbackSink(h.sink)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.bot = b
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- b.Run(ctx) }()
	t.Cleanup(func() { h.stop(t) })
	if h.cfg.polling() {
		waitFor(t, "the first getUpdates", func() bool {
			h.api.mu.Lock()
			defer h.api.mu.Unlock()
			return h.api.polls > 0
		})
	} else {
		h.api.waitCalls(t, "setWebhook", 1)
		waitFor(t, "the bot to run", func() bool {
			b.mu.RLock()
			defer b.mu.RUnlock()
			return b.state == stateRunning
		})
	}
	return h
}

// stop ends Run, which must return nil, and checks the logs hold no secret.
func (h *harness) stop(t *testing.T) {
	t.Helper()
	h.once.Do(func() {
		h.cancel()
		select {
		case err := <-h.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("Run did not return after its context was cancelled")
		}
		logs := h.logs.String()
		for _, secret := range []string{testToken, strings.SplitN(testToken, ":", 2)[1], h.bot.cfg.WebhookSecret} {
			if strings.Contains(logs, secret) {
				t.Errorf("the logs contain a secret:\n%s", logs)
			}
		}
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
}
