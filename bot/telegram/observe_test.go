package telegram

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"faqbot/bot"
	"faqbot/bot/telegram/telegramtest"
	"faqbot/search"
)

// recordingObserver keeps what a bot.Observer is told, as strings.
type recordingObserver struct {
	mu     sync.Mutex
	events []string
}

func (o *recordingObserver) add(e string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, e)
}

func (o *recordingObserver) FloodDropped(a string)     { o.add("flood " + a) }
func (o *recordingObserver) AdapterError(a, op string) { o.add("error " + a + " " + op) }
func (o *recordingObserver) Connected(a string, up bool) {
	o.add(fmt.Sprintf("connected %s %v", a, up))
}
func (o *recordingObserver) count(e string) (n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, x := range o.events {
		if x == e {
			n++
		}
	}
	return n
}

// askerAnswerer records the asker in the context of each question.
type askerAnswerer struct {
	fakeAnswerer
	mu     sync.Mutex
	askers []bot.Asker
}

func (a *askerAnswerer) Answer(ctx context.Context, q string, opts ...search.AskOption) (search.Answer, error) {
	asker, _ := bot.AskerFrom(ctx)
	a.mu.Lock()
	a.askers = append(a.askers, asker)
	a.mu.Unlock()
	return a.fakeAnswerer.Answer(ctx, q, opts...)
}

func TestObserverAndAsker(t *testing.T) {
	obs := &recordingObserver{}
	ans := &askerAnswerer{}
	h := startBot(t, ans, func(c *Config) { c.UserEvery, c.UserBurst = time.Minute, 2 }, WithObserver(obs))
	if obs.count("connected telegram true") != 1 {
		t.Errorf("not told the bot connected: %v", obs.events)
	}

	// Four questions from one user with a burst of two: two answered, two
	// dropped by flood control (one with a notice).
	for range 4 {
		h.api.Push(privateMsg(42, "en", "hello"))
	}
	waitFor(t, "two flood drops", func() bool { return obs.count("flood telegram") == 2 })
	h.api.WaitSent(t, 3) // two answers and the notice
	ans.mu.Lock()
	if len(ans.askers) != 2 || ans.askers[0] != (bot.Asker{Adapter: "telegram", User: "42"}) {
		t.Errorf("askers %+v, want telegram/42 twice", ans.askers)
	}
	ans.mu.Unlock()

	// A clarification, then its button: the look-up carries who pressed
	// it. A vote and a press held back by flood control look nothing up.
	h.api.Push(privateMsg(44, "en", "clarify me"))
	clar := h.api.WaitSent(t, 4)[3]
	choice := clar.Markup.InlineKeyboard[1][0].CallbackData // a|en|remote-log-out
	h.api.Push(callback("cq-1", 44, "en", 44, "private", clar.ID, choice))
	chosen := h.api.WaitSent(t, 5)[4]
	h.api.Push(callback("cq-2", 44, "en", 44, "private", chosen.ID, "y|en|remote-log-out"))
	h.api.Push(callback("cq-3", 42, "en", 42, "private", clar.ID, choice))
	h.api.WaitCalls(t, "answerCallbackQuery", 3)
	if got, want := ans.chosen(), []lookup{{bot.Asker{Adapter: "telegram", User: "44"}, "remote-log-out"}}; !slices.Equal(got, want) {
		t.Errorf("look-ups %+v, want %+v", got, want)
	}
	if n := obs.count("flood telegram"); n != 3 {
		t.Errorf("%d flood drops, want 3 (the press of a user over the limit)", n)
	}

	// A send Telegram refuses for good.
	h.api.SetHook(func(method string, _ int) (int, string, bool) {
		return 400, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, method == "sendMessage"
	})
	h.api.Push(privateMsg(43, "en", "hello"))
	waitFor(t, "the failed send to be observed", func() bool { return obs.count("error telegram sendMessage") == 1 })

	h.stop(t)
	if obs.count("connected telegram false") != 1 {
		t.Errorf("not told the bot stopped: %v", obs.events)
	}
	if n := obs.count("error telegram getUpdates"); n != 0 {
		t.Errorf("a clean stop counted %d polling errors", n)
	}
}

// A Bot API outage takes the bot out of readiness until polling works
// again.
func TestObserverSeesPollingOutage(t *testing.T) {
	obs := &recordingObserver{}
	h := startBot(t, &fakeAnswerer{}, nil, WithObserver(obs))
	h.api.SetFaults(func(method string) telegramtest.Fault {
		if method == "getUpdates" {
			return telegramtest.BadGateway
		}
		return telegramtest.Fault{}
	})
	waitFor(t, "the outage to be observed", func() bool {
		return obs.count("connected telegram false") == 1 && obs.count("error telegram getUpdates") >= 1
	})
	h.api.SetFaults(nil)
	waitFor(t, "the recovery to be observed", func() bool { return obs.count("connected telegram true") == 2 })
	h.stop(t)
	if n := obs.count("connected telegram false"); n != 2 {
		t.Errorf("told %d times the bot was down, want 2 (outage, stop): %v", n, obs.events)
	}
}

// WithObserver(nil) keeps the default observer: a flood drop and the
// connection are told to nobody, and nothing panics.
func TestNilObserver(t *testing.T) {
	h := startBot(t, &fakeAnswerer{}, func(c *Config) { c.UserEvery, c.UserBurst = time.Minute, 1 }, WithObserver(nil))
	for range 3 {
		h.api.Push(privateMsg(42, "en", "hello"))
	}
	h.api.WaitSent(t, 2) // the answer and the flood notice
}
