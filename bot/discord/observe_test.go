package discord

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"faqbot/bot"
	"faqbot/knowledge"
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

func TestObserverAndAsker(t *testing.T) {
	t.Parallel()
	f := newFakeDiscord(t)
	obs := &recordingObserver{}
	var mu sync.Mutex
	var askers, choosers []bot.Asker
	var chosen []string
	a := &stubAnswerer{answer: func(ctx context.Context, q string) (search.Answer, error) {
		asker, _ := bot.AskerFrom(ctx)
		mu.Lock()
		askers = append(askers, asker)
		mu.Unlock()
		return answerFor(q), nil
	}, lookupFn: func(ctx context.Context, id string, lang knowledge.Lang) (search.Answer, error) {
		asker, _ := bot.AskerFrom(ctx)
		mu.Lock()
		choosers, chosen = append(choosers, asker), append(chosen, id)
		mu.Unlock()
		return answerFor(id), nil
	}}
	cfg := testConfig(f)
	cfg.UserEvery, cfg.UserBurst = time.Minute, 2
	h := start(t, f, cfg, a, WithObserver(obs))
	if obs.count("connected discord true") != 1 {
		t.Errorf("not told the bot connected: %v", obs.events)
	}

	// Four direct messages from one user with a burst of two: two
	// answered, two dropped by flood control (one with a notice).
	for i := range 4 {
		f.dispatch("MESSAGE_CREATE", message(fmt.Sprint("m", i), "4444", "", user(userID, false), "hello"))
	}
	waitFor(t, "two flood drops", func() bool { return obs.count("flood discord") == 2 })
	f.waitSent(t, routeMessages, 3)
	mu.Lock()
	if len(askers) != 2 || askers[0] != (bot.Asker{Adapter: "discord", User: userID}) {
		t.Errorf("askers %+v, want discord/%s twice", askers, userID)
	}
	mu.Unlock()

	// A clarification's button: the look-up carries who pressed it. A
	// vote and a press held back by flood control look nothing up.
	pressBy := func(id, who, data string) map[string]any {
		p := press(id, data)
		p["member"] = map[string]any{"user": user(who, false)}
		return p
	}
	f.dispatch("INTERACTION_CREATE", pressBy("i1", "5002", "a|en|remote-log-out"))
	f.dispatch("INTERACTION_CREATE", pressBy("i2", "5002", "y|en|remote-log-out"))
	f.dispatch("INTERACTION_CREATE", pressBy("i3", userID, "a|en|web-log-out"))
	f.waitSent(t, routeCallback, 2)
	waitFor(t, "the third flood drop", func() bool { return obs.count("flood discord") == 3 })
	mu.Lock()
	if !slices.Equal(choosers, []bot.Asker{{Adapter: "discord", User: "5002"}}) || !slices.Equal(chosen, []string{"remote-log-out"}) {
		t.Errorf("look-ups by %+v of %q, want discord/5002 choosing remote-log-out", choosers, chosen)
	}
	mu.Unlock()

	// A message Discord refuses for good.
	f.failAlways(routeMessages, fault{status: 403, body: `{"message":"Missing Access","code":50001}`})
	f.dispatch("MESSAGE_CREATE", message("m9", "4445", "", user("5001", false), "hello"))
	waitFor(t, "the failed send to be observed", func() bool { return obs.count("error discord send message") == 1 })
	f.failAlways(routeMessages, fault{})

	// A lost connection, then the reconnection.
	f.drop()
	waitFor(t, "the reconnection", func() bool { return obs.count("connected discord true") == 2 })
	if obs.count("connected discord false") != 1 || obs.count("error discord gateway") != 1 {
		t.Errorf("the lost connection was not observed: %v", obs.events)
	}

	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if obs.count("connected discord false") != 2 {
		t.Errorf("not told the bot stopped: %v", obs.events)
	}
}
