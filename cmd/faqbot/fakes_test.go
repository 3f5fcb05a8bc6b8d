package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"faqbot/bot/telegram/telegramtest"
)

// The fakes the runtime's tests run the real clients against, end to end:
// updates and events in, replies, button answers and the rest recorded.
// Telegram's is telegramtest's importable fake Bot API; Discord's adapter
// keeps its thorough fake to its own tests, so here is the little of
// Discord that faqbot's runtime needs, with the failures its tests force.

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

// The Telegram side is telegramtest's fake Bot API, the one the adapter's
// own tests use; these helpers adapt it to the runtime's tests.

// tgToken is the token the fake Bot API knows; it refuses any other.
const tgToken = telegramtest.Token

func newFakeTelegram(t *testing.T) *telegramtest.FakeAPI { return telegramtest.NewFakeAPI(t) }

// tgPush queues one update and returns its message id (0 for a callback).
func tgPush(f *telegramtest.FakeAPI, u map[string]any) int { return f.Push(u)[0] }

// tgPrivate is a message from user in their private chat, in English.
func tgPrivate(user int64, text string) map[string]any {
	return telegramtest.PrivateMessage(user, "en", text)
}

// tgPress is user pressing a button carrying data under message msgID of
// their private chat.
func tgPress(id string, user int64, msgID int, data string) map[string]any {
	return telegramtest.Callback(id, user, "en", user, "private", msgID, data)
}

// tgWaitReply waits for the reply to message id.
func tgWaitReply(t *testing.T, f *telegramtest.FakeAPI, id int) telegramtest.SentMessage {
	t.Helper()
	var got telegramtest.SentMessage
	waitFor(t, fmt.Sprintf("the reply to Telegram message %d", id), func() bool {
		for _, s := range f.Sent() {
			if s.ReplyTo == id {
				got = s
				return true
			}
		}
		return false
	})
	return got
}

// tgLastUpdate is the id of the last update queued.
func tgLastUpdate(f *telegramtest.FakeAPI) int64 {
	p := f.Pushed()
	if len(p) == 0 {
		return 0
	}
	return p[len(p)-1].UpdateID
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

	// Failures, set with fail: closeIdentify closes the gateway with that
	// code at IDENTIFY and RESUME (4004: the token refused); gatewayEcho,
	// when set, is put in the gateway URL the REST API names, whose
	// handshake then fails; restFault, when set, answers the bot's REST
	// requests (route "message" or "callback") instead, unless it returns
	// status 0.
	closeIdentify int
	gatewayEcho   string
	restFault     func(route string) (status int, body string)
}

// fail changes the fake's failures (see fakeDiscord), under its lock.
func (f *fakeDiscord) fail(change func(f *fakeDiscord)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// faulted answers r with the REST fault for route, if any.
func (f *fakeDiscord) faulted(w http.ResponseWriter, route string) bool {
	f.mu.Lock()
	fault := f.restFault
	f.mu.Unlock()
	if fault == nil {
		return false
	}
	status, body := fault(route)
	if status == 0 {
		return false
	}
	writeJSONString(w, status, body)
	return true
}

// drop closes the gateway connections with a close frame of code, as
// Discord does when it ends a session.
func (f *fakeDiscord) drop(code int) {
	f.mu.Lock()
	conns := f.conns
	f.conns = nil
	f.conn = nil
	f.mu.Unlock()
	f.wmu.Lock()
	defer f.wmu.Unlock()
	for _, c := range conns {
		c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
		c.Close()
	}
}

func newFakeDiscord(t *testing.T) *fakeDiscord {
	f := &fakeDiscord{t: t}
	mux := http.NewServeMux()
	gw := func(w http.ResponseWriter, r *http.Request) {
		url := "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/ws"
		f.mu.Lock()
		if f.gatewayEcho != "" {
			url += "?echo=" + f.gatewayEcho
		}
		f.mu.Unlock()
		body, _ := json.Marshal(map[string]any{"url": url, "shards": 1})
		writeJSONString(w, 200, string(body))
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
		if r.Context().Err() != nil || f.faulted(w, "message") {
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
		if f.faulted(w, "callback") {
			return
		}
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
	if r.URL.Query().Get("echo") != "" {
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
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
		case 2, 6:
			f.mu.Lock()
			code := f.closeIdentify
			f.mu.Unlock()
			if code != 0 {
				f.wmu.Lock()
				ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, "Authentication failed."), time.Now().Add(time.Second))
				f.wmu.Unlock()
				return
			}
			if p.Op == 6 { // no sessions kept: resuming is refused, not resumable
				send(map[string]any{"op": 9, "d": false})
				continue
			}
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
