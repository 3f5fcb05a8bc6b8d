package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"faqbot/bot"
	"faqbot/bot/telegram/telegramtest"
	"faqbot/knowledge"
	"faqbot/search"
)

// The fake Bot API server (telegramtest) and its updates, under the
// names the tests use.
const (
	testToken    = telegramtest.Token
	testBotID    = telegramtest.BotID
	testUsername = telegramtest.Username
	testGroup    = telegramtest.Group
)

type (
	fakeAPI     = telegramtest.FakeAPI
	call        = telegramtest.Call
	sentMessage = telegramtest.SentMessage
)

var (
	newFakeAPI = telegramtest.NewFakeAPI
	waitFor    = telegramtest.WaitFor
	user       = telegramtest.User
	privateMsg = telegramtest.PrivateMessage
	groupMsg   = telegramtest.GroupMessage
	with       = telegramtest.With
	entity     = telegramtest.Entity
	callback   = telegramtest.Callback
)

// fakeAnswerer answers from a script: "clarify…" asks to choose among
// four entries, "panic" panics, "fail" fails, "slow" waits for release;
// anything else is answered by entry "echo" titled "Answer: <question>".
type fakeAnswerer struct {
	mu        sync.Mutex
	questions []string
	lookups   []lookup
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

func (a *fakeAnswerer) Lookup(ctx context.Context, id string, lang knowledge.Lang) (search.Answer, error) {
	asker, _ := bot.AskerFrom(ctx)
	a.mu.Lock()
	a.lookups = append(a.lookups, lookup{asker, id})
	a.mu.Unlock()
	title, ok := fakeEntries[id]
	if !ok {
		return search.Answer{}, fmt.Errorf("no entry %q", id)
	}
	return search.Answer{Outcome: search.Answered, ID: id, Title: title, Lang: lang, Confidence: 1,
		Blocks: []knowledge.Block{{Kind: knowledge.Paragraph, Text: "About " + id}}}, nil
}

// lookup is one call of Lookup: who chose which entry.
type lookup struct {
	Asker bot.Asker
	ID    string
}

// chosen returns the calls of Lookup so far.
func (a *fakeAnswerer) chosen() []lookup {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]lookup(nil), a.lookups...)
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

func (b *lockedBuffer) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
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
		waitFor(t, "the first getUpdates", func() bool { return h.api.Polls() > 0 })
	} else {
		h.api.WaitCalls(t, "setWebhook", 1)
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
