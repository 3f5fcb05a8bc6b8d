package telegram

import (
	"context"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"faqbot/bot/telegram/telegramtest"
)

// TestLoad: 200 users, each in their own private chat, ask 10 questions
// each, one every 2 s (within the flood limit of 5 per 10 s and the pacing
// of a message a second per chat), 2,000 questions in 20 s, answered by
// the real engine through the adapter with its production settings — but
// for the overall send rate: Telegram allows a bot about 30 messages a
// second across chats (more with paid broadcasts), and at that rate 2,000
// answers take 67 s by design; GlobalPerSecond is raised to 200 so the
// figures are the bot's. Every question is answered exactly once; after the
// burst the goroutines return to their number before it and the heap, once
// collected, stays within a generous bound. The figures are logged (make
// load runs this alone, without the race detector), not asserted.
func TestLoad(t *testing.T) {
	eng := realEngine(t)
	for _, q := range telegramtest.LoadQuestions {
		a, err := eng.Answer(context.Background(), q)
		if err != nil || len(Render(a)) != 1 {
			t.Fatalf("test premise: %q has a one-message answer (%v)", q, err)
		}
	}
	logs := &lockedBuffer{}
	info := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := startBot(t, eng, func(c *Config) {
		api := c.APIURL
		*c = DefaultConfig()
		c.Token, c.APIURL = testToken, api
		c.GlobalPerSecond = 200
	}, WithLogger(info))

	// Warm up (the engine's first answers, the connections), then take
	// the baseline.
	h.api.Push(privateMsg(1, "en", "hello"), privateMsg(2, "zh-hant", "網頁版怎麼登出"))
	h.api.WaitSent(t, 2)
	goroutinesBefore, heapBefore := settle(h.bot)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	report, err := telegramtest.RunLoad(ctx, h.api, telegramtest.DefaultLoad())
	t.Logf("load: %v", report)
	if err != nil {
		t.Fatal(err)
	}
	if report.Asked != 2000 || report.Answered != 2000 || report.Repeated != 0 {
		t.Errorf("%d asked, %d answered once, %d repeated; want 2000, 2000, 0", report.Asked, report.Answered, report.Repeated)
	}

	// Back to the baseline: the answers' goroutines end. Idle connections
	// are closed before both counts (the client keeps a few, each with its
	// goroutines, and the fake's); slack is for a connection opened by the
	// long poll meanwhile.
	const slack = 3
	var goroutinesAfter int
	var heapAfter uint64
	deadline := time.Now().Add(15 * time.Second)
	for {
		goroutinesAfter, heapAfter = settle(h.bot)
		if goroutinesAfter <= goroutinesBefore+slack || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // polling interval
	}
	t.Logf("load: goroutines %d before, %d after; heap after collection %.1f MB before, %.1f MB after",
		goroutinesBefore, goroutinesAfter, mb(heapBefore), mb(heapAfter))
	if goroutinesAfter > goroutinesBefore+slack {
		t.Errorf("%d goroutines after the burst, %d before: some did not end", goroutinesAfter, goroutinesBefore)
	}
	// What stays: the fake's record of 2,000 calls, and the bot's bounded
	// memories of users, chats and updates: a few MB.
	const bound = 48 << 20
	if heapAfter > heapBefore+bound {
		t.Errorf("heap after collection grew from %.1f MB to %.1f MB, beyond %d MB", mb(heapBefore), mb(heapAfter), bound>>20)
	}
	h.stop(t)
	if n := len(h.api.Sent()); n != 2002 {
		t.Errorf("%d messages sent, want 2,002", n)
	}
}

// settle closes the bot's idle connections, collects garbage and returns
// the number of goroutines and the bytes of live heap.
func settle(b *Bot) (goroutines int, heap uint64) {
	b.client.CloseIdleConnections()
	time.Sleep(50 * time.Millisecond) // for the connections' goroutines to see the close
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m.HeapAlloc
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }
