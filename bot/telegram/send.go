package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
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

// call runs one Bot API request, retrying what Telegram did not act on or
// may not have received: a 429 Too Many Requests after the retry_after it
// asks (unless that is over MaxRetryAfter), and a 5xx, a timeout or a
// network error (a reset, a refused connection) after a pause that doubles
// from firstRetryDelay up to MaxBackoff. It tries at most MaxRetries times
// more, and starts no retry later than RetryFor after the first attempt.
// A 4xx other than 429 is final: the same request gets the same answer.
//
// The retries trade a possible duplicate for a loss: a request whose
// response was lost (a 5xx from a proxy, a reset, a timeout) may have been
// carried out all the same, and a repeated sendMessage then shows the
// answer twice. For a support bot a repeated answer is the smaller harm.
// Errors come back with the token and webhook secret redacted.
func (b *Bot) call(ctx context.Context, method string, do func(context.Context) error) error {
	start := time.Now()
	backoff := firstRetryDelay
	for attempt := 0; ; attempt++ {
		status := new(atomic.Int32)
		rctx, cancel := context.WithTimeout(context.WithValue(ctx, statusKey{}, status), b.cfg.RequestTimeout)
		err := do(rctx)
		timedOut := errors.Is(rctx.Err(), context.DeadlineExceeded)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", method, ctx.Err())
		}
		wait, why, retry := retryable(err, int(status.Load()), timedOut, backoff)
		if !retry {
			b.observeError(ctx, method)
			return b.redact(fmt.Errorf("%s: %w", method, err))
		}
		if why == "rate limited" && wait > b.cfg.MaxRetryAfter {
			b.observeError(ctx, method)
			return b.redact(fmt.Errorf("%s: asked to wait %v: %w", method, wait, err))
		}
		if attempt >= b.cfg.MaxRetries || time.Since(start)+wait > b.cfg.RetryFor {
			b.observeError(ctx, method)
			return b.redact(fmt.Errorf("%s: gave up after %d attempts: %w", method, attempt+1, err))
		}
		level := slog.LevelDebug // answers in flight through an outage would flood the log
		if method != "sendMessage" {
			level = slog.LevelWarn
		}
		b.log.Log(ctx, level, "Bot API call failed; retrying", "method", method, "reason", why, "retry_in", wait, "attempt", attempt+1, "err", b.redact(err))
		if !sleep(ctx, wait) {
			return fmt.Errorf("%s: %w", method, ctx.Err())
		}
		if why != "rate limited" {
			backoff = min(backoff*2, b.cfg.MaxBackoff)
		}
	}
}

// retryable decides whether a failed call is worth another try, and after
// how long. status is the HTTP status of the response (0 without one).
func retryable(err error, status int, timedOut bool, backoff time.Duration) (wait time.Duration, why string, retry bool) {
	if tooMany, ok := errors.AsType[*tgbot.TooManyRequestsError](err); ok {
		return time.Duration(max(tooMany.RetryAfter, 1)) * time.Second, "rate limited", true
	}
	switch {
	case status >= 500:
		return backoff, "server error", true
	case status != 0:
		return 0, "", false // Telegram answered: a 4xx, or a body that does not read
	case timedOut:
		return backoff, "timeout", true
	}
	if _, ok := errors.AsType[*url.Error](err); ok {
		return backoff, "network error", true
	}
	return 0, "", false
}

// statusKey is the context key under which call asks statusTransport for
// the HTTP status of a response: the library reports a 5xx only as text.
type statusKey struct{}

// statusTransport notes the status of each Bot API response for call.
type statusTransport struct{ next http.RoundTripper }

func (t statusTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		if s, ok := req.Context().Value(statusKey{}).(*atomic.Int32); ok {
			s.Store(int32(resp.StatusCode))
		}
	}
	return resp, err
}

// CloseIdleConnections passes http.Client.CloseIdleConnections on.
func (t statusTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
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
	msg := b.redactor.String(err.Error())
	return &redactedError{msg: msg, err: err}
}
