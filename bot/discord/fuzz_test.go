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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"faqbot/bot"
	"faqbot/bot/bottest"
	"faqbot/search/searchtest"
)

// restRecorder is Discord's REST API in memory, as a RoundTripper: it
// records what the bot's real client sends and answers like Discord.
type restRecorder struct {
	mux  *http.ServeMux
	mu   sync.Mutex
	reqs []request
}

func newRestRecorder() *restRecorder {
	r := &restRecorder{mux: http.NewServeMux()}
	message := func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"id": "70001", "channel_id": channelID, "type": 0, "content": "", "author": map[string]any{"id": botUserID, "bot": true}})
	}
	for _, route := range []string{routeMessages, routeEditOriginal, routeFollowup} {
		r.mux.HandleFunc(route, message)
	}
	for _, route := range []string{routeCallback, routeDelOriginal} {
		r.mux.HandleFunc(route, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	}
	r.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"message":"404: Not Found","code":0}`, http.StatusNotFound)
	})
	return r
}

func (r *restRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	in := req.Clone(req.Context())
	in.Body = io.NopCloser(bytes.NewReader(body))
	in.RequestURI = in.URL.RequestURI()
	_, pattern := r.mux.Handler(in)
	r.mu.Lock()
	r.reqs = append(r.reqs, request{Route: pattern, Path: req.URL.Path, Query: req.URL.RawQuery, Header: req.Header.Clone(), Body: body})
	r.mu.Unlock()
	w := httptest.NewRecorder()
	r.mux.ServeHTTP(w, in)
	resp := w.Result()
	resp.Request = req
	return resp, nil
}

func (r *restRecorder) take() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

// offlineBot is a Bot handling events without a gateway: the real engine
// answers, REST goes to rt, flood control is out of the way, and channelID
// is a support channel.
func offlineBot(tb testing.TB, rt http.RoundTripper, logs io.Writer) *Bot {
	cfg := DefaultConfig()
	cfg.Token = testToken
	cfg.APIURL = "http://discord.invalid/api"
	cfg.ChannelIDs = []string{channelID}
	cfg.UserBurst = 1 << 30
	cfg.UserEvery = time.Nanosecond
	cfg.MaxRetries = 0
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := New(cfg, bot.EngineAnswerer{Engine: searchtest.Engine(tb)}, WithHTTPClient(&http.Client{Transport: rt}), WithLogger(logger))
	if err != nil {
		tb.Fatal(err)
	}
	self := botUserID
	b.selfID.Store(&self)
	b.workCtx = context.Background()
	return b
}

// checkOutgoing says what is wrong with one REST request the bot made in
// answer to strangers: only the routes of replies and interaction
// responses; every message within Discord's limits (content 2,000, embed
// title 256, description 4,096, 6,000 in all, 10 embeds, 5 rows of 5
// buttons, labels 80, custom ids 100, all in UTF-16 units), not empty,
// with buttons the bot reads back, allowed_mentions {parse: []} and no
// text Discord would read as a mention.
func checkOutgoing(r request) []string {
	var msgs []*sentMessage
	switch r.Route {
	case routeMessages, routeEditOriginal, routeFollowup:
		var m sentMessage
		if err := json.Unmarshal(r.Body, &m); err != nil {
			return []string{fmt.Sprintf("body %s: %v", r.Body, err)}
		}
		msgs = append(msgs, &m)
	case routeCallback:
		var cb callback
		if err := json.Unmarshal(r.Body, &cb); err != nil {
			return []string{fmt.Sprintf("body %s: %v", r.Body, err)}
		}
		if cb.Data != nil {
			msgs = append(msgs, cb.Data)
		} else if cb.Type != int(discordgo.InteractionResponseDeferredChannelMessageWithSource) && cb.Type != int(discordgo.InteractionResponseDeferredMessageUpdate) {
			return []string{fmt.Sprintf("response of type %d without data", cb.Type)}
		}
	case routeDelOriginal:
	default:
		return []string{fmt.Sprintf("unexpected request %s %s", r.Route, r.Path)}
	}
	var bad []string
	for _, m := range msgs {
		if m.AllowedMentions == nil || string(m.AllowedMentions.Parse) != "[]" || m.AllowedMentions.RepliedUser {
			bad = append(bad, fmt.Sprintf("allowed_mentions not {parse: []}: %s", r.Body))
		}
		texts := []string{m.Content}
		total := 0
		if n := bottest.UTF16Len(m.Content); n > MaxContent {
			bad = append(bad, fmt.Sprintf("content of %d", n))
		}
		if len(m.Embeds) > 10 {
			bad = append(bad, fmt.Sprintf("%d embeds", len(m.Embeds)))
		}
		for _, e := range m.Embeds {
			texts = append(texts, e.Title, e.Description)
			t, d := bottest.UTF16Len(e.Title), bottest.UTF16Len(e.Description)
			if t > MaxTitle || d > MaxDescription {
				bad = append(bad, fmt.Sprintf("embed title %d, description %d", t, d))
			}
			total += t + d
		}
		if total > 6000 {
			bad = append(bad, fmt.Sprintf("embeds of %d in all", total))
		}
		if len(m.Components) > 5 {
			bad = append(bad, fmt.Sprintf("%d rows", len(m.Components)))
		}
		buttons := 0
		for _, row := range m.Components {
			if len(row.Components) > 5 {
				bad = append(bad, fmt.Sprintf("%d buttons in a row", len(row.Components)))
			}
			for _, c := range row.Components {
				buttons++
				texts = append(texts, c.Label)
				if _, err := bot.ParsePayload(c.CustomID); err != nil || len(c.CustomID) > 100 || bottest.UTF16Len(c.Label) > MaxLabel || (c.Label == "" && c.Emoji == nil) {
					bad = append(bad, fmt.Sprintf("button %q %q", c.Label, c.CustomID))
				}
			}
		}
		if strings.TrimSpace(m.Content) == "" && len(m.Embeds) == 0 && buttons == 0 {
			bad = append(bad, "an empty message")
		}
		for _, s := range texts {
			if rawMention.MatchString(s) {
				bad = append(bad, fmt.Sprintf("live mention in %q", s))
			}
		}
	}
	return bad
}

func mustJSON(tb testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// panicked reports whether the log tells of a recovered panic.
func panicked(logs string) bool {
	return strings.Contains(logs, "panic in handler") || strings.Contains(logs, "answer engine panicked")
}

// fuzzEvent runs one event through a handler of an offline bot, as
// discordgo would: it hands over what it could decode even when decoding
// failed part-way.
func fuzzEvent(f *testing.F, handle func(b *Bot, data []byte)) {
	rec := newRestRecorder()
	logs := &syncBuffer{}
	b := offlineBot(f, rec, logs)
	f.Fuzz(func(t *testing.T, data []byte) {
		wd := time.AfterFunc(20*time.Second, func() { panic(fmt.Sprintf("event not handled within 20 s: %q", data)) })
		defer wd.Stop()
		logs.reset()
		rec.take()
		handle(b, data)
		b.inflight.Wait()
		for _, r := range rec.take() {
			for _, p := range checkOutgoing(r) {
				t.Errorf("%s: %s", r.Route, p)
			}
		}
		if l := logs.String(); panicked(l) {
			t.Fatalf("a panic was recovered:\n%s", l)
		}
	})
}

// FuzzMessageCreate feeds any bytes to the bot as a MESSAGE_CREATE (a DM,
// a mention, a support channel), with the real engine answering: no
// panic, nothing outside checkOutgoing. Seeds: testdata/fuzz/FuzzMessageCreate.
func FuzzMessageCreate(f *testing.F) {
	// Every bad input as a DM, a mention and a support-channel message;
	// more seeds in testdata/fuzz/FuzzMessageCreate.
	for _, in := range bottest.BadInputs() {
		for _, m := range []map[string]any{
			message("1", channelID, "", user(userID, false), in.Text),
			message("2", channelID, guildID, user(userID, false), mentionOf(botUserID)+" "+in.Text, user(botUserID, true)),
			message("3", channelID, guildID, user(userID, false), in.Text),
		} {
			f.Add(mustJSON(f, m))
		}
	}
	fuzzEvent(f, func(b *Bot, data []byte) {
		mc := &discordgo.MessageCreate{}
		_ = json.Unmarshal(data, mc)
		b.onMessageCreate(nil, mc)
	})
}

// FuzzInteractionCreate feeds any bytes to the bot as an
// INTERACTION_CREATE (/ask, /help, button presses): no panic, nothing
// outside checkOutgoing. Seeds: testdata/fuzz/FuzzInteractionCreate.
func FuzzInteractionCreate(f *testing.F) {
	// Every bad input as /ask, every forged custom id as a press; more
	// seeds in testdata/fuzz/FuzzInteractionCreate.
	for _, in := range bottest.BadInputs() {
		f.Add(mustJSON(f, slashAsk("1", "zh-CN", in.Text)))
	}
	for _, p := range bottest.ForgedPayloads() {
		f.Add(mustJSON(f, press("2", p)))
	}
	fuzzEvent(f, func(b *Bot, data []byte) {
		ic := &discordgo.InteractionCreate{}
		_ = json.Unmarshal(data, ic)
		b.onInteractionCreate(nil, ic)
	})
}
