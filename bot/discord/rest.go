package discord

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
)

// repeat says whether a REST request may be sent again after a failure
// that leaves unknown whether Discord acted on it.
type repeat bool

const (
	// safeToRepeat: sending it twice does no harm (reads, PUT, edits,
	// deletes, interaction callbacks, which Discord accepts only once).
	safeToRepeat repeat = true
	// sendOnce: it creates a message; after a 5xx or a broken connection
	// it may have been delivered, and a second try would post it twice.
	sendOnce repeat = false
)

// firstRetryDelay is the pause before the first retry after a 5xx or a
// network error; it doubles with each retry.
const firstRetryDelay = 200 * time.Millisecond

// call runs one REST request through discordgo with bounded retries. The
// session itself never retries (ShouldRetryOnRateLimit is off and
// MaxRestRetries is 0): discordgo's 429 handling retries without end and
// without a context, and it repeats any request, message creates included,
// after a 502.
//
// A 429 is retried after its retry_after, whatever the request, since
// Discord did not act on it, unless it asks for a wait longer than
// MaxRetryWait. A 5xx or a network error is retried only for requests that
// are safe to repeat, or when the connection was never made. At most
// MaxRetries retries in all.
func (b *Bot) call(ctx context.Context, what string, rep repeat, fn func(opts ...discordgo.RequestOption) error) error {
	backoff := firstRetryDelay
	for attempt := 0; ; attempt++ {
		status := new(responseStatus)
		err := fn(discordgo.WithContext(context.WithValue(ctx, responseStatusKey{}, status)))
		if err == nil {
			return nil
		}
		wait, retry := retryAfter(err, int(status.Load()), rep, backoff, b.cfg.MaxRetryWait)
		if !retry || attempt >= b.cfg.MaxRetries || ctx.Err() != nil {
			if ctx.Err() == nil {
				b.obs.AdapterError(adapterName, what)
			}
			return &restError{what: what, attempts: attempt + 1, err: err}
		}
		b.log.Debug("retrying Discord request", "request", what, "attempt", attempt+1, "wait", wait, "error", safeMessage(err))
		if !sleep(ctx, wait) {
			return &restError{what: what, attempts: attempt + 1, err: ctx.Err()}
		}
		backoff *= 2
	}
}

// responseStatus is where apiTransport notes the HTTP status of a
// request's response: discordgo reports some (a 502) as a plain error.
type responseStatus struct{ atomic.Int32 }

type responseStatusKey struct{}

// noteStatus records resp's status for call, when it is listening.
func noteStatus(resp *http.Response) {
	if s, ok := resp.Request.Context().Value(responseStatusKey{}).(*responseStatus); ok {
		s.Store(int32(resp.StatusCode))
	}
}

// retryAfter decides whether err, from a response with HTTP status (0
// without a response), is worth another try, and after how long.
func retryAfter(err error, status int, rep repeat, backoff, maxWait time.Duration) (time.Duration, bool) {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) {
		if rl.TooManyRequests == nil {
			return backoff, true
		}
		if rl.RetryAfter > maxWait {
			return 0, false
		}
		return max(rl.RetryAfter, 0), true
	}
	if status >= 500 {
		return backoff, bool(rep)
	}
	if status != 0 {
		return 0, false // Discord answered (a 4xx, a body discordgo could not read): the same again gets the same
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return 0, false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return backoff, true // nothing was sent
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return backoff, bool(rep)
	}
	return 0, false // a decoding error or the like: trying again gives the same
}

// sleep waits d or until ctx is done; it reports whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// restError is a failed REST request. Its message leaves out the URL:
// interaction and webhook URLs carry tokens.
type restError struct {
	what     string
	attempts int
	err      error
}

func (e *restError) Error() string {
	return fmt.Sprintf("%s (%d attempts): %s", e.what, e.attempts, safeMessage(e.err))
}

func (e *restError) Unwrap() error { return e.err }

// statusOf returns the HTTP status of a failed request, or 0.
func statusOf(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode
	}
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) {
		return http.StatusTooManyRequests
	}
	return 0
}

// safeMessage describes err without the request URL.
func safeMessage(err error) string {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) {
		if rl.TooManyRequests != nil {
			return fmt.Sprintf("rate limited, retry after %v", rl.RetryAfter)
		}
		return "rate limited"
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		msg := "HTTP " + re.Response.Status
		if re.Message != nil && re.Message.Message != "" {
			msg += ": " + re.Message.Message
		}
		return msg
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + " request: " + ue.Err.Error()
	}
	return err.Error()
}
