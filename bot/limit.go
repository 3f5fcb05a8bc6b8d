package bot

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// UserLimiter is per-user flood control: each user may ask Burst questions
// at once and then one every Every. Users idle for a while are forgotten,
// so memory stays bounded however many strangers write.
type UserLimiter struct {
	every time.Duration
	burst int
	max   int

	mu      sync.Mutex
	users   map[string]*userState
	now     func() time.Time
	refused func() // called (outside mu) for every message not allowed
}

type userState struct {
	lim      *rate.Limiter
	seen     time.Time
	notified bool // told once that they are going too fast
}

// NewUserLimiter allows burst questions at once per user, refilled at one
// per every, remembering at most maxUsers users (the idlest are forgotten
// first).
func NewUserLimiter(every time.Duration, burst, maxUsers int) *UserLimiter {
	if burst < 1 {
		burst = 1
	}
	if maxUsers < 1 {
		maxUsers = 1
	}
	return &UserLimiter{every: every, burst: burst, max: maxUsers, users: map[string]*userState{}, now: time.Now}
}

// OnRefused sets f to be called for every message Allow does not allow
// (Notify or Drop), for example to count them. Set it before use.
func (l *UserLimiter) OnRefused(f func()) { l.refused = f }

// Verdict is what to do with one message.
type Verdict int

// The verdicts of Allow.
const (
	// Allowed: answer it.
	Allowed Verdict = iota
	// Notify: drop it, and tell the user (once per flood) to slow down.
	Notify
	// Drop: drop it silently.
	Drop
)

// Allow decides about one message from user.
func (l *UserLimiter) Allow(user string) Verdict {
	v := l.allow(user)
	if v != Allowed && l.refused != nil {
		l.refused()
	}
	return v
}

func (l *UserLimiter) allow(user string) Verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	st, ok := l.users[user]
	if !ok {
		if len(l.users) >= l.max {
			l.evict(now)
		}
		st = &userState{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.users[user] = st
	}
	st.seen = now
	if st.lim.AllowN(now, 1) {
		st.notified = false
		return Allowed
	}
	if st.notified {
		return Drop
	}
	st.notified = true
	return Notify
}

// evict forgets users whose bucket is full again (they lose nothing), or
// failing that the longest idle one.
func (l *UserLimiter) evict(now time.Time) {
	full := time.Duration(l.burst) * l.every
	var oldest string
	var oldestSeen time.Time
	for u, st := range l.users {
		if now.Sub(st.seen) >= full {
			delete(l.users, u)
			continue
		}
		if oldest == "" || st.seen.Before(oldestSeen) {
			oldest, oldestSeen = u, st.seen
		}
	}
	if len(l.users) >= l.max && oldest != "" {
		delete(l.users, oldest)
	}
}
