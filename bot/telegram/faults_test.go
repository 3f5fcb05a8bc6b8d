package telegram

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"faqbot/bot/bottest"
	"faqbot/bot/telegram/telegramtest"
)

// outage is a Bot API failing for window in every way it can, a fifth of
// the time each: a 500 with a Bot API error, a proxy's 502 page, 429 with
// retry_after, requests hanging until the client gives up, connections
// reset. It starts at the first sendMessage once armed.
type outage struct {
	window time.Duration
	armed  atomic.Bool
	start  atomic.Int64 // unix nanoseconds; 0 before it starts
}

var outageFaults = []struct {
	name  string
	fault telegramtest.Fault
}{
	{"500", telegramtest.ServerError},
	{"502 page", telegramtest.BadGateway},
	{"429 retry_after 2", telegramtest.TooManyAfter(2)},
	{"hang", telegramtest.Hang},
	{"reset", telegramtest.Reset},
}

func (o *outage) plan(method string) telegramtest.Fault {
	if method == "sendMessage" && o.armed.Load() {
		o.start.CompareAndSwap(0, time.Now().UnixNano())
	}
	s := o.start.Load()
	if s == 0 {
		return telegramtest.Fault{}
	}
	elapsed := time.Since(time.Unix(0, s))
	if elapsed >= o.window {
		return telegramtest.Fault{}
	}
	return outageFaults[int(elapsed*time.Duration(len(outageFaults))/o.window)].fault
}

func (o *outage) started() bool { return o.start.Load() != 0 }

func (o *outage) over() bool {
	s := o.start.Load()
	return s != 0 && time.Since(time.Unix(0, s)) >= o.window
}

// TestOutageLosesNothing: questions received before an outage of the Bot
// API (some answered, some taken and still being answered when it
// starts), during it (Telegram keeps them: getUpdates fails) and after it
// are each answered exactly once, and no update is confirmed to Telegram
// before its answer is sent.
func TestOutageLosesNothing(t *testing.T) {
	t.Parallel()
	o := &outage{window: 30 * time.Second}
	// Pauses of at most 2 s, so that every kind of fault, 6 s each, meets
	// both the polls and the answers' retries.
	h := startBot(t, &fakeAnswerer{}, func(c *Config) { c.RequestTimeout, c.MaxBackoff = 2*time.Second, 2*time.Second })
	h.api.SetFaults(o.plan)

	var mu sync.Mutex
	type asked struct {
		msg  int
		when string
	}
	var all []asked
	ask := func(when string, users ...int64) {
		var us []map[string]any
		for _, u := range users {
			us = append(us, privateMsg(u, "en", fmt.Sprintf("%s question from %d", when, u)))
		}
		ids := h.api.Push(us...)
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			all = append(all, asked{id, when})
		}
	}
	users := func(from, n int64) []int64 {
		var us []int64
		for i := range n {
			us = append(us, from+i)
		}
		return us
	}

	ask("before, answered", users(1, 5)...)
	h.api.WaitSent(t, 5)
	o.armed.Store(true)
	ask("before, in flight", users(100, 20)...)
	waitFor(t, "the outage to start", o.started)
	during := make(chan struct{})
	go func() {
		defer close(during)
		for u := int64(1000); !o.over(); u += 2 {
			ask("during", u, u+1)
			time.Sleep(2 * time.Second) // spacing the questions, not synchronisation
		}
	}()
	<-during
	recovered := time.Now()
	ask("after", users(5000, 20)...)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for len(h.api.Sent()) < len(all) {
		if ctx.Err() != nil {
			t.Fatalf("%d of %d questions answered a minute after the outage", len(h.api.Sent()), len(all))
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	lastAnswer := time.Since(recovered)
	h.stop(t)

	replies := map[int][]sentMessage{}
	for _, s := range h.api.Sent() {
		replies[s.ReplyTo] = append(replies[s.ReplyTo], s)
	}
	counts := map[string]int{}
	for _, a := range all {
		counts[a.when]++
		if n := len(replies[a.msg]); n != 1 {
			t.Errorf("%s: message %d answered %d times, want once", a.when, a.msg, n)
		}
	}
	if got, want := len(h.api.Sent()), len(all); got != want {
		t.Errorf("%d messages sent for %d questions", got, want)
	}

	// No update confirmed before its answer went out; all confirmed at the end.
	for _, p := range h.api.Pushed() {
		at, ok := h.api.ConfirmedAt(p.UpdateID)
		if !ok {
			t.Errorf("update %d never confirmed (Telegram would deliver it again)", p.UpdateID)
			continue
		}
		if r := replies[p.MessageID]; len(r) > 0 && at.Before(r[0].Call.At) {
			t.Errorf("update %d confirmed %v before its answer was sent", p.UpdateID, r[0].Call.At.Sub(at))
		}
	}

	faulted := h.api.Faulted()
	for _, k := range []string{"500", "502", "429", "hang", "reset"} {
		if faulted[k] == 0 {
			t.Errorf("no %s served during the outage: %v", k, faulted)
		}
	}
	failedSends := 0
	for _, c := range h.api.Calls("sendMessage") {
		if c.Status != 200 {
			failedSends++
		}
	}
	if failedSends == 0 {
		t.Errorf("no sendMessage failed: the outage did not hit answers in flight")
	}
	var whens []string
	for w, n := range counts {
		whens = append(whens, fmt.Sprintf("%s %d", w, n))
	}
	sort.Strings(whens)
	t.Logf("questions: %v; all answered once, the last %v after recovery; faults served %v; %d failed sendMessage attempts",
		whens, lastAnswer.Round(100*time.Millisecond), faulted, failedSends)
}

// TestRestartDuringOutage stops the bot while the Bot API is down and its
// answers are being retried: Run returns (the answers are cancelled at the
// shutdown timeout), none of their updates is confirmed, and the next run,
// once the API is back, answers each question exactly once.
func TestRestartDuringOutage(t *testing.T) {
	t.Parallel()
	api := telegramtest.NewFakeAPI(t)
	var phase atomic.Int32 // 0 up, 1 down from the first answer on, 2 up again
	api.SetFaults(func(method string) telegramtest.Fault {
		if method == "sendMessage" {
			phase.CompareAndSwap(0, 1)
		}
		if phase.Load() == 1 {
			return telegramtest.BadGateway
		}
		return telegramtest.Fault{}
	})
	logs := &lockedBuffer{}
	run := func() (stop func() error) {
		cfg := testConfig(api.URL())
		cfg.ShutdownTimeout, cfg.RequestTimeout = time.Second, time.Second
		b, err := New(cfg, &fakeAnswerer{}, WithLogger(debugLogger(logs)))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx) }()
		return func() error {
			cancel()
			select {
			case err := <-done:
				return err
			case <-time.After(20 * time.Second):
				return fmt.Errorf("Run did not return")
			}
		}
	}

	stop := run()
	var us []map[string]any
	for i := range 10 {
		us = append(us, privateMsg(int64(100+i), "en", fmt.Sprint("question ", i)))
	}
	ids := api.Push(us...)
	waitFor(t, "the outage", func() bool { return phase.Load() == 1 })
	began := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("first run: %v", err)
	}
	took := time.Since(began)
	for _, p := range api.Pushed() {
		if _, ok := api.ConfirmedAt(p.UpdateID); ok {
			t.Errorf("update %d confirmed though its answer never went out", p.UpdateID)
		}
	}

	phase.Store(2)
	stop = run()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for api.SentCount() < len(ids) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	if err := stop(); err != nil {
		t.Fatalf("second run: %v", err)
	}
	answered := map[int]int{}
	for _, s := range api.Sent() {
		answered[s.ReplyTo]++
	}
	for _, id := range ids {
		if answered[id] != 1 {
			t.Errorf("message %d answered %d times after the restart, want once", id, answered[id])
		}
	}
	for _, p := range api.Pushed() {
		if _, ok := api.ConfirmedAt(p.UpdateID); !ok {
			t.Errorf("update %d not confirmed after the second run", p.UpdateID)
		}
	}
	if leaks := bottest.Leaks(logs.String(), testToken, tokenSecret); len(leaks) > 0 {
		t.Errorf("the logs show %q", leaks)
	}
	t.Logf("stopped during the outage in %v; %d questions answered once after the restart", took.Round(10*time.Millisecond), len(ids))
}
