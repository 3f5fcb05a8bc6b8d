// Package telegramtest is a fake Telegram Bot API server on 127.0.0.1 for
// tests of the Telegram adapter, and of programs that run it: point
// Config.APIURL (or TELEGRAM_API_URL) at FakeAPI.URL and use Token. The
// fake serves queued updates to getUpdates as Telegram does (long polls,
// offsets that confirm), answers the methods the bot uses, records every
// call, and can be told to fail: 5xx, 429, hanging requests and reset
// connections. It also drives load (see RunLoad).
package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fake's bot.
const (
	Token    = "123456:AAF-test_Token-0123456789abcdefXYZ"
	BotID    = 123456
	Username = "FaqTestBot"
)

// Fault is how the fake fails one request instead of serving it. The zero
// Fault serves it.
type Fault struct {
	// Status, when set, is the HTTP status answered, with Body (a Bot API
	// error as JSON, or anything a proxy might send).
	Status int
	Body   string
	// Hang holds the request unanswered until the client gives up.
	Hang bool
	// Reset closes the connection without an answer (a TCP reset).
	Reset bool
}

func (f Fault) active() bool { return f.Status != 0 || f.Hang || f.Reset }

// Faults a fault plan can use.
var (
	BadGateway   = Fault{Status: 502, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>"}
	ServerError  = Fault{Status: 500, Body: `{"ok":false,"error_code":500,"description":"Internal Server Error"}`}
	Hang         = Fault{Hang: true}
	Reset        = Fault{Reset: true}
	TooManyAfter = func(seconds int) Fault {
		return Fault{Status: 429, Body: fmt.Sprintf(`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after %d","parameters":{"retry_after":%d}}`, seconds, seconds)}
	}
)

// Status values recorded for faults without an HTTP status.
const (
	StatusHung  = -1
	StatusReset = -2
)

// FakeAPI is a Bot API server on 127.0.0.1 for the real go-telegram/bot
// client. Its methods are safe for concurrent use.
type FakeAPI struct {
	srv  *httptest.Server
	done chan struct{} // closed at cleanup: hanging requests return

	mu         sync.Mutex
	queue      []queued
	nextUpdate int64
	nextMsg    int
	calls      []Call
	sentOK     int // sendMessage calls answered 200
	counts     map[string]int
	polls      int
	confirmed  int64               // the highest offset asked for: updates below it are confirmed
	confirmAt  map[int64]time.Time // when each update was first confirmed
	pushed     []Pushed            // every update queued, in order
	wake       chan struct{}       // closed when updates are queued
	hook       func(method string, attempt int) (status int, body string, ok bool)
	faults     func(method string) Fault
	faulted    map[string]int           // faults served, by kind
	held       map[string]chan struct{} // methods held by Hold, until the channel is closed
}

type queued struct {
	id   int64
	body json.RawMessage
}

// Call is one request the bot made (getUpdates is not recorded).
type Call struct {
	Method string
	Fields map[string]string
	Status int // what the fake answered: an HTTP status, StatusHung or StatusReset
	Result int // message_id of a sent message
	At     time.Time
}

// Int reads a numeric field.
func (c Call) Int(field string) int64 {
	n, _ := strconv.ParseInt(c.Fields[field], 10, 64)
	return n
}

// JSON decodes a field holding JSON.
func (c Call) JSON(field string, v any) error { return json.Unmarshal([]byte(c.Fields[field]), v) }

// Pushed is an update queued by Push.
type Pushed struct {
	UpdateID  int64
	MessageID int   // 0 for updates without a message
	Chat      int64 // the message's chat, or 0
	At        time.Time
}

// NewFakeAPI starts a fake Bot API server, stopped when the test ends.
func NewFakeAPI(tb testing.TB) *FakeAPI {
	f := &FakeAPI{
		nextUpdate: 1000, nextMsg: 1, counts: map[string]int{}, wake: make(chan struct{}),
		done: make(chan struct{}), confirmAt: map[int64]time.Time{}, faulted: map[string]int{},
		held: map[string]chan struct{}{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(func() {
		close(f.done)
		f.srv.Close()
	})
	return f
}

// URL is the base URL of the server, for Config.APIURL.
func (f *FakeAPI) URL() string { return f.srv.URL }

// SetHook lets hook answer calls instead of the fake: attempt counts the
// calls of that method so far, this one included. nil removes it.
func (f *FakeAPI) SetHook(hook func(method string, attempt int) (status int, body string, ok bool)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = hook
}

// SetFaults makes the fake fail requests, getUpdates included, as plan
// says for each (the zero Fault serves the request). nil removes it.
func (f *FakeAPI) SetFaults(plan func(method string) Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = plan
}

// Hold holds the calls of method (getUpdates excepted) unanswered until
// release is called: they are carried out then, as Telegram would, unless
// the client gave up meanwhile (nothing is done then). For tests of what a
// bot does with answers in flight. Calling release again does nothing.
func (f *FakeAPI) Hold(method string) (release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	gate, ok := f.held[method]
	if !ok {
		gate = make(chan struct{})
		f.held[method] = gate
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.held[method] == gate {
				delete(f.held, method)
				close(gate)
			}
		})
	}
}

// Faulted returns how many faults were served, by kind ("hang", "reset",
// or the HTTP status).
func (f *FakeAPI) Faulted() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.faulted {
		out[k] = v
	}
	return out
}

func (f *FakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		writeJSON(w, 404, `{"ok":false,"error_code":404,"description":"Not Found"}`)
		return
	}
	f.mu.Lock()
	plan := f.faults
	f.mu.Unlock()
	if plan != nil {
		if flt := plan(method); flt.active() {
			f.serveFault(w, r, method, flt)
			return
		}
	}
	if token != Token {
		writeJSON(w, 401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
		return
	}
	fields := map[string]string{}
	r.ParseMultipartForm(10 << 20) // the library's multipart, or a plain form
	for k, v := range r.Form {
		fields[k] = v[0]
	}
	// Read to the end, so the server notices when the client hangs up
	// (a long poll cancelled at shutdown).
	io.Copy(io.Discard, r.Body)
	if method == "getUpdates" {
		f.getUpdates(w, r, fields)
		return
	}
	f.mu.Lock()
	gate := f.held[method]
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return // abandoned: not carried out
		case <-f.done:
			return
		}
	}
	f.mu.Lock()
	f.counts[method]++
	attempt := f.counts[method]
	hook := f.hook
	f.mu.Unlock()
	c := Call{Method: method, Fields: fields, Status: 200, At: time.Now()}
	if hook != nil {
		if status, body, ok := hook(method, attempt); ok {
			c.Status = status
			f.record(c)
			writeJSON(w, status, body)
			return
		}
	}
	switch method {
	case "getMe":
		writeJSON(w, 200, fmt.Sprintf(`{"ok":true,"result":{"id":%d,"is_bot":true,"first_name":"FAQ","username":%q}}`, BotID, Username))
	case "deleteWebhook", "setWebhook", "setMyCommands", "answerCallbackQuery":
		writeJSON(w, 200, `{"ok":true,"result":true}`)
	case "sendMessage", "editMessageReplyMarkup":
		f.mu.Lock()
		id := f.nextMsg
		f.nextMsg++
		f.mu.Unlock()
		if method == "sendMessage" {
			c.Result = id
		} else {
			id = int(c.Int("message_id"))
		}
		msg, _ := json.Marshal(map[string]any{
			"message_id": id, "date": 1, "text": fields["text"],
			"chat": map[string]any{"id": c.Int("chat_id"), "type": "private"},
			"from": map[string]any{"id": BotID, "is_bot": true, "first_name": "FAQ"},
		})
		writeJSON(w, 200, `{"ok":true,"result":`+string(msg)+`}`)
	default:
		c.Status = 404
		writeJSON(w, 404, `{"ok":false,"error_code":404,"description":"Not Found: method not found"}`)
	}
	f.record(c)
}

// serveFault fails a request without carrying it out: nothing is sent,
// nothing confirmed.
func (f *FakeAPI) serveFault(w http.ResponseWriter, r *http.Request, method string, flt Fault) {
	c := Call{Method: method, Status: flt.Status, At: time.Now()}
	kind := strconv.Itoa(flt.Status)
	switch {
	case flt.Reset:
		c.Status, kind = StatusReset, "reset"
	case flt.Hang:
		c.Status, kind = StatusHung, "hang"
	}
	f.mu.Lock()
	f.faulted[kind]++
	f.mu.Unlock()
	if method != "getUpdates" {
		f.record(c)
	}
	switch {
	case flt.Reset:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					tc.SetLinger(0) // RST, not FIN
				}
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case flt.Hang:
		io.Copy(io.Discard, r.Body) // so that the server notices the client leaving
		select {
		case <-r.Context().Done():
		case <-f.done:
		}
	default:
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/html")
		if strings.HasPrefix(flt.Body, "{") {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(flt.Status)
		io.WriteString(w, flt.Body)
	}
}

func (f *FakeAPI) record(c Call) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	if c.Method == "sendMessage" && c.Status == 200 {
		f.sentOK++
	}
	f.mu.Unlock()
}

// SentCount is how many messages were sent successfully: Sent without
// its cost.
func (f *FakeAPI) SentCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sentOK
}

func (f *FakeAPI) getUpdates(w http.ResponseWriter, r *http.Request, fields map[string]string) {
	offset, _ := strconv.ParseInt(fields["offset"], 10, 64)
	wait, _ := strconv.Atoi(fields["timeout"])
	limit, _ := strconv.Atoi(fields["limit"])
	if limit < 1 || limit > 100 {
		limit = 100
	}
	deadline := time.NewTimer(min(time.Duration(wait)*time.Second, 2*time.Second))
	defer deadline.Stop()
	for {
		f.mu.Lock()
		f.polls++
		f.confirmed = max(f.confirmed, offset)
		// Telegram forgets the updates below the offset: they are confirmed.
		now := time.Now()
		for len(f.queue) > 0 && f.queue[0].id < offset {
			if _, seen := f.confirmAt[f.queue[0].id]; !seen {
				f.confirmAt[f.queue[0].id] = now
			}
			f.queue = f.queue[1:]
		}
		if len(f.queue) > 0 || wait == 0 {
			batch := f.queue[:min(len(f.queue), limit)]
			var buf bytes.Buffer
			buf.WriteString(`{"ok":true,"result":[`)
			for i, q := range batch {
				if i > 0 {
					buf.WriteByte(',')
				}
				buf.Write(q.body)
			}
			buf.WriteString(`]}`)
			f.mu.Unlock()
			writeJSON(w, 200, buf.String())
			return
		}
		wake := f.wake
		f.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			writeJSON(w, 200, `{"ok":true,"result":[]}`)
			return
		case <-r.Context().Done():
			return
		case <-f.done:
			return
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// Push queues updates, giving each an update_id and its message a
// message_id (unless set); it returns the message ids (0 for updates
// without one).
func (f *FakeAPI) Push(updates ...map[string]any) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]int, len(updates))
	now := time.Now()
	for i, u := range updates {
		f.nextUpdate++
		u["update_id"] = f.nextUpdate
		p := Pushed{UpdateID: f.nextUpdate, At: now}
		if m, ok := u["message"].(map[string]any); ok {
			if _, set := m["message_id"]; !set {
				m["message_id"] = f.nextMsg
				f.nextMsg++
			}
			ids[i] = m["message_id"].(int)
			p.MessageID = ids[i]
			if c, ok := m["chat"].(map[string]any); ok {
				p.Chat, _ = c["id"].(int64)
			}
		}
		body, err := json.Marshal(u)
		if err != nil {
			panic(err)
		}
		f.queue = append(f.queue, queued{id: f.nextUpdate, body: body})
		f.pushed = append(f.pushed, p)
	}
	close(f.wake)
	f.wake = make(chan struct{})
	return ids
}

// PushRaw queues an update given as JSON without its update_id (an object
// such as {"message":{…}}), byte for byte; it returns the update_id.
func (f *FakeAPI) PushRaw(body []byte) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextUpdate++
	raw := append([]byte(fmt.Sprintf(`{"update_id":%d,`, f.nextUpdate)), bytes.TrimPrefix(bytes.TrimSpace(body), []byte("{"))...)
	f.queue = append(f.queue, queued{id: f.nextUpdate, body: raw})
	f.pushed = append(f.pushed, Pushed{UpdateID: f.nextUpdate, At: time.Now()})
	close(f.wake)
	f.wake = make(chan struct{})
	return f.nextUpdate
}

// Pushed returns the updates queued so far, in order.
func (f *FakeAPI) Pushed() []Pushed {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Pushed(nil), f.pushed...)
}

// Calls returns the calls of method, in order (all calls for "").
func (f *FakeAPI) Calls(method string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Polls is how many times getUpdates looked at the queue.
func (f *FakeAPI) Polls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.polls
}

// Confirmed is the highest offset getUpdates was called with: Telegram
// has forgotten every update below it.
func (f *FakeAPI) Confirmed() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.confirmed
}

// ConfirmedAt reports when update was confirmed (dropped from the queue
// by an offset past it).
func (f *FakeAPI) ConfirmedAt(update int64) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	at, ok := f.confirmAt[update]
	return at, ok
}

// Keyboard and Button are an inline keyboard as the bot sends it.
type Keyboard struct {
	InlineKeyboard [][]Button `json:"inline_keyboard"`
}

// Button is one inline keyboard button.
type Button struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

// SentMessage is a message the bot sent successfully.
type SentMessage struct {
	ID      int
	Chat    int64
	Thread  int64
	ReplyTo int
	Text    string
	Parse   string
	Markup  Keyboard
	Call    Call
}

// Sent returns the messages sent successfully, in order.
func (f *FakeAPI) Sent() []SentMessage {
	var out []SentMessage
	for _, c := range f.Calls("sendMessage") {
		if c.Status != 200 {
			continue
		}
		s := SentMessage{ID: c.Result, Chat: c.Int("chat_id"), Thread: c.Int("message_thread_id"), Text: c.Fields["text"], Parse: c.Fields["parse_mode"], Call: c}
		var rp struct {
			MessageID int `json:"message_id"`
		}
		if c.Fields["reply_parameters"] != "" {
			if err := c.JSON("reply_parameters", &rp); err != nil {
				panic(err)
			}
		}
		s.ReplyTo = rp.MessageID
		if c.Fields["reply_markup"] != "" {
			if err := c.JSON("reply_markup", &s.Markup); err != nil {
				panic(err)
			}
		}
		out = append(out, s)
	}
	return out
}

// WaitFor polls cond until it holds, failing the test after 20 seconds.
func WaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	WaitForWithin(tb, 20*time.Second, what, cond)
}

// WaitForWithin polls cond until it holds, failing the test after d.
func WaitForWithin(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling interval, not synchronisation
	}
}

// WaitSent waits until n messages were sent and returns them.
func (f *FakeAPI) WaitSent(tb testing.TB, n int) []SentMessage {
	tb.Helper()
	var s []SentMessage
	WaitFor(tb, fmt.Sprintf("%d sent messages", n), func() bool { s = f.Sent(); return len(s) >= n })
	return s
}

// WaitCalls waits until method was called n times and returns the calls.
func (f *FakeAPI) WaitCalls(tb testing.TB, method string, n int) []Call {
	tb.Helper()
	var cs []Call
	WaitFor(tb, fmt.Sprintf("%d %s calls", n, method), func() bool { cs = f.Calls(method); return len(cs) >= n })
	return cs
}
