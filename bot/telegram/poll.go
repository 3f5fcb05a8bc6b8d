package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// Long polling is done here rather than by the library: its loop asks for
// the next batch with an offset past every update it has handed over, and
// getUpdates confirms to Telegram every update below the offset it is
// given. An update confirmed while its answer is still being sent (or
// retried through an outage) would be lost if the bot stopped then. Here
// the offset never passes an update whose answer is neither sent nor given
// up; the price is that while answers are in flight, Telegram hands their
// updates back with each batch (they are recognised and skipped).

// offsets tracks which updates may be confirmed to Telegram.
type offsets struct {
	mu      sync.Mutex
	next    int64              // one past the highest update taken
	pending map[int64]struct{} // taken, answer neither sent nor given up
	changed chan struct{}      // closed (and replaced) when an update finishes
}

func newOffsets() *offsets {
	return &offsets{pending: map[int64]struct{}{}, changed: make(chan struct{})}
}

// offset is what getUpdates may be called with: the lowest update still
// pending, or one past the last one taken (0 before the first).
func (o *offsets) offset() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	off := o.next
	for id := range o.pending {
		if id < off {
			off = id
		}
	}
	return off
}

// take records that update id is being handled. It reports false for an
// update taken before: one Telegram delivers again because the offset
// waits for it.
func (o *offsets) take(id int64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if id < o.next {
		return false
	}
	o.pending[id] = struct{}{}
	o.next = id + 1
	return true
}

// finish records that update id needs nothing more: it may be confirmed.
func (o *offsets) finish(id int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.pending, id)
	close(o.changed)
	o.changed = make(chan struct{})
}

// inFlight reports whether some update taken is not finished: then
// getUpdates returns at once, with those updates again.
func (o *offsets) inFlight() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.pending) > 0
}

// changes returns a channel closed at the next finish.
func (o *offsets) changes() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.changed
}

// Polling's pauses.
const (
	// firstRetryDelay is the first pause after a failed Bot API call (5xx,
	// timeout, network error); it doubles up to Config.MaxBackoff.
	firstRetryDelay = 250 * time.Millisecond
	// While answers are in flight, Telegram returns getUpdates at once,
	// with their updates again: the next call waits for one of them to
	// finish (but at least minPollGap after the last call), or maxPollGap.
	// An answer held up for long (paced, or retried through an outage)
	// thus costs five getUpdates a second, and delays new questions by
	// up to maxPollGap.
	minPollGap = 20 * time.Millisecond
	maxPollGap = 200 * time.Millisecond
	// maxBatchBytes bounds one getUpdates response: 100 updates of a few KB.
	maxBatchBytes = 32 << 20
	// batchLimit is the most updates one getUpdates returns (Telegram's
	// maximum).
	batchLimit = 100
)

// poll takes updates by long polling until ctx is done. A failing
// getUpdates is retried with a growing pause (at most MaxBackoff, or the
// retry_after of a 429); poll returns an error only when Telegram rejects
// the token (401), which no retry can fix.
func (b *Bot) poll(ctx context.Context) error {
	var backoff time.Duration
	var last time.Time
	for ctx.Err() == nil {
		if changed := b.offsets.changes(); b.offsets.inFlight() {
			if !sleep(ctx, minPollGap-time.Since(last)) {
				return nil
			}
			t := time.NewTimer(max(maxPollGap-time.Since(last), 0))
			select {
			case <-changed:
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
		}
		last = time.Now()
		raws, err := b.getUpdates(ctx, b.offsets.offset(), b.cfg.PollTimeout, batchLimit)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ae *apiError
			if errors.As(err, &ae) && ae.status == http.StatusUnauthorized {
				return fmt.Errorf("telegram: Telegram rejected the token (HTTP 401): check %s: %w", EnvToken, err)
			}
			b.obs.AdapterError(adapterName, "getUpdates")
			if backoff == 0 {
				b.obs.Connected(adapterName, false) // not ready until a poll succeeds again
			}
			backoff = min(max(2*backoff, firstRetryDelay), b.cfg.MaxBackoff)
			wait := backoff
			if errors.As(err, &ae) && ae.retryAfter > 0 {
				wait = min(max(wait, time.Duration(ae.retryAfter)*time.Second), b.cfg.MaxRetryAfter)
			}
			b.log.Warn("getUpdates failed; retrying", "retry_in", wait, "err", err)
			if !sleep(ctx, wait) {
				return nil
			}
			continue
		}
		if backoff != 0 {
			b.obs.Connected(adapterName, true)
		}
		backoff = 0
		for _, raw := range raws {
			if !b.takeRaw(ctx, raw) {
				return nil // stopping: the rest stays with Telegram
			}
		}
	}
	return nil
}

// takeRaw takes one update of a batch, unless it is in flight already. It
// reports false when the bot is stopping and the update was left for
// Telegram to deliver again. An update that does not decode is logged and
// skipped (it would fail the same way every time).
func (b *Bot) takeRaw(ctx context.Context, raw json.RawMessage) bool {
	var upd models.Update
	if err := json.Unmarshal(raw, &upd); err != nil {
		var id struct {
			ID int64 `json:"update_id"`
		}
		if json.Unmarshal(raw, &id) == nil && b.offsets.take(id.ID) {
			b.log.Warn("update not understood: skipped", "update", id.ID, "err", err)
			b.offsets.finish(id.ID)
		}
		return true
	}
	if !b.offsets.take(upd.ID) {
		return true
	}
	// Not taken (stopping): pending for good, so never confirmed.
	return b.dispatch(ctx, &upd, func() { b.offsets.finish(upd.ID) })
}

// confirm tells Telegram, once polling has stopped and the answers in
// flight are done, that the updates handled since the last getUpdates need
// not come again: one getUpdates with the final offset, limit 1 and no
// wait (an update it returns is not taken, and stays unconfirmed).
func (b *Bot) confirm() {
	off := b.offsets.offset()
	if off == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.RequestTimeout)
	defer cancel()
	if _, err := b.getUpdates(ctx, off, 0, 1); err != nil {
		b.log.Warn("could not confirm the last updates: Telegram may deliver them again", "offset", off, "err", err)
	}
}

// apiError is a Bot API call that Telegram (or a proxy before it)
// answered with an error.
type apiError struct {
	method     string
	status     int // HTTP status
	desc       string
	retryAfter int // seconds, from a 429
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d", e.method, e.status)
	if e.desc != "" {
		msg += ": " + e.desc
	}
	return msg
}

// getUpdates calls getUpdates. The library has no call for it (its polling
// loop is internal), so this is the request by hand.
func (b *Bot) getUpdates(ctx context.Context, offset int64, wait time.Duration, limit int) ([]json.RawMessage, error) {
	form := url.Values{
		"timeout":         {strconv.Itoa(int(wait / time.Second))},
		"limit":           {strconv.Itoa(limit)},
		"allowed_updates": {`["` + strings.Join(allowedUpdates, `","`) + `"]`},
	}
	if offset != 0 {
		form.Set("offset", strconv.FormatInt(offset, 10))
	}
	ctx, cancel := context.WithTimeout(ctx, wait+b.cfg.RequestTimeout)
	defer cancel()
	base := b.cfg.APIURL
	if base == "" {
		base = "https://api.telegram.org"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/bot"+b.cfg.Token+"/getUpdates", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, b.redact(fmt.Errorf("getUpdates: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, b.redact(fmt.Errorf("getUpdates: %w", err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBatchBytes))
	if err != nil {
		return nil, b.redact(fmt.Errorf("getUpdates: read the response: %w", err))
	}
	var r struct {
		OK          bool              `json:"ok"`
		Result      []json.RawMessage `json:"result"`
		Description string            `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, &apiError{method: "getUpdates", status: resp.StatusCode, desc: "response is not a Bot API answer"}
	}
	if !r.OK || resp.StatusCode != http.StatusOK {
		return nil, &apiError{method: "getUpdates", status: resp.StatusCode, desc: b.redactor.String(r.Description), retryAfter: r.Parameters.RetryAfter}
	}
	return r.Result, nil
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
