package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The adapters' own tests hold thorough fakes of the Bot API and of
// Discord; these are the little of each that faqbot's runtime needs, so
// that the tests here run the real clients end to end: updates and
// events in, replies, button answers and the rest recorded.

// gate holds requests until it is opened (none, until hold is called).
type gate struct {
	mu     sync.Mutex
	closed chan struct{} // nil: requests pass
}

func (g *gate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = make(chan struct{})
}

func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed != nil {
		close(g.closed)
		g.closed = nil
	}
}

// wait blocks while the gate is held, or until the request is abandoned.
func (g *gate) wait(r *http.Request) {
	g.mu.Lock()
	c := g.closed
	g.mu.Unlock()
	if c != nil {
		select {
		case <-c:
		case <-r.Context().Done():
		}
	}
}

const (
	tgToken    = "123456:AAF-runtime_Test-0123456789abcdef"
	tgUsername = "FaqRuntimeBot"
)

// tgSent is a message the bot sent on Telegram.
type tgSent struct {
	Chat    int64
	ReplyTo int
	Text    string
	Markup  string
}

// fakeTelegram is the Bot API on 127.0.0.1.
type fakeTelegram struct {
	srv   *httptest.Server
	sends gate // holds sendMessage while held

	mu        sync.Mutex
	queue     []json.RawMessage
	ids       []int64
	next      int64
	msgID     int
	confirmed int64 // the highest offset asked for
	wake      chan struct{}
	sent      []tgSent
	methods   map[string]int
}

func newFakeTelegram(t *testing.T) *fakeTelegram {
	f := &fakeTelegram{next: 500, msgID: 1, wake: make(chan struct{}), methods: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTelegram) serve(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+tgToken+"/")
	if !ok {
		writeJSONString(w, 401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
		return
	}
	r.ParseMultipartForm(1 << 20)
	field := func(k string) string { return r.FormValue(k) }
	io.Copy(io.Discard, r.Body)
	f.mu.Lock()
	f.methods[method]++
	f.mu.Unlock()
	switch method {
	case "getUpdates":
		f.getUpdates(w, r, field("offset"), field("timeout"))
	case "getMe":
		writeJSONString(w, 200, `{"ok":true,"result":{"id":123456,"is_bot":true,"first_name":"FAQ","username":"`+tgUsername+`"}}`)
	case "deleteWebhook", "setWebhook", "setMyCommands", "answerCallbackQuery":
		writeJSONString(w, 200, `{"ok":true,"result":true}`)
	case "editMessageReplyMarkup", "sendMessage":
		if method == "sendMessage" {
			f.sends.wait(r)
			if r.Context().Err() != nil {
				return
			}
		}
		chat, _ := strconv.ParseInt(field("chat_id"), 10, 64)
		var rp struct {
			MessageID int `json:"message_id"`
		}
		json.Unmarshal([]byte(field("reply_parameters")), &rp)
		f.mu.Lock()
		id := f.msgID
		f.msgID++
		if method == "sendMessage" {
			f.sent = append(f.sent, tgSent{Chat: chat, ReplyTo: rp.MessageID, Text: field("text"), Markup: field("reply_markup")})
		}
		f.mu.Unlock()
		msg, _ := json.Marshal(map[string]any{"message_id": id, "date": 1, "text": field("text"),
			"chat": map[string]any{"id": chat, "type": "private"}})
		writeJSONString(w, 200, `{"ok":true,"result":`+string(msg)+`}`)
	default:
		writeJSONString(w, 404, `{"ok":false,"error_code":404,"description":"Not Found"}`)
	}
}

func (f *fakeTelegram) getUpdates(w http.ResponseWriter, r *http.Request, offsetField, timeoutField string) {
	offset, _ := strconv.ParseInt(offsetField, 10, 64)
	wait, _ := strconv.Atoi(timeoutField)
	deadline := time.NewTimer(min(time.Duration(wait)*time.Second, 500*time.Millisecond))
	defer deadline.Stop()
	for {
		f.mu.Lock()
		f.confirmed = max(f.confirmed, offset)
		for len(f.queue) > 0 && f.ids[0] < offset {
			f.queue, f.ids = f.queue[1:], f.ids[1:]
		}
		if len(f.queue) > 0 || wait == 0 {
			var buf bytes.Buffer
			buf.WriteString(`{"ok":true,"result":[`)
			for i, u := range f.queue {
				if i > 0 {
					buf.WriteByte(',')
				}
				buf.Write(u)
			}
			buf.WriteString(`]}`)
			f.mu.Unlock()
			writeJSONString(w, 200, buf.String())
			return
		}
		wake := f.wake
		f.mu.Unlock()
		select {
		case <-wake:
		case <-deadline.C:
			writeJSONString(w, 200, `{"ok":true,"result":[]}`)
			return
		case <-r.Context().Done():
			return
		}
	}
}

// push queues an update and returns its message id (0 for a callback).
func (f *fakeTelegram) push(u map[string]any) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	u["update_id"] = f.next
	id := 0
	if m, ok := u["message"].(map[string]any); ok {
		id = f.msgID
		f.msgID++
		m["message_id"] = id
	}
	body, _ := json.Marshal(u)
	f.queue = append(f.queue, body)
	f.ids = append(f.ids, f.next)
	close(f.wake)
	f.wake = make(chan struct{})
	return id
}

// lastUpdate is the id of the last update pushed.
func (f *fakeTelegram) lastUpdate() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.next
}

func (f *fakeTelegram) confirmedOffset() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.confirmed
}

func (f *fakeTelegram) messages() []tgSent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]tgSent(nil), f.sent...)
}

func (f *fakeTelegram) calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.methods[method]
}

// waitReply waits for the reply to message id.
func (f *fakeTelegram) waitReply(t *testing.T, id int) tgSent {
	t.Helper()
	var got tgSent
	waitFor(t, fmt.Sprintf("the reply to Telegram message %d", id), func() bool {
		for _, s := range f.messages() {
			if s.ReplyTo == id {
				got = s
				return true
			}
		}
		return false
	})
	return got
}

func tgPrivate(user int64, text string) map[string]any {
	return map[string]any{"message": map[string]any{
		"date": 1, "chat": map[string]any{"id": user, "type": "private"},
		"from": map[string]any{"id": user, "is_bot": false, "first_name": "U", "language_code": "en"},
		"text": text,
	}}
}

func tgPress(id string, user int64, msgID int, data string) map[string]any {
	return map[string]any{"callback_query": map[string]any{
		"id": id, "chat_instance": "ci", "data": data,
		"from": map[string]any{"id": user, "is_bot": false, "first_name": "U", "language_code": "en"},
		"message": map[string]any{"message_id": msgID, "date": 1, "text": "…",
			"chat": map[string]any{"id": user, "type": "private"}},
	}}
}

func writeJSONString(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

const (
	dcToken = "runtime-test.TOKEN.never-logged"
	dcBotID = "1000"
	dcAppID = "2000"
)

// dcSent is a message or interaction response the bot sent on Discord.
type dcSent struct {
	Route string // "message" or "callback"
	Path  string
	Body  string
}

// fakeDiscord is Discord's REST API and gateway on 127.0.0.1.
type fakeDiscord struct {
	t     *testing.T
	srv   *httptest.Server
	sends gate // holds channel messages while held

	mu    sync.Mutex
	conn  *websocket.Conn
	wmu   sync.Mutex // guards writes on conn
	seq   int
	msgID int
	sent  []dcSent
	conns []*websocket.Conn
}

func newFakeDiscord(t *testing.T) *fakeDiscord {
	f := &fakeDiscord{t: t}
	mux := http.NewServeMux()
	gw := func(w http.ResponseWriter, r *http.Request) {
		writeJSONString(w, 200, `{"url":"ws`+strings.TrimPrefix(f.srv.URL, "http")+`/ws","shards":1}`)
	}
	mux.HandleFunc("GET /api/v9/gateway", gw)
	mux.HandleFunc("GET /api/v9/gateway/bot", gw)
	commands := func(w http.ResponseWriter, r *http.Request) {
		var cmds []map[string]any
		json.NewDecoder(r.Body).Decode(&cmds)
		for i, c := range cmds {
			c["id"] = fmt.Sprint(9000 + i)
			c["application_id"] = dcAppID
		}
		body, _ := json.Marshal(cmds)
		writeJSONString(w, 200, string(body))
	}
	mux.HandleFunc("PUT /api/v9/applications/{app}/commands", commands)
	mux.HandleFunc("PUT /api/v9/applications/{app}/guilds/{guild}/commands", commands)
	mux.HandleFunc("POST /api/v9/channels/{channel}/messages", func(w http.ResponseWriter, r *http.Request) {
		f.sends.wait(r)
		if r.Context().Err() != nil {
			return
		}
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.msgID++
		id := fmt.Sprint(70000 + f.msgID)
		f.sent = append(f.sent, dcSent{Route: "message", Path: r.URL.Path, Body: string(body)})
		f.mu.Unlock()
		writeJSONString(w, 200, `{"id":"`+id+`","channel_id":"`+r.PathValue("channel")+`","type":0,"content":"","author":{"id":"`+dcBotID+`","bot":true}}`)
	})
	mux.HandleFunc("POST /api/v9/interactions/{id}/{token}/callback", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.sent = append(f.sent, dcSent{Route: "callback", Path: r.URL.Path, Body: string(body)})
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /ws/", f.gateway)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake Discord: unexpected request %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"message":"404: Not Found","code":0}`, http.StatusNotFound)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.srv.Close()
	})
	return f
}

func (f *fakeDiscord) apiURL() string { return f.srv.URL + "/api" }

// gateway: HELLO, IDENTIFY → READY, heartbeats → ACK.
func (f *fakeDiscord) gateway(w http.ResponseWriter, r *http.Request) {
	ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.mu.Lock()
	f.conns = append(f.conns, ws)
	f.mu.Unlock()
	defer ws.Close()
	send := func(v any) error {
		f.wmu.Lock()
		defer f.wmu.Unlock()
		return ws.WriteJSON(v)
	}
	if send(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": 1000}}) != nil {
		return
	}
	for {
		var p struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if err := ws.ReadJSON(&p); err != nil {
			return
		}
		switch p.Op {
		case 1:
			send(map[string]any{"op": 11})
		case 2:
			var id struct {
				Token string `json:"token"`
			}
			json.Unmarshal(p.D, &id)
			if id.Token != "Bot "+dcToken {
				f.t.Errorf("IDENTIFY with another token")
			}
			f.mu.Lock()
			f.conn = ws
			f.seq++
			seq := f.seq
			f.mu.Unlock()
			send(map[string]any{"op": 0, "t": "READY", "s": seq, "d": map[string]any{
				"v": 9, "session_id": "s1", "user": map[string]any{"id": dcBotID, "username": "faqbot", "bot": true},
				"application": map[string]any{"id": dcAppID, "flags": 0}, "guilds": []any{},
			}})
		}
	}
}

// dispatch sends a gateway event.
func (f *fakeDiscord) dispatch(event string, d any) {
	f.t.Helper()
	f.mu.Lock()
	c := f.conn
	f.seq++
	seq := f.seq
	f.mu.Unlock()
	if c == nil {
		f.t.Fatalf("dispatch %s: not connected", event)
	}
	f.wmu.Lock()
	err := c.WriteJSON(map[string]any{"op": 0, "t": event, "s": seq, "d": d})
	f.wmu.Unlock()
	if err != nil {
		f.t.Fatalf("dispatch %s: %v", event, err)
	}
}

func (f *fakeDiscord) messages(route string) []dcSent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []dcSent
	for _, s := range f.sent {
		if s.Route == route {
			out = append(out, s)
		}
	}
	return out
}

// waitSent waits until route has n requests and returns them.
func (f *fakeDiscord) waitSent(t *testing.T, route string, n int) []dcSent {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d Discord %s requests", n, route), func() bool { return len(f.messages(route)) >= n })
	return f.messages(route)
}

// dcDM is a direct message from user in their DM channel.
func dcDM(id, user, text string) map[string]any {
	return map[string]any{
		"id": id, "channel_id": "8" + user, "type": 0, "content": text,
		"author": map[string]any{"id": user, "username": "user" + user}, "mentions": []any{},
	}
}

// dcPress is a button press by user.
func dcPress(id, user, customID string) map[string]any {
	return map[string]any{
		"id": id, "application_id": dcAppID, "type": 3, "token": "tok-" + id, "version": 1,
		"channel_id": "8" + user, "locale": "en-US",
		"user":    map[string]any{"id": user, "username": "user" + user},
		"message": map[string]any{"id": "70001", "channel_id": "8" + user, "content": "", "author": map[string]any{"id": dcBotID, "bot": true}},
		"data":    map[string]any{"custom_id": customID, "component_type": 2},
	}
}

// waitFor polls cond until it holds, failing the test after a while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}

// syncBuffer collects output from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
