// Package qlog is faqbot's question log: an embedded SQLite database (the
// pure-Go modernc.org/sqlite driver, no cgo) of the questions the bot was
// asked, what it did with them, and the 👍/👎 feedback on its answers. It
// is what an operator reads (faqbot report) to learn which questions the
// guides miss.
//
// Writes never hold up an answer: Record hands a row to a bounded buffer
// that one goroutine writes in batches, one transaction per batch; when the
// buffer is full the row is dropped and counted. Close writes what is
// buffered.
//
// Privacy: user ids are stored only as salted hashes (HMAC-SHA256), the
// question only normalised and with long numbers and e-mail addresses
// masked, and rows older than the retention are deleted.
package qlog

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"faqbot/bot"
	"faqbot/knowledge"
	"faqbot/search"
)

// Config configures a Log. Start from DefaultConfig.
type Config struct {
	// Path is the database file; it is created when missing. It must not
	// contain '?' (the driver reads options after it).
	Path string
	// Retention is how long rows are kept; older ones are deleted at Open
	// and every PruneEvery after.
	Retention  time.Duration
	PruneEvery time.Duration
	// Salt keys the hash of user ids. Empty: a random salt generated at the
	// first Open and stored in the database. A salt kept apart from the
	// database (in the service's environment) protects better: chat user
	// ids are numbers that can be enumerated, so whoever has both the rows
	// and the salt can find a user's rows. A salt set here has at least
	// MinSaltLen bytes; it is never printed (see String).
	Salt string
	// Buffer is how many rows may wait to be written; BatchSize the most
	// written in one transaction.
	Buffer    int
	BatchSize int
}

// DefaultConfig returns the defaults: 90 days' retention, pruned hourly, a
// buffer of 4096 rows written up to 256 at a time.
func DefaultConfig() Config {
	return Config{
		Path:       "faqbot.db",
		Retention:  90 * 24 * time.Hour,
		PruneEvery: time.Hour,
		Buffer:     4096,
		BatchSize:  256,
	}
}

// MinSaltLen is the shortest salt Config takes: a short one could be
// guessed, and would be too common a string to hide in logs.
const MinSaltLen = 16

// Validate reports the first setting that cannot work, naming it (and its
// value, except the salt's).
func (c Config) Validate() error {
	switch {
	case c.Salt != "" && len(c.Salt) < MinSaltLen:
		return fmt.Errorf("qlog: Salt is shorter than %d bytes (the value is not shown; generate one with openssl rand -hex 32)", MinSaltLen)
	case c.Path == "":
		return errors.New("qlog: Path is empty")
	case strings.ContainsRune(c.Path, '?'):
		return fmt.Errorf("qlog: Path %q contains '?'", c.Path)
	case c.Retention < time.Hour:
		return fmt.Errorf("qlog: Retention %v is below one hour", c.Retention)
	case c.PruneEvery <= 0:
		return fmt.Errorf("qlog: PruneEvery %v is not positive", c.PruneEvery)
	case c.Buffer < 1:
		return fmt.Errorf("qlog: Buffer %d is below 1", c.Buffer)
	case c.BatchSize < 1:
		return fmt.Errorf("qlog: BatchSize %d is below 1", c.BatchSize)
	}
	return nil
}

// String describes the configuration with the salt hidden, so a Config
// printed or logged by mistake does not show it.
func (c Config) String() string {
	if c.Salt != "" {
		c.Salt = "[redacted]"
	}
	type plain Config // no String method: no recursion
	return fmt.Sprintf("%+v", plain(c))
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// LogValue is String, for log/slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Question is one question and what the bot did with it, as Record takes
// it: User and Question as the transport saw them; the log hashes the one
// and normalises and masks the other before storing them.
type Question struct {
	Time    time.Time
	Adapter string
	// User is the asker's id within the adapter; "" when unknown.
	User     string
	Question string
	Lang     knowledge.Lang
	// Outcome is the engine's, or "error" when it failed.
	Outcome    search.Outcome
	EntryID    string
	Choices    []string // the other entries offered by a clarification
	Confidence float64
	Latency    time.Duration
}

// OutcomeError is the outcome logged for a question the engine failed on.
const OutcomeError search.Outcome = "error"

// Stats are the log's counters since Open.
type Stats struct {
	Questions uint64 // question rows written
	Feedback  uint64 // feedback rows written
	Dropped   uint64 // rows dropped: the buffer was full, or the log closed
	Failed    uint64 // rows lost to a failed write
}

// Log is an open question log. It is safe for concurrent use.
type Log struct {
	cfg  Config
	db   *sql.DB
	salt []byte
	log  *slog.Logger
	now  func() time.Time

	mu     sync.RWMutex // guards closed against sends on in
	closed bool
	in     chan event
	done   chan struct{}

	questions, feedback, dropped, failed atomic.Uint64
}

var _ bot.FeedbackSink = (*Log)(nil)

// event is one thing for the writer: a question, a feedback, or a flush
// marker (flushed is closed once everything before it is written).
type event struct {
	q       *Question
	f       *bot.Feedback
	flushed chan struct{}
}

// schema is the database layout (PRAGMA user_version 1). Times are Unix
// milliseconds (UTC); in sqlite3: datetime(time/1000, 'unixepoch').
const schema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS questions (
	id         INTEGER PRIMARY KEY,
	time       INTEGER NOT NULL,
	adapter    TEXT NOT NULL,
	user_hash  TEXT NOT NULL,
	lang       TEXT NOT NULL,
	question   TEXT NOT NULL,
	outcome    TEXT NOT NULL,
	entry_id   TEXT NOT NULL,
	choices    TEXT NOT NULL,
	confidence REAL NOT NULL,
	latency_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS questions_time ON questions(time);
CREATE INDEX IF NOT EXISTS questions_asker ON questions(adapter, user_hash, time);
CREATE TABLE IF NOT EXISTS feedback (
	id          INTEGER PRIMARY KEY,
	time        INTEGER NOT NULL,
	adapter     TEXT NOT NULL,
	user_hash   TEXT NOT NULL,
	entry_id    TEXT NOT NULL,
	lang        TEXT NOT NULL,
	helpful     INTEGER NOT NULL,
	question_id INTEGER REFERENCES questions(id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS feedback_once ON feedback(question_id, user_hash) WHERE question_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS feedback_time ON feedback(time);
CREATE INDEX IF NOT EXISTS feedback_question ON feedback(question_id);
PRAGMA user_version = 1;
`

// schemaVersion is the user_version this package writes and reads.
const schemaVersion = 1

// open opens the database at path with the pragmas every connection needs.
func open(path string, readOnly bool) (*sql.DB, error) {
	dsn := path + "?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
	if readOnly {
		dsn += "&_pragma=query_only(1)"
	} else {
		dsn += "&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open question log %s: %w", path, err)
	}
	return db, nil
}

// Open opens (creating if need be) the log at cfg.Path, deletes rows older
// than the retention and starts the writer. Close it when done.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Created here, readable by the owner alone (SQLite gives its journal
	// files the same mode); an existing file keeps its mode.
	if f, err := os.OpenFile(cfg.Path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("open question log %s: %w", cfg.Path, err)
	}
	db, err := open(cfg.Path, false)
	if err != nil {
		return nil, err
	}
	// One connection: SQLite has one writer, and the writer goroutine is
	// the only user.
	db.SetMaxOpenConns(1)
	l := &Log{cfg: cfg, db: db, log: log, now: time.Now, in: make(chan event, cfg.Buffer), done: make(chan struct{})}
	if err := l.init(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open question log %s: %w", cfg.Path, err)
	}
	if err := l.prune(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open question log %s: %w", cfg.Path, err)
	}
	go l.write()
	return l, nil
}

// init creates the tables and reads or makes the salt.
func (l *Log) init(ctx context.Context) error {
	var version int
	if err := l.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version > schemaVersion {
		return fmt.Errorf("the database has schema version %d; this faqbot knows %d", version, schemaVersion)
	}
	if _, err := l.db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create tables: %w", err)
	}
	if l.cfg.Salt != "" {
		l.salt = []byte(l.cfg.Salt)
		return nil
	}
	var stored string
	err := l.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'salt'").Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		buf := make([]byte, 32)
		if _, err := rand.Read(buf); err != nil {
			return fmt.Errorf("generate salt: %w", err)
		}
		stored = hex.EncodeToString(buf)
		// INSERT OR IGNORE, then read back: two processes opening a new
		// database at once agree on one salt.
		if _, err := l.db.ExecContext(ctx, "INSERT OR IGNORE INTO meta (key, value) VALUES ('salt', ?)", stored); err != nil {
			return fmt.Errorf("store salt: %w", err)
		}
		err = l.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'salt'").Scan(&stored)
	}
	if err != nil {
		return fmt.Errorf("read salt: %w", err)
	}
	l.salt = []byte(stored)
	return nil
}

// HashUser returns the stored form of a user id: the first 128 bits of
// HMAC-SHA256(salt, adapter ":" user), in hex; "" for an unknown user.
func (l *Log) HashUser(adapter, user string) string {
	if user == "" {
		return ""
	}
	m := hmac.New(sha256.New, l.salt)
	m.Write([]byte(adapter + ":" + user))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Record queues q for writing and reports whether it was taken: it never
// waits, and drops q (counting it) when the buffer is full or the log is
// closed.
func (l *Log) Record(q Question) bool {
	if q.Time.IsZero() {
		q.Time = l.now()
	}
	return l.send(event{q: &q})
}

// RecordFeedback queues f for writing, linked to the answer it is about
// (see link). It implements bot.FeedbackSink; it never waits, and fails
// when the buffer is full, so the transport can tell the user to try again.
func (l *Log) RecordFeedback(_ context.Context, f bot.Feedback) error {
	if f.Time.IsZero() {
		f.Time = l.now()
	}
	if !l.send(event{f: &f}) {
		return errors.New("question log is busy: feedback not recorded")
	}
	return nil
}

func (l *Log) send(ev event) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if !l.closed {
		select {
		case l.in <- ev:
			return true
		default:
		}
	}
	l.dropped.Add(1)
	return false
}

// Flush waits until every row recorded before it is written (or lost to a
// failed write).
func (l *Log) Flush(ctx context.Context) error {
	flushed := make(chan struct{})
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return nil // Close wrote everything
	}
	select {
	case l.in <- event{flushed: flushed}:
		l.mu.RUnlock()
	case <-ctx.Done():
		l.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case <-flushed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes the rows still buffered, stops the writer and closes the
// database. Rows recorded after Close are dropped.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.in)
	l.mu.Unlock()
	<-l.done
	return l.db.Close()
}

// Stats returns the counters.
func (l *Log) Stats() Stats {
	return Stats{Questions: l.questions.Load(), Feedback: l.feedback.Load(), Dropped: l.dropped.Load(), Failed: l.failed.Load()}
}

// write is the writer goroutine: it takes what is buffered, up to
// BatchSize, writes it in one transaction, and prunes old rows every
// PruneEvery, until Close.
func (l *Log) write() {
	defer close(l.done)
	prune := time.NewTicker(l.cfg.PruneEvery)
	defer prune.Stop()
	batch := make([]event, 0, l.cfg.BatchSize)
	for {
		select {
		case ev, ok := <-l.in:
			if !ok {
				return
			}
			batch = append(batch[:0], ev)
			open := true
		more:
			for open && len(batch) < l.cfg.BatchSize {
				select {
				case ev, open = <-l.in:
					if open {
						batch = append(batch, ev)
					}
				default:
					break more
				}
			}
			l.writeBatch(batch)
			if !open {
				return
			}
		case <-prune.C:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if err := l.prune(ctx); err != nil {
				l.log.Error("question log: deleting old rows failed", "err", err)
			}
			cancel()
		}
	}
}

// writeBatch writes a batch in one transaction and releases its flush
// markers. A failed write loses the batch's rows: they are counted and
// logged, and the bot answers on.
func (l *Log) writeBatch(batch []event) {
	var nq, nf uint64
	for _, ev := range batch {
		switch {
		case ev.q != nil:
			nq++
		case ev.f != nil:
			nf++
		}
	}
	if nq+nf > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := l.insert(ctx, batch)
		cancel()
		if err != nil {
			l.failed.Add(nq + nf)
			l.log.Error("question log: write failed; rows lost", "rows", nq+nf, "err", err)
		} else {
			l.questions.Add(nq)
			l.feedback.Add(nf)
		}
	}
	for _, ev := range batch {
		if ev.flushed != nil {
			close(ev.flushed)
		}
	}
}

func (l *Log) insert(ctx context.Context, batch []event) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	insQ, err := tx.PrepareContext(ctx, `INSERT INTO questions
		(time, adapter, user_hash, lang, question, outcome, entry_id, choices, confidence, latency_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer insQ.Close()
	link, err := tx.PrepareContext(ctx, linkQuery)
	if err != nil {
		return err
	}
	defer link.Close()
	insF, err := tx.PrepareContext(ctx, `INSERT INTO feedback
		(time, adapter, user_hash, entry_id, lang, helpful, question_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (question_id, user_hash) WHERE question_id IS NOT NULL
		DO UPDATE SET time = excluded.time, helpful = excluded.helpful, lang = excluded.lang`)
	if err != nil {
		return err
	}
	defer insF.Close()
	for _, ev := range batch {
		switch {
		case ev.q != nil:
			q := ev.q
			_, err = insQ.ExecContext(ctx, q.Time.UnixMilli(), q.Adapter, l.HashUser(q.Adapter, q.User), string(q.Lang),
				StoredQuestion(q.Question), string(q.Outcome), q.EntryID, strings.Join(q.Choices, ","),
				q.Confidence, q.Latency.Microseconds())
		case ev.f != nil:
			f := ev.f
			user := l.HashUser(f.Adapter, f.User)
			var qid sql.NullInt64
			if user != "" {
				err = link.QueryRowContext(ctx, f.Adapter, user, f.Time.UnixMilli(), f.EntryID, ","+f.EntryID+",").Scan(&qid)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("link feedback: %w", err)
				}
			}
			_, err = insF.ExecContext(ctx, f.Time.UnixMilli(), f.Adapter, user, f.EntryID, string(f.Lang), f.Helpful, qid)
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

// linkQuery finds the answer a feedback is about: the same user's most
// recent question, on the same adapter and not after the feedback, that
// was answered with the entry voted on, or that offered it as a choice (a
// clarification, then the user picked it). Buttons carry no reference to
// the question (Telegram's 64 bytes of callback data leave no room beside
// a long entry id, and buttons already sent must keep working), so this is
// the link: exact unless the user asked twice for the same entry and voted
// on the older answer, which then counts for the newer one. A vote with no
// such question (someone else's answer, in a group) is kept unlinked.
const linkQuery = `SELECT id FROM questions
	WHERE adapter = ? AND user_hash = ? AND time <= ?
	  AND (entry_id = ? OR (outcome = 'clarify' AND instr(',' || choices || ',', ?) > 0))
	ORDER BY time DESC, id DESC LIMIT 1`

// prune deletes the rows older than the retention.
func (l *Log) prune(ctx context.Context) error {
	cutoff := l.now().Add(-l.cfg.Retention).UnixMilli()
	for _, q := range []string{"DELETE FROM feedback WHERE time < ?", "DELETE FROM questions WHERE time < ?"} {
		if _, err := l.db.ExecContext(ctx, q, cutoff); err != nil {
			return fmt.Errorf("delete old rows: %w", err)
		}
	}
	return nil
}

// StoredQuestion is a question as the log stores it: normalised like the
// engine reads it (search.Normalize), with e-mail addresses replaced by
// "<email>" and numbers of five digits or more (phone numbers,
// verification codes) by "<number>".
func StoredQuestion(q string) string {
	q = search.Normalize(q)
	q = emailPattern.ReplaceAllString(q, "<email>")
	return numberPattern.ReplaceAllString(q, "<number>")
}

var (
	emailPattern = regexp.MustCompile(`[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+`)
	// Digits, possibly split by spaces, dashes, dots or brackets, five or
	// more in all: +86 138-0013-8000, 123 456.
	numberPattern = regexp.MustCompile(`\+?\d(?:[ ().-]*\d){4,}`)
)
