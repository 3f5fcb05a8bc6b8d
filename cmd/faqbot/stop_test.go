package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"faqbot/bot"
	"faqbot/bot/discord"
	"faqbot/bot/qlog"
	"faqbot/bot/telegram"
	"faqbot/knowledge"
	"faqbot/search"
)

// stubAdapter is an adapter whose Run the test writes.
type stubAdapter func(ctx context.Context) error

func (s stubAdapter) Run(ctx context.Context) error { return s(ctx) }

// stubConfig is a configuration New accepts without a chat service to
// reach: Discord, never run (stubRuntime swaps in stubs), no ops listener.
func stubConfig(t *testing.T) Config {
	cfg := DefaultConfig()
	cfg.CacheDir = ""
	cfg.HTTPAddr = ""
	cfg.QLog.Path = filepath.Join(t.TempDir(), "faqbot.db")
	d := discord.DefaultConfig()
	d.Token = "stub-token-never-used"
	d.APIURL = "http://127.0.0.1:1/api"
	cfg.Discord = &d
	return cfg
}

// stubRuntime builds a Runtime from cfg and has it run run instead of
// the adapters configured.
func stubRuntime(t *testing.T, cfg Config, log *slog.Logger, run stubAdapter) *Runtime {
	t.Helper()
	rt, err := New(t.Context(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	rt.adapters = map[string]adapter{"discord": run}
	return rt
}

// TestReloadDuringStopBuildsNothing: a SIGHUP while faqbot finishes its
// answers in flight does not load and build the guides again (the stop
// would wait for it).
func TestReloadDuringStopBuildsNothing(t *testing.T) {
	checkNoLeaks(t)
	draining, release := make(chan struct{}), make(chan struct{})
	logs := &syncBuffer{}
	rt := stubRuntime(t, stubConfig(t), slog.New(slog.NewTextHandler(logs, nil)), func(ctx context.Context) error {
		<-ctx.Done()
		close(draining) // an answer is still in flight
		<-release
		return nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	cancel()
	<-draining
	err := rt.Reload()
	close(release)
	if !errors.Is(err, errStopping) {
		t.Errorf("Reload during the stop: %v, want errStopping", err)
	}
	if strings.Contains(logs.String(), "guides reloaded") {
		t.Error("the guides were reloaded during the stop")
	}
	if got, _ := counter(t, rt.m, "faqbot_reloads_total", "result", "ok"); got != 0 {
		t.Errorf("reloads ok = %v, want 0", got)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestAnswersAndFeedbackDuringTheDrainAreLogged: what the adapters finish
// after the stop began (an answer in flight, a vote) is in the question
// log: it is closed after them.
func TestAnswersAndFeedbackDuringTheDrainAreLogged(t *testing.T) {
	checkNoLeaks(t)
	cfg := stubConfig(t)
	var rt *Runtime
	rt = stubRuntime(t, cfg, slog.New(slog.DiscardHandler), func(ctx context.Context) error {
		<-ctx.Done()
		// Finishing what was taken before the stop.
		actx := bot.WithAsker(context.Background(), bot.Asker{Adapter: "discord", User: "77"})
		ans, err := rt.answerer("discord").Answer(actx, "how do I log out of WhatsApp Web")
		if err != nil {
			return err
		}
		sink := feedbackSink{m: rt.m, next: rt.qlog}
		return sink.RecordFeedback(context.Background(), bot.Feedback{Adapter: "discord", User: "77", EntryID: ans.ID, Lang: ans.Lang})
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := rt.Run(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+cfg.QLog.Path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var questions, linked int
	if err := db.QueryRow(`SELECT (SELECT COUNT(*) FROM questions), (SELECT COUNT(*) FROM feedback WHERE question_id IS NOT NULL)`).Scan(&questions, &linked); err != nil {
		t.Fatal(err)
	}
	if questions != 1 || linked != 1 {
		t.Errorf("%d questions and %d linked votes in the log, want 1 and 1", questions, linked)
	}
}

// TestStopDuringStartUp: a stop asked for while faqbot starts is a clean
// stop: exit 0.
func TestStopDuringStartUp(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // SIGTERM came before the start finished
	var stderr syncBuffer
	env := map[string]string{
		"DISCORD_BOT_TOKEN": "tok", "DISCORD_API_URL": "http://127.0.0.1:1/api",
		"FAQBOT_HTTP_ADDR": "off", "FAQBOT_QLOG_PATH": filepath.Join(t.TempDir(), "q.db"), "FAQBOT_CACHE_DIR": "",
	}
	if code := runEnv(ctx, nil, lookup(env), io.Discard, &stderr); code != 0 {
		t.Errorf("exit %d, want 0; stderr:\n%s", code, stderr.String())
	}
}

// failingEngine is an engine whose Close fails.
type failingEngine struct{ *search.Engine }

func (failingEngine) Close() error { return errors.New("index close failed") }

// TestReloadSucceedsWhenTheOldEngineFailsToClose: once the new engine
// serves, the reload has succeeded; the old one's failure to close is
// reported apart.
func TestReloadSucceedsWhenTheOldEngineFailsToClose(t *testing.T) {
	old := shippedEngine(t)
	defer old.Close()
	live := newLiveEngine(failingEngine{old})
	defer live.close()
	var closeErrs []error
	live.closeErr = func(err error) { closeErrs = append(closeErrs, err) }
	next := shippedEngine(t)
	if err := live.swap(next); err != nil {
		t.Errorf("swap: %v, want nil: the new engine serves", err)
	}
	if live.cur.Load().eng != next {
		t.Error("the new engine is not current")
	}
	if len(closeErrs) != 1 || !strings.Contains(closeErrs[0].Error(), "index close failed") {
		t.Errorf("close errors %v, want the old engine's", closeErrs)
	}
}

// TestLoggerRedactsSecrets: faqbot's own log (not only the adapters')
// hides the tokens, the webhook secret and the salt.
func TestLoggerRedactsSecrets(t *testing.T) {
	cfg := stubConfig(t)
	cfg.Discord.Token = "Bot discord-secret-token"
	tg := telegram.DefaultConfig()
	tg.Token, tg.WebhookSecret = "123456:telegram-secret-part", "webhook-secret-value"
	cfg.Telegram = &tg
	cfg.QLog.Salt = "salt-of-sixteen-bytes-or-more"
	var buf bytes.Buffer
	log := newLogger(cfg, &buf)
	log.Error("request failed", "err", fmt.Errorf("GET https://api.telegram.org/bot%s/getMe: %s %s %s",
		cfg.Telegram.Token, cfg.Discord.Token, cfg.Telegram.WebhookSecret, cfg.QLog.Salt))
	log.Info("part", "secret", "telegram-secret-part")
	for _, secret := range []string{"telegram-secret-part", "discord-secret-token", "webhook-secret-value", "salt-of-sixteen-bytes"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("the log shows %q:\n%s", secret, buf.String())
		}
	}
	if !strings.Contains(buf.String(), bot.Redacted) {
		t.Errorf("nothing redacted:\n%s", buf.String())
	}
}

// TestQuestionSeriesFromTheStart: every outcome's series exists at 0
// before the first question, so that rate() sees the first one.
func TestQuestionSeriesFromTheStart(t *testing.T) {
	m := newMetrics()
	m.expect("telegram")
	// Written out, not taken from outcomes: an outcome missing there
	// must fail here.
	for _, o := range []string{"answered", "clarify", "none", "chitchat", "error"} {
		if got, ok := counter(t, m, "faqbot_questions_total", "adapter", "telegram", "outcome", o); !ok || got != 0 {
			t.Errorf("faqbot_questions_total{adapter=telegram,outcome=%s}: %v, %v; want a series at 0", o, got, ok)
		}
	}
}

// TestTransportKeepsConnections: a burst of requests to one host reuses
// the connections of the burst before it, as a burst of Telegram replies
// would.
func TestTransportKeepsConnections(t *testing.T) {
	checkNoLeaks(t)
	const burst = 32
	var conns atomic.Int64
	var mu sync.Mutex
	arrived, gate := 0, make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every request of a burst is in flight at once.
		mu.Lock()
		arrived++
		if arrived == burst {
			close(gate)
		}
		g := gate
		mu.Unlock()
		<-g
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	rt := stubRuntime(t, stubConfig(t), slog.New(slog.DiscardHandler), func(ctx context.Context) error { <-ctx.Done(); return nil })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	defer rt.Run(ctx) // releases the engine, the log and the idle connections
	client := &http.Client{Transport: rt.transport, Timeout: 20 * time.Second}
	wave := func() {
		mu.Lock()
		arrived, gate = 0, make(chan struct{})
		mu.Unlock()
		var wg sync.WaitGroup
		for range burst {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := client.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}()
		}
		wg.Wait()
	}
	wave()
	first := conns.Load()
	wave()
	wave()
	if again := conns.Load() - first; again > burst/2 {
		t.Errorf("the first burst opened %d connections, the next two %d more; want most reused", first, again)
	}
}

// TestLogOffPrunesTheOldLog: with the log turned off, a log left from
// before still loses its rows past the retention, at start.
func TestLogOffPrunesTheOldLog(t *testing.T) {
	checkNoLeaks(t)
	cfg := stubConfig(t)
	l, err := qlog.Open(t.Context(), cfg.QLog, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Record(qlog.Question{Time: time.Now().Add(-cfg.QLog.Retention - time.Hour), Adapter: "discord", User: "1", Question: "old question", Outcome: search.None})
	l.Record(qlog.Question{Time: time.Now(), Adapter: "discord", User: "1", Question: "new question", Lang: knowledge.English, Outcome: search.None})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.QuestionLog = false
	logs := &syncBuffer{}
	rt := stubRuntime(t, cfg, slog.New(slog.NewTextHandler(logs, nil)), func(ctx context.Context) error { <-ctx.Done(); return nil })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := rt.Run(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := qlog.ReadReport(t.Context(), cfg.QLog.Path, time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Declined) != 1 || r.Declined[0].Question != "new question" {
		t.Errorf("the log holds %+v, want the new question alone", r.Declined)
	}
	if !strings.Contains(logs.String(), "rows past the retention deleted") || !strings.Contains(logs.String(), "rows=1") {
		t.Errorf("the logs do not say so:\n%s", logs)
	}
	if _, err := os.Stat(cfg.QLog.Path); err != nil {
		t.Error(err)
	}
}

// counter reads a counter of m's registry: the series of name with the
// labels given as name, value pairs.
func counter(t *testing.T, m *metrics, name string, labels ...string) (float64, bool) {
	t.Helper()
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range s.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue series
				}
			}
			return s.GetCounter().GetValue(), true
		}
	}
	return 0, false
}
