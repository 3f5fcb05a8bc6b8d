package telegram

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"golang.org/x/time/rate"
)

// pacer keeps outgoing messages within Telegram's limits: a token bucket
// per chat (tighter for groups) and one over all chats. A chat waiting for
// its bucket delays only its own replies. Chats whose bucket is full again
// are forgotten first, so memory stays bounded.
type pacer struct {
	private, group limit
	global         *rate.Limiter
	maxDelay       time.Duration
	max            int

	mu    sync.Mutex
	chats map[int64]*chatPace
	now   func() time.Time
}

type limit struct {
	every time.Duration
	burst int
}

type chatPace struct {
	lim   *rate.Limiter
	burst int
	seen  time.Time
}

// errChatBusy: the chat already has so many replies queued that this one
// would be stale before it went out.
var errChatBusy = errors.New("chat is flooding: reply dropped")

func newPacer(c Config) *pacer {
	return &pacer{
		private:  limit{c.ChatEvery, c.ChatBurst},
		group:    limit{c.GroupEvery, c.GroupBurst},
		global:   rate.NewLimiter(rate.Limit(c.GlobalPerSecond), max(1, int(c.GlobalPerSecond/10))),
		maxDelay: c.MaxSendDelay,
		max:      c.MaxChats,
		chats:    map[int64]*chatPace{},
		now:      time.Now,
	}
}

// reserve books the next slot for a message to chat and returns how long
// to wait for it, or errChatBusy when that is longer than maxDelay (and
// then books nothing).
func (p *pacer) reserve(chat int64, private bool) (time.Duration, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	st, ok := p.chats[chat]
	if !ok {
		if len(p.chats) >= p.max {
			p.evict(now)
		}
		l := p.group
		if private {
			l = p.private
		}
		st = &chatPace{lim: rate.NewLimiter(rate.Every(l.every), l.burst), burst: l.burst}
		p.chats[chat] = st
	}
	st.seen = now
	r := st.lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d > p.maxDelay {
		r.CancelAt(now)
		return 0, errChatBusy
	}
	return d, nil
}

// evict forgets the chats whose bucket is full again (they lose nothing),
// or failing that the longest idle one.
func (p *pacer) evict(now time.Time) {
	var oldest int64
	var oldestSeen time.Time
	found := false
	for id, st := range p.chats {
		if st.lim.TokensAt(now) >= float64(st.burst) {
			delete(p.chats, id)
			continue
		}
		if !found || st.seen.Before(oldestSeen) {
			oldest, oldestSeen, found = id, st.seen, true
		}
	}
	if len(p.chats) >= p.max && found {
		delete(p.chats, oldest)
	}
}

// wait blocks until a message may go to chat.
func (p *pacer) wait(ctx context.Context, chat int64, private bool) error {
	d, err := p.reserve(chat, private)
	if err != nil {
		return err
	}
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return p.global.Wait(ctx)
}

// call runs one Bot API request, retrying after a 429 Too Many Requests as
// long as Telegram asks (retry_after) within the configured bounds. Errors
// come back with the token and webhook secret redacted.
func (b *Bot) call(ctx context.Context, method string, do func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, b.cfg.RequestTimeout)
		err := do(rctx)
		cancel()
		if err == nil {
			return nil
		}
		var tooMany *tgbot.TooManyRequestsError
		if !errors.As(err, &tooMany) {
			b.observeError(ctx, method)
			return b.redact(fmt.Errorf("%s: %w", method, err))
		}
		wait := time.Duration(max(tooMany.RetryAfter, 1)) * time.Second
		if attempt >= b.cfg.MaxRetries || wait > b.cfg.MaxRetryAfter {
			b.observeError(ctx, method)
			return b.redact(fmt.Errorf("%s: gave up after %d attempts: %w", method, attempt+1, err))
		}
		b.log.Warn("Telegram asks to slow down; retrying", "method", method, "retry_after", wait, "attempt", attempt+1)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w", method, ctx.Err())
		}
	}
}

// observeError tells the observer that a call failed for good, unless the
// call was cancelled (a shutdown is not an error).
func (b *Bot) observeError(ctx context.Context, method string) {
	if ctx.Err() == nil {
		b.obs.AdapterError(adapterName, method)
	}
}

// redactedError hides secrets in an error's message while keeping the
// error chain for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with the token and webhook secret replaced in its
// message. The library puts the token in every request URL; it redacts
// the URLs it reports itself, and this covers everything else.
func (b *Bot) redact(err error) error {
	if err == nil {
		return nil
	}
	msg := b.redactor.Replace(err.Error())
	return &redactedError{msg: msg, err: err}
}

func newRedactor(secrets ...string) *strings.Replacer {
	var pairs []string
	for _, s := range secrets {
		if len(s) >= 8 {
			pairs = append(pairs, s, "[redacted]")
		}
	}
	return strings.NewReplacer(pairs...)
}
