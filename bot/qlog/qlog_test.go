package qlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"faqbot/bot"
	"faqbot/knowledge"
	"faqbot/search"
)

// TestMain fails the package's tests if any goroutine outlives them. Bleve
// starts a pool of analysis workers when it is loaded (package search
// imports it); they live as long as the process.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/blevesearch/bleve_index_api.AnalysisWorker"))
}

func openTest(t *testing.T, cfg Config) *Log {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = filepath.Join(t.TempDir(), "q.db")
	}
	l, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func testConfig(t *testing.T) Config {
	c := DefaultConfig()
	c.Path = filepath.Join(t.TempDir(), "q.db")
	return c
}

func flush(t *testing.T, l *Log) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// rawDB opens the log's file for the test to look inside.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := openDB(path, reader, defaultBusyTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type questionRow struct {
	Adapter, UserHash, Lang, Question, Outcome, EntryID, Choices string
	Confidence                                                   float64
	LatencyUS                                                    int64
}

func questionRows(t *testing.T, db *sql.DB) []questionRow {
	t.Helper()
	rows, err := db.Query(`SELECT adapter, user_hash, lang, question, outcome, entry_id, choices, confidence, latency_us FROM questions ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []questionRow
	for rows.Next() {
		var r questionRow
		if err := rows.Scan(&r.Adapter, &r.UserHash, &r.Lang, &r.Question, &r.Outcome, &r.EntryID, &r.Choices, &r.Confidence, &r.LatencyUS); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

type feedbackRow struct {
	UserHash, EntryID string
	Helpful           bool
	QuestionID        sql.NullInt64
}

func feedbackRows(t *testing.T, db *sql.DB) []feedbackRow {
	t.Helper()
	rows, err := db.Query(`SELECT user_hash, entry_id, helpful, question_id FROM feedback ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []feedbackRow
	for rows.Next() {
		var r feedbackRow
		if err := rows.Scan(&r.UserHash, &r.EntryID, &r.Helpful, &r.QuestionID); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestQuestionsAreStoredPrivately(t *testing.T) {
	cfg := testConfig(t)
	l := openTest(t, cfg)
	if !l.Record(Question{Adapter: "telegram", User: "123456789", Question: "My number is +86 138-0013-8000, write to ME@example.com ", Lang: knowledge.English,
		Outcome: search.Answered, EntryID: "web-log-out", Confidence: 0.91, Latency: 1500 * time.Microsecond}) {
		t.Fatal("Record dropped the row")
	}
	flush(t, l)
	rows := questionRows(t, rawDB(t, cfg.Path))
	if len(rows) != 1 {
		t.Fatalf("%d rows, want 1", len(rows))
	}
	r := rows[0]
	want := questionRow{Adapter: "telegram", UserHash: l.HashUser("telegram", "123456789"), Lang: "en",
		Question: "my number is <number>, write to <email>", Outcome: "answered", EntryID: "web-log-out", Confidence: 0.91, LatencyUS: 1500}
	if r != want {
		t.Errorf("row\n%+v\nwant\n%+v", r, want)
	}
	if strings.Contains(r.UserHash, "123456789") || len(r.UserHash) != 32 {
		t.Errorf("user stored as %q, want a 32-digit hash", r.UserHash)
	}
	if got := l.Stats(); got.Questions != 1 || got.Dropped != 0 || got.Failed != 0 {
		t.Errorf("stats %+v", got)
	}
	for _, p := range []string{cfg.Path, cfg.Path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600 (owner only)", p, fi.Mode().Perm())
		}
	}
}

func TestStoredQuestion(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"How do I LOG OUT?", "how do i log out?"},
		{"code 123456 doesn't work", "code <number> doesnt work"},
		{"验证码１２３４５６收不到", "验证码<number>收不到"},
		{"call +1 (555) 010-9999", "call <number>"},
		{"since 2024 on 2 phones", "since 2024 on 2 phones"},
		{"mail a.b@c.example.org please", "mail <email> please"},
		{"@everyone hi", "@everyone hi"},
	} {
		if got := StoredQuestion(tt.in); got != tt.want {
			t.Errorf("StoredQuestion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFeedbackIsLinkedToItsAnswer(t *testing.T) {
	cfg := testConfig(t)
	l := openTest(t, cfg)
	t0 := time.Now().Add(-time.Hour)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	qs := []Question{
		{Time: at(0), Adapter: "telegram", User: "1", Question: "log out web", Outcome: search.Answered, EntryID: "web-log-out"},
		{Time: at(1 * time.Minute), Adapter: "telegram", User: "1", Question: "sign out web", Outcome: search.Answered, EntryID: "web-log-out"},
		{Time: at(2 * time.Minute), Adapter: "discord", User: "1", Question: "log out", Outcome: search.Clarify, EntryID: "web-log-out", Choices: []string{"remote-log-out", "phone-log-out"}},
	}
	for _, q := range qs {
		l.Record(q)
	}
	fb := []bot.Feedback{
		// question 2: the user's latest answer with that entry
		{Time: at(3 * time.Minute), Adapter: "telegram", User: "1", EntryID: "web-log-out", Helpful: true},
		// the same user changes their mind: one vote per answer
		{Time: at(4 * time.Minute), Adapter: "telegram", User: "1", EntryID: "web-log-out", Helpful: false},
		// question 3: a choice the clarification offered
		{Time: at(5 * time.Minute), Adapter: "discord", User: "1", EntryID: "phone-log-out", Helpful: true},
		// someone else's answer (a group): kept, unlinked
		{Time: at(6 * time.Minute), Adapter: "telegram", User: "2", EntryID: "web-log-out", Helpful: false},
		// before the user asked anything: unlinked
		{Time: at(-time.Minute), Adapter: "discord", User: "1", EntryID: "web-log-out", Helpful: false},
	}
	for _, f := range fb {
		if err := l.RecordFeedback(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, l)
	got := feedbackRows(t, rawDB(t, cfg.Path))
	linked := func(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: true} }
	want := []feedbackRow{
		{l.HashUser("telegram", "1"), "web-log-out", false, linked(2)},
		{l.HashUser("discord", "1"), "phone-log-out", true, linked(3)},
		{l.HashUser("telegram", "2"), "web-log-out", false, sql.NullInt64{}},
		{l.HashUser("discord", "1"), "web-log-out", false, sql.NullInt64{}},
	}
	if !slices.Equal(got, want) {
		t.Errorf("feedback rows\n%+v\nwant\n%+v", got, want)
	}
}

func TestSaltIsKeptOnceOrConfigured(t *testing.T) {
	cfg := testConfig(t)
	l1, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	h1 := l1.HashUser("telegram", "42")
	l1.Close()
	l2 := openTest(t, cfg)
	if h2 := l2.HashUser("telegram", "42"); h2 != h1 {
		t.Errorf("hash changed across restarts: %s, then %s", h1, h2)
	}
	if l2.HashUser("discord", "42") == h1 {
		t.Error("the same id on two adapters hashes alike")
	}
	other := testConfig(t)
	if openTest(t, other).HashUser("telegram", "42") == h1 {
		t.Error("two databases share a salt")
	}
	// A configured salt is used for a new log (another one refuses to
	// open: see TestSaltMismatchIsRefused).
	l2.Close()
	fresh := testConfig(t)
	fresh.Salt = "kept-in-the-environment"
	if openTest(t, fresh).HashUser("telegram", "42") == h1 {
		t.Error("a configured salt is ignored")
	}
	if got := l2.HashUser("telegram", ""); got != "" {
		t.Errorf("unknown user hashed to %q", got)
	}
}

func TestRetention(t *testing.T) {
	cfg := testConfig(t)
	cfg.Retention = 24 * time.Hour
	clock := newClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	h := hooks{now: clock.Now}
	l := openHooked(t, cfg, h)
	old, recent := clock.Now().Add(-25*time.Hour), clock.Now().Add(-23*time.Hour)
	l.Record(Question{Time: old, Adapter: "telegram", User: "1", Question: "old", Outcome: search.None})
	l.Record(Question{Time: recent, Adapter: "telegram", User: "1", Question: "recent", Outcome: search.None})
	l.RecordFeedback(context.Background(), bot.Feedback{Time: old, Adapter: "telegram", User: "1", EntryID: "x"})
	flush(t, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Open prunes; so does the writer every PruneEvery.
	cfg.PruneEvery = 10 * time.Millisecond
	l = openHooked(t, cfg, h)
	db := rawDB(t, cfg.Path)
	if rows := questionRows(t, db); len(rows) != 1 || rows[0].Question != "recent" {
		t.Errorf("after Open: %+v, want only the recent question", rows)
	}
	if rows := feedbackRows(t, db); len(rows) != 0 {
		t.Errorf("old feedback kept: %+v", rows)
	}
	// A row that becomes too old when the clock moves on goes at the
	// writer's next pruning; the recent one stays.
	l.Record(Question{Time: clock.Now().Add(-cfg.Retention + time.Minute), Adapter: "telegram", Question: "soon old", Outcome: search.None})
	flush(t, l)
	if rows := questionRows(t, db); len(rows) != 2 {
		t.Fatalf("before the clock moved: %+v, want 2 rows", rows)
	}
	clock.Advance(2 * time.Minute)
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows := questionRows(t, db)
		if len(rows) == 1 && rows[0].Question == "recent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the writer did not prune: %+v", rows)
		}
		time.Sleep(10 * time.Millisecond) // polling the database, not synchronising
	}
}

func TestCloseWritesEverything(t *testing.T) {
	cfg := testConfig(t)
	cfg.BatchSize = 7
	l, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := 0
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				if l.Record(Question{Adapter: "discord", User: string(rune('a' + g)), Question: "q", Outcome: search.None, Latency: time.Duration(i)}) {
					mu.Lock()
					taken++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Record(Question{Adapter: "discord"}) {
		t.Error("Record after Close took a row")
	}
	if err := l.RecordFeedback(context.Background(), bot.Feedback{Adapter: "discord"}); !errors.Is(err, ErrClosed) {
		t.Errorf("RecordFeedback after Close: %v, want ErrClosed", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	rows := questionRows(t, rawDB(t, cfg.Path))
	st := l.Stats()
	if len(rows) != taken || st.Questions != uint64(taken) || st.Questions+st.Dropped != 800 || st.Unwritten != 2 {
		t.Errorf("%d rows, %d taken, stats %+v; want every row taken written, the rest counted as dropped, and the 2 after Close as unwritten", len(rows), taken, st)
	}
}

func TestFullBufferDropsWithoutWaiting(t *testing.T) {
	// A log whose writer has not started: the buffer fills.
	l := &Log{in: make(chan event, 2), now: time.Now}
	for i := range 3 {
		if got, want := l.Record(Question{}), i < 2; got != want {
			t.Errorf("Record %d = %v, want %v", i, got, want)
		}
	}
	if err := l.RecordFeedback(context.Background(), bot.Feedback{}); !errors.Is(err, ErrBusy) {
		t.Errorf("RecordFeedback on a full buffer: %v, want ErrBusy", err)
	}
	if got := l.Stats().Dropped; got != 2 {
		t.Errorf("dropped %d, want 2", got)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tt := range []struct {
		adjust func(*Config)
		want   string
	}{
		{func(c *Config) { c.Path = "" }, "Path is empty"},
		{func(c *Config) { c.Path = os.TempDir() }, "is a directory"},
		{func(c *Config) { c.Salt = "short" }, "Salt is shorter than 16 bytes (the value is not shown"},
		{func(c *Config) { c.Retention = time.Minute }, "Retention 1m0s"},
		{func(c *Config) { c.Buffer = 0 }, "Buffer 0"},
		{func(c *Config) { c.BatchSize = -1 }, "BatchSize -1"},
		{func(c *Config) { c.PruneEvery = 0 }, "PruneEvery 0s"},
		{func(c *Config) { c.Salt = "short-Salt-15ch" }, "Salt is shorter than 16 bytes (the value is not shown"},
	} {
		c := DefaultConfig()
		tt.adjust(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate() = %v, want %q", err, tt.want)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	c := DefaultConfig()
	c.Salt = "s4ltX"
	if err := c.Validate(); err == nil || strings.Contains(err.Error(), c.Salt) {
		t.Errorf("a short salt: %v, want an error that does not show it", err)
	}
}

// TestConfigHidesSalt: the salt shows in no printed form of a Config.
func TestConfigHidesSalt(t *testing.T) {
	c := DefaultConfig()
	c.Salt = "salt-Never-shown-0123456789"
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "qlog", c, "ptr", &c)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "qlog", c)
	shown := fmt.Sprint(c) + fmt.Sprintf("%v %+v %#v %s", &c, c, c, c) + logs.String()
	if strings.Contains(shown, c.Salt) {
		t.Errorf("the salt shows in:\n%s", shown)
	}
	if !strings.Contains(shown, "Path:faqbot.db") || !strings.Contains(shown, "Salt:[redacted]") {
		t.Errorf("the configuration does not show as itself:\n%s", shown)
	}
}

func TestOpenRefusesANewerSchema(t *testing.T) {
	cfg := testConfig(t)
	l := openTest(t, cfg)
	l.Close()
	db, err := openDB(cfg.Path, writer, defaultBusyTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Errorf("Open of a newer database: %v", err)
	}
	if _, err := ReadReport(context.Background(), cfg.Path, time.Time{}, 10); err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Errorf("ReadReport of a newer database: %v", err)
	}
}

func TestReport(t *testing.T) {
	cfg := testConfig(t)
	l := openTest(t, cfg)
	now := time.Now()
	ask := func(ago time.Duration, user, q string, outcome search.Outcome, entry string, choices ...string) {
		l.Record(Question{Time: now.Add(-ago), Adapter: "telegram", User: user, Question: q, Lang: knowledge.English, Outcome: outcome, EntryID: entry, Choices: choices})
	}
	vote := func(ago time.Duration, user, entry string, helpful bool) {
		if err := l.RecordFeedback(context.Background(), bot.Feedback{Time: now.Add(-ago), Adapter: "telegram", User: user, EntryID: entry, Helpful: helpful}); err != nil {
			t.Fatal(err)
		}
	}
	ask(10*24*time.Hour, "1", "too old to count", search.None, "")
	for i := range 3 {
		ask(time.Hour, string(rune('a'+i)), "How do I back up chats", search.None, "")
	}
	ask(time.Hour, "d", "wechat logout", search.None, "")
	ask(50*time.Minute, "e", "log out", search.Clarify, "web-log-out", "remote-log-out")
	ask(50*time.Minute, "f", "log out", search.Clarify, "web-log-out", "remote-log-out")
	ask(40*time.Minute, "g", "delete everything", search.Answered, "phone-delete-account")
	ask(40*time.Minute, "h", "remove my account", search.Answered, "phone-delete-account")
	ask(40*time.Minute, "i", "log out web", search.Answered, "web-log-out")
	vote(30*time.Minute, "g", "phone-delete-account", false)
	vote(31*time.Minute, "h", "phone-delete-account", false)
	vote(30*time.Minute, "i", "web-log-out", true)
	vote(30*time.Minute, "f", "remote-log-out", false)
	flush(t, l)

	r, err := ReadReport(context.Background(), cfg.Path, now.Add(-7*24*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Outcomes, map[string]int{"none": 4, "clarify": 2, "answered": 3}; !mapsEqual(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	if r.Helpful != 1 || r.Unhelpful != 3 {
		t.Errorf("feedback 👍 %d 👎 %d, want 1 and 3", r.Helpful, r.Unhelpful)
	}
	if len(r.Declined) != 2 || r.Declined[0].Question != "how do i back up chats" || r.Declined[0].Count != 3 || r.Declined[1].Question != "wechat logout" {
		t.Errorf("declined %+v", r.Declined)
	}
	if len(r.Clarified) != 1 || r.Clarified[0].Count != 2 || !slices.Equal(r.Clarified[0].Choices, []string{"web-log-out", "remote-log-out"}) {
		t.Errorf("clarified %+v", r.Clarified)
	}
	want := []EntryFeedback{
		{EntryID: "phone-delete-account", Unhelpful: 2, Answered: 2, Example: "delete everything"},
		{EntryID: "remote-log-out", Unhelpful: 1, Answered: 0, Example: "log out"},
	}
	if !slices.Equal(r.WorstEntries, want) {
		t.Errorf("worst entries\n%+v\nwant\n%+v", r.WorstEntries, want)
	}

	if _, err := ReadReport(context.Background(), filepath.Join(t.TempDir(), "none.db"), time.Time{}, 10); !errors.Is(err, ErrNoLog) {
		t.Errorf("report on a missing log: %v, want ErrNoLog", err)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
