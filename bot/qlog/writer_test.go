package qlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"faqbot/bot"
	"faqbot/knowledge"
	"faqbot/search"
)

// clock is a settable clock for hooks.now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// openHooked opens a log with test hooks, closed with the test.
func openHooked(t *testing.T, cfg Config, h hooks) *Log {
	t.Helper()
	l, err := open(context.Background(), cfg, nil, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// writeConn opens a second writing connection to the log, as sqlite3 in a
// shell or another process would, waiting busy for a lock.
func writeConn(t *testing.T, path string, busy time.Duration) *sql.Conn {
	t.Helper()
	name, err := dsn(path, reader, 0)
	if err != nil {
		t.Fatal(err)
	}
	name = strings.Replace(name, "mode=ro", "mode=rw", 1)
	name = strings.Replace(name, "_pragma=query_only(1)", fmt.Sprintf("_pragma=busy_timeout(%d)", busy.Milliseconds()), 1)
	db, err := sql.Open("sqlite", name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// recordingHandler passes every log record to f.
type recordingHandler struct{ f func(slog.Record) }

func (h recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.f(r)
	return nil
}
func (h recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordingHandler) WithGroup(string) slog.Handler      { return h }

// TestBatchHoldsTheWriteLock: a batch that reads (the feedback's link)
// before it writes holds the write lock from its start, so another
// connection writing in between cannot make it fail. With a deferred
// transaction, that write succeeds and the batch's first insert fails at
// once with SQLITE_BUSY (busy_timeout does not apply to a read
// transaction that wants to write), losing every row of the batch.
func TestBatchHoldsTheWriteLock(t *testing.T) {
	cfg := testConfig(t)
	var other *sql.Conn
	var othersWrote int
	h := hooks{afterLink: func() {
		// Another connection writes while the batch is under way (it
		// does not wait: the batch holds the lock, or it does not).
		if _, err := other.ExecContext(context.Background(), "INSERT INTO meta (key, value) VALUES (?, 'x')", fmt.Sprint("other-", othersWrote)); err == nil {
			othersWrote++
		}
	}}
	l := openHooked(t, cfg, h)
	other = writeConn(t, cfg.Path, 0)
	now := time.Now()
	l.Record(Question{Time: now.Add(-time.Minute), Adapter: "telegram", User: "1", Question: "log out web", Outcome: search.Answered, EntryID: "web-log-out"})
	flush(t, l)
	if err := l.RecordFeedback(context.Background(), bot.Feedback{Time: now, Adapter: "telegram", User: "1", EntryID: "web-log-out"}); err != nil {
		t.Fatal(err)
	}
	l.Record(Question{Time: now, Adapter: "telegram", User: "1", Question: "and on my phone", Outcome: search.None})
	flush(t, l)
	if st := l.Stats(); st.Failed != 0 || st.Questions != 2 || st.Feedback != 1 {
		t.Errorf("stats %+v; want 2 questions and 1 feedback written, none failed (the other connection wrote %d times inside the batch)", st, othersWrote)
	}
	if got := feedbackRows(t, rawDB(t, cfg.Path)); len(got) != 1 || !got[0].QuestionID.Valid {
		t.Errorf("feedback rows %+v, want one, linked", got)
	}
}

// TestBatchIsTriedAgainWhenLocked: a batch that finds the database locked
// for longer than the busy timeout is written again, not lost.
func TestBatchIsTriedAgainWhenLocked(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	var other *sql.Conn
	var mu sync.Mutex
	retried := 0
	log := slog.New(recordingHandler{func(r slog.Record) {
		if !strings.Contains(r.Message, "writing the batch again") {
			return
		}
		// The first attempt failed on the lock: release it here, in the
		// writer, before its second attempt.
		mu.Lock()
		defer mu.Unlock()
		if retried++; retried == 1 {
			if _, err := other.ExecContext(ctx, "COMMIT"); err != nil {
				t.Error(err)
			}
		}
	}})
	l, err := open(ctx, cfg, log, hooks{busyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	other = writeConn(t, cfg.Path, time.Second)
	if _, err := other.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('other', 'x')"); err != nil {
		t.Fatal(err)
	}
	l.Record(Question{Adapter: "discord", User: "7", Question: "how do i log out", Outcome: search.None})
	l.RecordFeedback(ctx, bot.Feedback{Adapter: "discord", User: "7", EntryID: "web-log-out"})
	flush(t, l)
	mu.Lock()
	defer mu.Unlock()
	if st := l.Stats(); retried != 1 || st.Failed != 0 || st.Questions != 1 || st.Feedback != 1 {
		t.Errorf("tried again %d times, stats %+v; want once, and the question and the vote written", retried, st)
	}
}

// TestShutdownGivesUpAtItsDeadline: a Shutdown whose deadline passes while
// the database stays locked returns, counting the rows it could not write.
func TestShutdownGivesUpAtItsDeadline(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	l, err := open(ctx, cfg, nil, hooks{busyTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	other := writeConn(t, cfg.Path, time.Second)
	if _, err := other.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer other.ExecContext(ctx, "ROLLBACK")
	for i := range 5 {
		l.Record(Question{Adapter: "discord", User: fmt.Sprint(i), Question: "q", Outcome: search.None})
	}
	sctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- l.Shutdown(sctx) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "5 rows not written before the deadline") || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown: %v, want 5 rows not written and the deadline", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Shutdown did not return after its deadline")
	}
	if st := l.Stats(); st.Unwritten != 5 || st.Failed != 0 || st.Questions != 0 {
		t.Errorf("stats %+v, want 5 unwritten", st)
	}
	if l.Record(Question{Adapter: "discord"}) || l.Stats().Unwritten != 6 {
		t.Errorf("Record after Shutdown: stats %+v", l.Stats())
	}
}

// TestFlushDoesNotHoldUpClose: a Flush waiting for room in a full buffer
// neither keeps Close from starting nor makes Record wait behind it.
func TestFlushDoesNotHoldUpClose(t *testing.T) {
	cfg := testConfig(t)
	cfg.Buffer, cfg.BatchSize = 1, 1
	release := make(chan struct{})
	entered := make(chan struct{}, 16)
	l, err := open(context.Background(), cfg, nil, hooks{beforeBatch: func() {
		entered <- struct{}{}
		<-release
	}})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock()
	l.Record(Question{Adapter: "telegram", Question: "one", Outcome: search.None})
	<-entered // the writer holds "one"
	if !l.Record(Question{Adapter: "telegram", Question: "two", Outcome: search.None}) {
		t.Fatal("the buffer of one did not take a row")
	}
	flushed := make(chan error, 1)
	go func() { flushed <- l.Flush(context.Background()) }() // waits: the buffer is full
	closed := make(chan error, 1)
	go func() { closed <- l.Close() }()
	select {
	case err := <-flushed:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Flush once Close began: %v, want ErrClosed", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Flush still waits for room after Close began")
	}
	recorded := make(chan bool, 1)
	go func() { recorded <- l.Record(Question{Adapter: "telegram", Question: "three"}) }()
	select {
	case ok := <-recorded:
		if ok {
			t.Error("Record after Close took a row")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Record waits behind Close")
	}
	unblock()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.Questions != 2 || st.Unwritten != 1 {
		t.Errorf("stats %+v, want the 2 rows buffered before Close written and 1 unwritten", st)
	}
}

// TestRecordKeepsOnlyWhatTheEngineReads: a long message is cut where the
// engine stops reading before it waits in the buffer, and stored as the
// engine read it.
func TestRecordKeepsOnlyWhatTheEngineReads(t *testing.T) {
	long := strings.Repeat("how do I log out of whatsapp web ", 500) // 16.5 KB
	l := &Log{in: make(chan event, 1), now: time.Now}
	l.Record(Question{Question: long})
	ev := <-l.in
	if got := len(ev.q.Question); got > maxQuestionBytes {
		t.Errorf("queued %d bytes, want at most %d", got, maxQuestionBytes)
	}
	if got, want := StoredQuestion(ev.q.Question), search.Normalize(long); got != want {
		t.Errorf("stored %q…, want what the engine reads, %q…", got[:40], want[:40])
	}
}

// TestReportWhileWriting: reports read while the writer writes agree with
// themselves (one transaction) and never fail on a lock.
func TestReportWhileWriting(t *testing.T) {
	cfg := testConfig(t)
	cfg.BatchSize = 3
	l := openTest(t, cfg)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if !l.Record(Question{Adapter: "telegram", User: fmt.Sprint(i), Question: "how do i back up my chats", Lang: knowledge.English, Outcome: search.None}) {
				time.Sleep(time.Millisecond) // the buffer is full: let the writer catch up
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	ctx := context.Background()
	seen := 0
	for range 60 {
		r, err := ReadReport(ctx, cfg.Path, time.Time{}, 10)
		if err != nil {
			t.Fatalf("report while writing: %v", err)
		}
		declined := 0
		if len(r.Declined) > 0 {
			declined = r.Declined[0].Count
		}
		if r.Outcomes["none"] != declined {
			t.Fatalf("one report counts %d declined questions in all, and %d for the only question declined", r.Outcomes["none"], declined)
		}
		seen = declined
	}
	if seen == 0 {
		t.Error("the reports saw no row")
	}
}
