package bot

import (
	"fmt"
	"testing"
	"time"

	"faqbot/knowledge"
)

func TestUserLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewUserLimiter(2*time.Second, 5, 100)
	l.now = func() time.Time { return now }
	var got []Verdict
	for i := 0; i < 8; i++ {
		got = append(got, l.Allow("u1"))
	}
	want := []Verdict{Allowed, Allowed, Allowed, Allowed, Allowed, Notify, Drop, Drop}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("verdicts %v, want %v", got, want)
	}
	if v := l.Allow("u2"); v != Allowed {
		t.Errorf("another user: %v, want Allowed", v)
	}
	now = now.Add(2 * time.Second)
	if v := l.Allow("u1"); v != Allowed {
		t.Errorf("after the refill: %v, want Allowed", v)
	}
}

func TestUserLimiterBoundsMemory(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewUserLimiter(time.Second, 1, 10)
	l.now = func() time.Time { return now }
	for i := 0; i < 1000; i++ {
		l.Allow(fmt.Sprint("user", i))
		now = now.Add(time.Millisecond)
	}
	if n := len(l.users); n > 10 {
		t.Errorf("remembers %d users, want at most 10", n)
	}
}

func TestPayload(t *testing.T) {
	p := Payload{Action: Choose, ID: "web-log-out", Lang: knowledge.TraditionalChinese}
	got, err := ParsePayload(p.Encode())
	if err != nil || got != p {
		t.Errorf("round trip: %+v, %v; want %+v", got, err, p)
	}
	for _, bad := range []string{"", "a", "a|en", "x|en|web-log-out", "a|fr|web-log-out", "a|en|Web_Log", "a|en|", "ab|en|x", "a|en|" + string(make([]byte, 70))} {
		if _, err := ParsePayload(bad); err == nil {
			t.Errorf("ParsePayload(%q) accepted a bad payload", bad)
		}
	}
}

func TestMessagesInEveryLanguage(t *testing.T) {
	for m := range messages {
		for _, l := range knowledge.Supported {
			if Text(m, l) == "" {
				t.Errorf("message %d has no %s text", m, l)
			}
		}
	}
	for _, l := range knowledge.Supported {
		if len(Examples[l]) != 3 {
			t.Errorf("%s has %d examples, want 3", l, len(Examples[l]))
		}
	}
}
