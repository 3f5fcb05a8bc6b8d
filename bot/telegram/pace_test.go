package telegram

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func testPacer(adjust func(*Config)) (*pacer, *time.Time) {
	c := DefaultConfig()
	if adjust != nil {
		adjust(&c)
	}
	p := newPacer(c)
	now := time.Unix(1000, 0)
	p.now = func() time.Time { return now }
	return p, &now
}

func TestPacerPerChat(t *testing.T) {
	p, now := testPacer(nil) // 1/s per private chat, one per 3 s per group
	wait := func(chat int64, private bool) time.Duration {
		d, err := p.reserve(chat, private)
		if err != nil {
			t.Fatalf("chat %d: %v", chat, err)
		}
		return d
	}
	if d := wait(1, true); d != 0 {
		t.Errorf("first message waits %v", d)
	}
	if d := wait(1, true); d != time.Second {
		t.Errorf("second message to the same chat waits %v, want 1s", d)
	}
	if d := wait(2, true); d != 0 {
		t.Errorf("another chat waits %v: one chat's pace must not hold up others", d)
	}
	if d := wait(-3, false); d != 0 {
		t.Errorf("first group message waits %v", d)
	}
	if d := wait(-3, false); d != 3*time.Second {
		t.Errorf("second group message waits %v, want 3s (20 a minute)", d)
	}
	*now = now.Add(10 * time.Second)
	if d := wait(1, true); d != 0 {
		t.Errorf("after a pause the chat waits %v", d)
	}
}

func TestPacerDropsStaleReplies(t *testing.T) {
	p, _ := testPacer(func(c *Config) { c.MaxSendDelay = 2500 * time.Millisecond })
	var err error
	n := 0
	for ; err == nil && n < 10; n++ {
		_, err = p.reserve(1, true)
	}
	if err != errChatBusy || n != 4 {
		t.Errorf("after %d messages: %v; want the 4th (3s away) refused", n, err)
	}
	// A refused reply books nothing: the next one may still go in time.
	if _, err := p.reserve(2, true); err != nil {
		t.Errorf("another chat: %v", err)
	}
}

func TestPacerBoundsMemory(t *testing.T) {
	p, now := testPacer(func(c *Config) { c.MaxChats = 10 })
	for i := range 1000 {
		p.reserve(int64(i), true)
		*now = now.Add(time.Millisecond)
	}
	if n := len(p.chats); n > 10 {
		t.Errorf("remembers %d chats, want at most 10", n)
	}
}

func TestPacerWaitHonoursContext(t *testing.T) {
	c := DefaultConfig()
	c.ChatEvery = time.Hour
	c.MaxSendDelay = 2 * time.Hour
	p := newPacer(c)
	if err := p.wait(context.Background(), 1, true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.wait(ctx, 1, true); err != context.Canceled {
		t.Errorf("wait with a cancelled context: %v", err)
	}
}

func TestRecentSet(t *testing.T) {
	s := newRecentSet(3)
	for i := range 5 {
		if !s.add(fmt.Sprint(i)) {
			t.Errorf("%d is new", i)
		}
	}
	if s.add("4") || s.add("3") {
		t.Error("recent keys seen as new")
	}
	if !s.add("0") {
		t.Error("an old key is still remembered")
	}
	if len(s.keys) > 3 {
		t.Errorf("remembers %d keys", len(s.keys))
	}
}
