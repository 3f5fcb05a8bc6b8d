package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"faqbot/bot"
	"faqbot/knowledge"
	"faqbot/search"
)

// The ids of the fake Discord world.
const (
	testToken = "test-token.SECRET.never-logged"
	botUserID = "1000"
	appID     = "2000"
	guildID   = "3000"
	channelID = "4000"
	userID    = "5000"
)

// The REST routes of the fake, as ServeMux patterns.
const (
	routeGateway      = "GET /api/v9/gateway"
	routeGatewayBot   = "GET /api/v9/gateway/bot"
	routeCommands     = "PUT /api/v9/applications/{app}/commands"
	routeGuildCmds    = "PUT /api/v9/applications/{app}/guilds/{guild}/commands"
	routeMessages     = "POST /api/v9/channels/{channel}/messages"
	routeCallback     = "POST /api/v9/interactions/{id}/{token}/callback"
	routeEditOriginal = "PATCH /api/v9/webhooks/{app}/{token}/messages/@original"
	routeDelOriginal  = "DELETE /api/v9/webhooks/{app}/{token}/messages/@original"
	routeFollowup     = "POST /api/v9/webhooks/{app}/{token}"
)

// request is one REST request the fake received.
type request struct {
	Route  string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// fault is a canned response for a route.
type fault struct {
	status int
	body   string
	header map[string]string
}

// fakeDiscord is Discord's REST API and gateway on 127.0.0.1, as much of
// them as the bot uses. It records what the client sends.
type fakeDiscord struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	requests []request
	faults   map[string][]fault // served once each, in order
	always   map[string]fault   // served until cleared

	// Gateway.
	heartbeatMs   int
	rejectIntents discordgo.Intent // IDENTIFY asking any of these is closed with 4014
	closeIdentify int              // close every IDENTIFY (and RESUME) with this code
	conn          *gatewayConn     // the live connection
	allConns      []*gatewayConn
	identifies    []discordgo.Intent
	resumes       int
	ready         int // READY or RESUMED sent
	heartbeats    int
	seq           int64
	msgID         int
	refuseResume  bool             // answer the next RESUME with op 9 (not resumable)
	missed        []map[string]any // dispatched while no connection was live
}

type gatewayConn struct {
	ws    *websocket.Conn
	mu    sync.Mutex // guards writes
	noAck bool       // heartbeats go unanswered (guarded by fakeDiscord.mu)
}

func (c *gatewayConn) send(v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.WriteJSON(v)
}

func newFakeDiscord(t testing.TB) *fakeDiscord {
	f := &fakeDiscord{t: t, faults: map[string][]fault{}, always: map[string]fault{}, heartbeatMs: 1000}
	mux := http.NewServeMux()
	mux.HandleFunc(routeGateway, f.rest(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"url": f.wsURL()})
	}))
	mux.HandleFunc(routeGatewayBot, f.rest(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"url": f.wsURL(), "shards": 1})
	}))
	commands := f.rest(func(w http.ResponseWriter, r *http.Request) {
		var cmds []map[string]any
		_ = json.NewDecoder(r.Body).Decode(&cmds)
		for i, c := range cmds {
			c["id"] = fmt.Sprint(9000 + i)
			c["application_id"] = r.PathValue("app")
		}
		writeJSON(w, cmds)
	})
	mux.HandleFunc(routeCommands, commands)
	mux.HandleFunc(routeGuildCmds, commands)
	message := f.rest(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.msgID++
		id := fmt.Sprint(70000 + f.msgID)
		f.mu.Unlock()
		writeJSON(w, map[string]any{"id": id, "channel_id": r.PathValue("channel"), "type": 0, "content": "", "author": map[string]any{"id": botUserID, "bot": true}})
	})
	mux.HandleFunc(routeMessages, message)
	mux.HandleFunc(routeEditOriginal, message)
	mux.HandleFunc(routeFollowup, message)
	noContent := f.rest(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc(routeCallback, noContent)
	mux.HandleFunc(routeDelOriginal, noContent)
	mux.HandleFunc("GET /gateway/", f.gateway)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake Discord: unexpected request %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"message":"404: Not Found","code":0}`, http.StatusNotFound)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.mu.Lock()
		for _, c := range f.allConns {
			c.ws.Close()
		}
		f.mu.Unlock()
		f.srv.Close()
	})
	return f
}

func (f *fakeDiscord) apiURL() string { return f.srv.URL + "/api" }

func (f *fakeDiscord) wsURL() string {
	return "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/gateway"
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// rest records a request, then serves a fault queued for its route or h.
func (f *fakeDiscord) rest(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, request{Route: r.Pattern, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		flt, ok := f.always[r.Pattern]
		if q := f.faults[r.Pattern]; !ok && len(q) > 0 {
			flt, ok = q[0], true
			f.faults[r.Pattern] = q[1:]
		}
		f.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if ok {
			for k, v := range flt.header {
				w.Header().Set(k, v)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(flt.status)
			io.WriteString(w, flt.body)
			return
		}
		h(w, r)
	}
}

// failOnce queues faults for route, served to its next requests.
func (f *fakeDiscord) failOnce(route string, flts ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[route] = append(f.faults[route], flts...)
}

// failAlways serves flt to every request for route; a zero fault stops it.
func (f *fakeDiscord) failAlways(route string, flt fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if flt.status == 0 {
		delete(f.always, route)
		return
	}
	f.always[route] = flt
}

// sent returns the requests received for route.
func (f *fakeDiscord) sent(route string) []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []request
	for _, r := range f.requests {
		if r.Route == route {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeDiscord) allRequests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

// gateway is the websocket gateway: HELLO, then IDENTIFY → READY (or a
// close code), RESUME → RESUMED, heartbeats → ACKs.
func (f *fakeDiscord) gateway(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &gatewayConn{ws: ws}
	f.mu.Lock()
	f.allConns = append(f.allConns, c)
	hb := f.heartbeatMs
	f.mu.Unlock()
	defer ws.Close()
	defer func() {
		f.mu.Lock()
		if f.conn == c {
			f.conn = nil // the client left
		}
		f.mu.Unlock()
	}()
	if c.send(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": hb}}) != nil {
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
			f.mu.Lock()
			f.heartbeats++
			ack := !c.noAck
			f.mu.Unlock()
			if ack {
				c.send(map[string]any{"op": 11})
			}
		case 2:
			var id struct {
				Token   string           `json:"token"`
				Intents discordgo.Intent `json:"intents"`
			}
			_ = json.Unmarshal(p.D, &id)
			if id.Token != "Bot "+testToken {
				f.t.Errorf("IDENTIFY with token %q, want the configured one", id.Token)
			}
			f.mu.Lock()
			f.identifies = append(f.identifies, id.Intents)
			f.missed = nil // a new session: what the old one missed is gone
			code := f.closeIdentify
			if id.Intents&f.rejectIntents != 0 {
				code = 4014
			}
			f.mu.Unlock()
			if code != 0 {
				c.mu.Lock()
				ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(code, "Disallowed intent(s)."))
				c.mu.Unlock()
				return
			}
			f.becomeLive(c, "READY", map[string]any{
				"v":           9,
				"session_id":  "session-1",
				"user":        map[string]any{"id": botUserID, "username": "faqbot", "bot": true},
				"application": map[string]any{"id": appID, "flags": 0},
				"guilds":      []any{map[string]any{"id": guildID, "unavailable": true}},
			})
		case 6:
			f.mu.Lock()
			f.resumes++
			refuse := f.refuseResume
			f.refuseResume = false
			code := f.closeIdentify // a refused token fails a RESUME too
			f.mu.Unlock()
			if code != 0 && !refuse {
				c.mu.Lock()
				ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(code, "Authentication failed."))
				c.mu.Unlock()
				return
			}
			if refuse {
				c.send(map[string]any{"op": 9, "d": false})
				continue
			}
			f.becomeLive(c, "RESUMED", map[string]any{})
			// Discord replays what the session missed.
			f.mu.Lock()
			missed := f.missed
			f.missed = nil
			f.mu.Unlock()
			for _, ev := range missed {
				f.dispatch(ev["t"].(string), ev["d"])
			}
		}
	}
}

func (f *fakeDiscord) becomeLive(c *gatewayConn, event string, d any) {
	f.mu.Lock()
	f.seq++
	seq := f.seq
	f.conn = c
	f.mu.Unlock()
	c.send(map[string]any{"op": 0, "t": event, "s": seq, "d": d})
	f.mu.Lock()
	f.ready++
	f.mu.Unlock()
}

// dispatch sends an event on the live gateway connection.
func (f *fakeDiscord) dispatch(event string, d any) {
	f.t.Helper()
	f.mu.Lock()
	c := f.conn
	f.seq++
	seq := f.seq
	f.mu.Unlock()
	if c == nil {
		f.t.Errorf("dispatch %s: no gateway connection", event)
		return
	}
	if err := c.send(map[string]any{"op": 0, "t": event, "s": seq, "d": d}); err != nil {
		f.t.Fatalf("dispatch %s: %v", event, err)
	}
}

// drop breaks the live gateway connection without a close frame, as a
// network failure would.
func (f *fakeDiscord) drop() {
	f.mu.Lock()
	c := f.conn
	f.conn = nil
	f.mu.Unlock()
	if c != nil {
		c.ws.UnderlyingConn().Close()
	}
}

// dispatchOrKeep sends an event on the live connection, or keeps it for
// the session to get when it resumes, as Discord does.
func (f *fakeDiscord) dispatchOrKeep(event string, d any) {
	f.t.Helper()
	f.mu.Lock()
	if f.conn == nil {
		f.missed = append(f.missed, map[string]any{"t": event, "d": d})
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	f.dispatch(event, d)
}

// closeWith closes the live connection with a close frame carrying code,
// as Discord does when it drops a session.
func (f *fakeDiscord) closeWith(code int) {
	f.mu.Lock()
	c := f.conn
	f.conn = nil
	f.mu.Unlock()
	if c != nil {
		c.mu.Lock()
		c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(code, "closed by the fake"))
		c.mu.Unlock()
		c.ws.Close()
	}
}

// invalidSession sends op 9 INVALID SESSION on the live connection.
func (f *fakeDiscord) invalidSession(resumable bool) {
	f.mu.Lock()
	c := f.conn
	f.mu.Unlock()
	if c != nil {
		c.send(map[string]any{"op": 9, "d": resumable})
	}
}

// stopAcking leaves the live connection's heartbeats unanswered.
func (f *fakeDiscord) stopAcking() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn != nil {
		f.conn.noAck = true
	}
}

// askReconnect sends op 7 RECONNECT, as Discord does before it restarts.
func (f *fakeDiscord) askReconnect() {
	f.mu.Lock()
	c := f.conn
	f.conn = nil
	f.mu.Unlock()
	if c != nil {
		c.send(map[string]any{"op": 7, "d": nil})
	}
}

func (f *fakeDiscord) readyCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready
}

func (f *fakeDiscord) identified() []discordgo.Intent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]discordgo.Intent(nil), f.identifies...)
}

// The events the tests send.

func user(id string, isBot bool) map[string]any {
	return map[string]any{"id": id, "username": "user" + id, "bot": isBot}
}

// message is a MESSAGE_CREATE in guild (none: a DM) from author.
func message(id, channel, guild string, author map[string]any, content string, mentioned ...map[string]any) map[string]any {
	m := map[string]any{
		"id": id, "channel_id": channel, "type": 0, "content": content,
		"author": author, "mentions": append([]map[string]any{}, mentioned...),
		"mention_everyone": strings.Contains(content, "@everyone"),
	}
	if guild != "" {
		m["guild_id"] = guild
	}
	return m
}

// slashAsk is an INTERACTION_CREATE for /ask question.
func slashAsk(id, locale, question string) map[string]any {
	return map[string]any{
		"id": id, "application_id": appID, "type": 2, "token": "tok-" + id, "version": 1,
		"guild_id": guildID, "channel_id": channelID, "locale": locale,
		"member": map[string]any{"user": user(userID, false)},
		"data": map[string]any{"id": "9000", "name": "ask", "type": 1,
			"options": []any{map[string]any{"name": "question", "type": 3, "value": question}}},
	}
}

// press is an INTERACTION_CREATE for a button press.
func press(id, customID string) map[string]any {
	return map[string]any{
		"id": id, "application_id": appID, "type": 3, "token": "tok-" + id, "version": 1,
		"guild_id": guildID, "channel_id": channelID, "locale": "en-US",
		"member":  map[string]any{"user": user(userID, false)},
		"message": map[string]any{"id": "70001", "channel_id": channelID, "content": "", "author": user(botUserID, true)},
		"data":    map[string]any{"custom_id": customID, "component_type": 2},
	}
}

// sentMessage is what the bot sent: a message, an interaction response's
// data, a webhook edit or follow-up.
type sentMessage struct {
	Content string `json:"content"`
	Embeds  []struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"embeds"`
	Components []struct {
		Components []struct {
			Label    string `json:"label"`
			CustomID string `json:"custom_id"`
			Emoji    *struct {
				Name string `json:"name"`
			} `json:"emoji"`
		} `json:"components"`
	} `json:"components"`
	AllowedMentions *struct {
		Parse       json.RawMessage `json:"parse"`
		RepliedUser bool            `json:"replied_user"`
	} `json:"allowed_mentions"`
	Reference *struct {
		MessageID string `json:"message_id"`
	} `json:"message_reference"`
	Flags int `json:"flags"`
}

// callback is an interaction response.
type callback struct {
	Type int          `json:"type"`
	Data *sentMessage `json:"data"`
}

func decode[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

// customIDs lists the custom ids of a message's buttons.
func (m *sentMessage) customIDs() []string {
	var out []string
	for _, row := range m.Components {
		for _, c := range row.Components {
			out = append(out, c.CustomID)
		}
	}
	return out
}

// rawMention finds text Discord would read as a mention.
var rawMention = regexp.MustCompile(`@everyone|@here|<@[!&]?\d`)

// checkNoPings asserts that every message the bot sent carries
// allowed_mentions with an empty parse list and no live mention.
func (f *fakeDiscord) checkNoPings(t testing.TB) {
	t.Helper()
	for _, r := range f.allRequests() {
		var msgs []*sentMessage
		switch r.Route {
		case routeMessages, routeEditOriginal, routeFollowup:
			msgs = append(msgs, decodePtr[sentMessage](t, r.Body))
		case routeCallback:
			if cb := decode[callback](t, r.Body); cb.Data != nil {
				msgs = append(msgs, cb.Data)
			}
		}
		for _, m := range msgs {
			if m.AllowedMentions == nil || string(m.AllowedMentions.Parse) != "[]" || m.AllowedMentions.RepliedUser {
				t.Errorf("%s: allowed_mentions not {parse: []}: %s", r.Route, r.Body)
			}
			texts := []string{m.Content}
			for _, e := range m.Embeds {
				texts = append(texts, e.Title, e.Description)
			}
			for _, s := range texts {
				if rawMention.MatchString(s) {
					t.Errorf("%s: live mention in %q", r.Route, s)
				}
			}
		}
	}
}

func decodePtr[T any](t testing.TB, body []byte) *T {
	v := decode[T](t, body)
	return &v
}

// waitFor polls cond until it holds, failing the test after a while.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitSent waits until route has received n requests and returns them.
func (f *fakeDiscord) waitSent(t testing.TB, route string, n int) []request {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d × %s", n, route), func() bool { return len(f.sent(route)) >= n })
	return f.sent(route)
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// stubAnswerer answers from functions, recording the questions.
type stubAnswerer struct {
	mu       sync.Mutex
	asked    []string
	answer   func(ctx context.Context, q string) (search.Answer, error)
	lookupFn func(ctx context.Context, id string, lang knowledge.Lang) (search.Answer, error)
}

func (s *stubAnswerer) Answer(ctx context.Context, q string, _ ...search.AskOption) (search.Answer, error) {
	s.mu.Lock()
	s.asked = append(s.asked, q)
	fn := s.answer
	s.mu.Unlock()
	if fn == nil {
		return answerFor(q), nil
	}
	return fn(ctx, q)
}

func (s *stubAnswerer) Lookup(ctx context.Context, id string, lang knowledge.Lang) (search.Answer, error) {
	if s.lookupFn != nil {
		return s.lookupFn(ctx, id, lang)
	}
	return search.Answer{Outcome: search.Answered, ID: id, Title: "Entry " + id, Lang: lang,
		Blocks: []knowledge.Block{{Kind: knowledge.Paragraph, Text: "Text of " + id}}}, nil
}

func (s *stubAnswerer) questions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.asked...)
}

var _ bot.Answerer = (*stubAnswerer)(nil)

// answerFor is the stub's default: an answer titled after the question.
func answerFor(q string) search.Answer {
	return search.Answer{Query: q, Outcome: search.Answered, ID: "stub-entry", Title: "Answer to " + q, Lang: knowledge.English,
		Blocks: []knowledge.Block{{Kind: knowledge.Steps, Items: []string{"First step", "Second step"}}}}
}

// recordingSink keeps feedback.
type recordingSink struct {
	mu sync.Mutex
	fb []bot.Feedback
}

func (s *recordingSink) RecordFeedback(_ context.Context, f bot.Feedback) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fb = append(s.fb, f)
	return nil
}

func (s *recordingSink) feedback() []bot.Feedback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]bot.Feedback(nil), s.fb...)
}

// harness is a bot running against a fake Discord.
type harness struct {
	fake *fakeDiscord
	bot  *Bot
	logs *syncBuffer
	stop func() error // cancels Run and returns its error
}

// testConfig is a configuration for the fake, with short pauses.
func testConfig(f *fakeDiscord) Config {
	cfg := DefaultConfig()
	cfg.Token = testToken
	cfg.APIURL = f.apiURL()
	cfg.MaxRetries = 2
	cfg.MaxRetryWait = 2 * time.Second
	cfg.ReconnectDelay = 20 * time.Millisecond
	cfg.OpenTimeout = 5 * time.Second
	cfg.ShutdownTimeout = 5 * time.Second
	// Room for a slow, loaded test machine: the tests of deferral set less.
	cfg.DeferAfter = 2 * time.Second
	return cfg
}

// start runs a bot against f and waits until it is connected and has
// registered its commands. The test's cleanup stops it and checks that it
// stopped cleanly, pinged nobody and logged no token.
func start(t *testing.T, f *fakeDiscord, cfg Config, a bot.Answerer, opts ...Option) *harness {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := New(cfg, a, append([]Option{WithLogger(logger)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(20 * time.Second):
				runErr = fmt.Errorf("Run did not return")
			}
		})
		return runErr
	}
	h := &harness{fake: f, bot: b, logs: logs, stop: stop}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		f.checkNoPings(t)
		if strings.Contains(logs.String(), testToken) {
			t.Errorf("the token was logged:\n%s", logs)
		}
		if t.Failed() {
			t.Logf("bot log:\n%s", logs)
		}
	})
	route := routeCommands
	if cfg.GuildID != "" {
		route = routeGuildCmds
	}
	waitFor(t, "the bot to connect and register its commands", func() bool {
		if len(done) > 0 {
			t.Fatalf("Run returned early: %v", stop())
		}
		return f.readyCount() >= 1 && len(f.sent(route)) >= 1
	})
	return h
}
