// Package qlog is faqbot's question log: an embedded SQLite database (the
// pure-Go modernc.org/sqlite driver, no cgo) of the questions the bot was
// asked, what it did with them, the 👍/👎 feedback on its answers, and
// which of a clarification's choices its asker picked. It is what an
// operator reads (faqbot report) to learn which questions the guides miss
// and which entries are too close to tell apart.
//
// Writes never hold up an answer: Record hands a row to a bounded buffer
// that one goroutine writes in batches, one transaction per batch; when the
// buffer is full the row is dropped and counted. Close (or Shutdown, with a
// deadline) writes what is buffered.
//
// Privacy: user ids are stored only as salted hashes (HMAC-SHA256; the
// salt is kept out of the database, see SaltFile), the question only
// normalised and with long numbers and e-mail addresses masked, and rows
// older than the retention are deleted and overwritten (secure_delete, then
// a WAL checkpoint), not merely unlinked.
package qlog

import (
	"context"
	"crypto/hmac"
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
	"unicode/utf8"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"faqbot/bot"
	"faqbot/knowledge"
	"faqbot/search"
)

// Config configures a Log. Start from DefaultConfig.
type Config struct {
	// Path is the database file; it is created when missing. Any file
	// name will do: it is given to SQLite as a URI of its absolute path.
	Path string
	// Retention is how long rows are kept; older ones are deleted at Open
	// and every PruneEvery after. At least MinRetention.
	Retention  time.Duration
	PruneEvery time.Duration
	// Salt keys the hash of user ids: at least MinSaltLen bytes. Empty: a
	// random salt generated at the first Open and kept in SaltFile(Path).
	// The log remembers the salt's fingerprint and refuses to open with
	// another, whose hashes would match none of its rows.
	Salt string
	// Buffer is how many rows may wait to be written; BatchSize the most
	// written in one transaction.
	Buffer    int
	BatchSize int
}

// MinRetention is the shortest Retention.
const MinRetention = time.Hour

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

// Validate reports the first setting that cannot work, naming it and its
// value (never the salt's).
func (c Config) Validate() error {
	if c.Path == "" {
		return errors.New("qlog: Path is empty")
	}
	if err := checkPath(c.Path); err != nil {
		return fmt.Errorf("qlog: Path %q: %w", c.Path, err)
	}
	switch {
	case c.Retention < MinRetention:
		return fmt.Errorf("qlog: Retention %v is below %v", c.Retention, MinRetention)
	case c.PruneEvery <= 0:
		return fmt.Errorf("qlog: PruneEvery %v is not positive", c.PruneEvery)
	case c.Salt != "" && len(c.Salt) < MinSaltLen:
		return fmt.Errorf("qlog: Salt is shorter than %d bytes (the value is not shown; generate one with openssl rand -hex 32)", MinSaltLen)
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

// Choice is a user pressing one of a clarification's buttons: the entry
// they meant. The log links it to the clarification that offered it (see
// chooseQuery).
type Choice struct {
	Time    time.Time
	Adapter string
	// User is the chooser's id within the adapter; "" when unknown (the
	// choice is then linked to nothing).
	User    string
	EntryID string
}

// OutcomeError is the outcome logged for a question the engine failed on.
const OutcomeError search.Outcome = "error"

// Stats are the log's counters since Open.
type Stats struct {
	Questions uint64 // question rows written
	// Feedback counts the votes written: a vote that replaces the same
	// user's earlier one on the same answer (or, unlinked, on the same
	// entry) counts again, though the log keeps one row.
	Feedback uint64
	// Choices counts the choices linked to the clarification they were
	// made from (its chosen entry written); UnlinkedChoices those with no
	// such clarification in the log (pressed by another user in a group,
	// or after the clarification's row was deleted or never written),
	// which are counted and not stored.
	Choices, UnlinkedChoices uint64
	// Dropped, Unwritten and Failed count questions, votes and choices.
	Dropped uint64 // rows dropped because the buffer was full
	// Unwritten counts the rows the log did not write because it was
	// closing: recorded after Close began, or still buffered when
	// Shutdown's deadline passed.
	Unwritten uint64
	Failed    uint64 // rows lost to a failed write
}

// The errors RecordFeedback returns when it does not take a vote.
var (
	// ErrBusy: the buffer is full; the vote may be tried again.
	ErrBusy = errors.New("question log is busy: feedback not recorded")
	// ErrClosed: the log is closed (faqbot is stopping).
	ErrClosed = errors.New("question log is closed: feedback not recorded")
)

// Log is an open question log. It is safe for concurrent use.
type Log struct {
	cfg       Config
	h         hooks
	db        *sql.DB
	salt      []byte
	log       *slog.Logger
	now       func() time.Time
	movedSalt bool // init moved a version 1 salt out of the database

	mu     sync.RWMutex // guards closed against Record's sends after Close
	closed bool
	in     chan event
	quit   chan struct{} // closed by Close: write what is buffered, then stop
	done   chan struct{} // closed when the writer has stopped
	// writeCtx bounds the writer's statements; abandon ends it when
	// Shutdown's deadline passes.
	writeCtx context.Context
	abandon  context.CancelFunc

	questions, feedback, choices, unlinkedChoices, dropped, unwritten, failed atomic.Uint64
}

var _ bot.FeedbackSink = (*Log)(nil)

// hooks are what tests change of a Log; the zero value is production.
type hooks struct {
	now         func() time.Time // the clock (time.Now)
	busyTimeout time.Duration    // defaultBusyTimeout
	pruneChunk  int              // defaultPruneChunk
	// afterLink runs in the writer after a feedback's link query, inside
	// the batch's transaction; beforeBatch before each batch is written.
	afterLink   func()
	beforeBatch func()
}

// event is one thing for the writer: a question, a feedback, a choice,
// or a flush marker (flushed is closed once everything before it is
// written).
type event struct {
	q       *Question
	f       *bot.Feedback
	c       *Choice
	flushed chan struct{}
}

// row reports whether ev is something to write (not a flush marker).
func (ev event) row() bool { return ev.q != nil || ev.f != nil || ev.c != nil }

// Open opens (creating if need be) the log at cfg.Path, deletes rows older
// than the retention and starts the writer. Close it when done.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Log, error) {
	return open(ctx, cfg, log, hooks{})
}

func open(ctx context.Context, cfg Config, log *slog.Logger, h hooks) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.busyTimeout <= 0 {
		h.busyTimeout = defaultBusyTimeout
	}
	if h.pruneChunk <= 0 {
		h.pruneChunk = defaultPruneChunk
	}
	// Created here, readable by the owner alone (SQLite gives its journal
	// files the same mode); an existing file keeps its mode.
	if f, err := os.OpenFile(cfg.Path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("open question log %s: %w", cfg.Path, err)
	}
	db, err := openDB(cfg.Path, writer, h.busyTimeout)
	if err != nil {
		return nil, fmt.Errorf("open question log %s: %w", cfg.Path, err)
	}
	// One connection: SQLite has one writer, and the writer goroutine is
	// the only user.
	db.SetMaxOpenConns(1)
	wctx, abandon := context.WithCancel(context.Background())
	l := &Log{
		cfg: cfg, h: h, db: db, log: log, now: h.now,
		in: make(chan event, cfg.Buffer), quit: make(chan struct{}), done: make(chan struct{}),
		writeCtx: wctx, abandon: abandon,
	}
	fail := func(err error) (*Log, error) {
		abandon()
		db.Close()
		return nil, fmt.Errorf("open question log %s: %w", cfg.Path, err)
	}
	if err := l.init(ctx); err != nil {
		return fail(err)
	}
	n, err := pruneAll(ctx, db, l.cutoff(), h.pruneChunk)
	if err != nil {
		return fail(err)
	}
	if n == 0 && l.movedSalt {
		// Clear the old salt from the WAL too.
		if _, err := checkpoint(ctx, db); err != nil {
			return fail(err)
		}
	}
	go l.write()
	return l, nil
}

// init creates the tables (or brings an older log's up to date) and
// finds the salt, in one transaction.
func (l *Log) init(ctx context.Context) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	version, err := readVersion(ctx, tx)
	if err != nil {
		return err
	}
	switch version {
	case 0:
		_, err = tx.ExecContext(ctx, schema)
	case 1:
		_, err = tx.ExecContext(ctx, migrateV1+migrateV2)
	case 2:
		_, err = tx.ExecContext(ctx, migrateV2)
	}
	if err != nil {
		return fmt.Errorf("create tables (from version %d): %w", version, err)
	}
	if version != schemaVersion {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
			return err
		}
	}
	if l.salt, err = l.loadSalt(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// cutoff is the time (Unix ms) before which rows are too old to keep.
func (l *Log) cutoff() int64 { return l.now().Add(-l.cfg.Retention).UnixMilli() }

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

// maxQuestionBytes is as much of a question as the engine reads (it cuts
// there before normalising): the rest is not kept waiting in the buffer.
const maxQuestionBytes = search.MaxQueryRunes * utf8.UTFMax

// Record queues q for writing and reports whether it was taken: it never
// waits, and drops q (counting it) when the buffer is full or the log is
// closed.
func (l *Log) Record(q Question) bool {
	if q.Time.IsZero() {
		q.Time = l.now()
	}
	if len(q.Question) > maxQuestionBytes {
		// A copy: a slice would keep the whole message in memory.
		q.Question = strings.Clone(q.Question[:maxQuestionBytes])
	}
	return l.send(event{q: &q}) == nil
}

// RecordFeedback queues f for writing, linked to the answer it is about
// (see linkQuery). It implements bot.FeedbackSink; it never waits, and
// fails with ErrBusy when the buffer is full (the transport can tell the
// user to try again) and ErrClosed once the log is closed.
func (l *Log) RecordFeedback(_ context.Context, f bot.Feedback) error {
	if f.Time.IsZero() {
		f.Time = l.now()
	}
	return l.send(event{f: &f})
}

// RecordChoice queues c for writing: the entry is set as the choice of
// the clarification it is linked to, or counted as unlinked. Like Record
// it never waits, and reports whether c was taken.
func (l *Log) RecordChoice(c Choice) bool {
	if c.Time.IsZero() {
		c.Time = l.now()
	}
	return l.send(event{c: &c}) == nil
}

func (l *Log) send(ev event) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		l.unwritten.Add(1)
		return ErrClosed
	}
	select {
	case l.in <- ev:
		return nil
	default:
		l.dropped.Add(1)
		return ErrBusy
	}
}

// Flush waits until every row recorded before it is written (or lost to a
// failed write). It fails with ErrClosed when the log closed first.
func (l *Log) Flush(ctx context.Context) error {
	flushed := make(chan struct{})
	// No lock here: Flush may wait for room in the buffer, and a lock held
	// meanwhile would hold up Close, and every Record behind it. The
	// channel is never closed, so the send is safe; once quit is closed the
	// writer may be gone.
	select {
	case l.in <- event{flushed: flushed}:
	case <-l.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-flushed:
		return nil
	case <-l.done:
		select {
		case <-flushed:
			return nil
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes the rows still buffered, stops the writer and closes the
// database; it waits as long as that takes. Rows recorded after Close are
// not written (and counted as Unwritten).
func (l *Log) Close() error { return l.Shutdown(context.Background()) }

// Shutdown is Close within ctx: when ctx is done before the buffer is
// written out, the rows left are given up (counted as Unwritten; a
// statement waiting for a lock gives up too) and Shutdown returns an error
// saying so, after closing the database.
func (l *Log) Shutdown(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.done
		return nil
	}
	l.closed = true
	close(l.quit)
	l.mu.Unlock()
	var err error
	select {
	case <-l.done:
	case <-ctx.Done():
		before := l.unwritten.Load()
		l.abandon()
		<-l.done
		err = fmt.Errorf("question log: %d rows not written before the deadline: %w", l.unwritten.Load()-before, ctx.Err())
	}
	l.abandon()
	return errors.Join(err, l.db.Close())
}

// Stats returns the counters.
func (l *Log) Stats() Stats {
	return Stats{
		Questions: l.questions.Load(), Feedback: l.feedback.Load(),
		Choices: l.choices.Load(), UnlinkedChoices: l.unlinkedChoices.Load(),
		Dropped: l.dropped.Load(), Unwritten: l.unwritten.Load(), Failed: l.failed.Load(),
	}
}

// write is the writer goroutine: it takes what is buffered, up to
// BatchSize, and writes it in one transaction; every PruneEvery it deletes
// the rows that have grown too old, a chunk at a time between batches;
// after Close it writes what is left and stops.
func (l *Log) write() {
	defer close(l.done)
	ticker := time.NewTicker(l.cfg.PruneEvery)
	defer ticker.Stop()
	var (
		pruning   bool  // deleting old rows, a chunk per turn
		cutoff    int64 // of the pruning under way
		pruned    int64 // rows it deleted so far
		unflushed bool  // a checkpoint is still due (a reader kept it from finishing)
	)
	batch := make([]event, 0, l.cfg.BatchSize)
	for {
		if pruning {
			// Rows waiting go first; then one chunk.
			select {
			case ev := <-l.in:
				l.writeBatch(l.collect(batch, ev))
				continue
			case <-l.quit:
				l.drain(batch)
				return
			default:
			}
			n, err := l.pruneChunk(cutoff)
			pruned += n
			if err != nil {
				l.log.Error("question log: deleting old rows failed", "err", err)
			}
			if err != nil || n == 0 {
				pruning = false
				if pruned > 0 || unflushed {
					unflushed = !l.checkpoint()
				}
				if pruned > 0 {
					l.log.Debug("question log: old rows deleted", "rows", pruned)
				}
			}
			continue
		}
		select {
		case ev := <-l.in:
			l.writeBatch(l.collect(batch, ev))
		case <-ticker.C:
			pruning, cutoff, pruned = true, l.cutoff(), 0
		case <-l.quit:
			l.drain(batch)
			return
		}
	}
}

// collect adds to first what else is buffered, up to BatchSize.
func (l *Log) collect(batch []event, first event) []event {
	batch = append(batch[:0], first)
	for len(batch) < l.cfg.BatchSize {
		select {
		case ev := <-l.in:
			batch = append(batch, ev)
		default:
			return batch
		}
	}
	return batch
}

// drain writes what is buffered after Close, until the buffer is empty or
// Shutdown gives up; what is left then is counted as unwritten.
func (l *Log) drain(batch []event) {
	for l.writeCtx.Err() == nil {
		select {
		case ev := <-l.in:
			l.writeBatch(l.collect(batch, ev))
		default:
			return
		}
	}
	for {
		select {
		case ev := <-l.in:
			if ev.row() {
				l.unwritten.Add(1)
			}
			if ev.flushed != nil {
				close(ev.flushed)
			}
		default:
			return
		}
	}
}

func (l *Log) pruneChunk(cutoff int64) (int64, error) {
	ctx, cancel := context.WithTimeout(l.writeCtx, time.Minute)
	defer cancel()
	return pruneChunk(ctx, l.db, cutoff, l.h.pruneChunk)
}

func (l *Log) checkpoint() bool {
	ctx, cancel := context.WithTimeout(l.writeCtx, time.Minute)
	defer cancel()
	done, err := checkpoint(ctx, l.db)
	if err != nil {
		l.log.Error("question log: checkpoint after deleting old rows failed", "err", err)
	} else if !done {
		l.log.Warn("question log: a reader kept the checkpoint after deleting old rows from finishing; the next pruning finishes it")
	}
	return done
}

// writeBatch writes a batch in one transaction and releases its flush
// markers. A batch that finds the database locked for longer than the busy
// timeout is tried once more. A failed write loses the batch's rows: they
// are counted and logged, and the bot answers on.
func (l *Log) writeBatch(batch []event) {
	if l.h.beforeBatch != nil {
		l.h.beforeBatch()
	}
	var nq, nf, nc uint64
	for _, ev := range batch {
		switch {
		case ev.q != nil:
			nq++
		case ev.f != nil:
			nf++
		case ev.c != nil:
			nc++
		}
	}
	if n := nq + nf + nc; n > 0 {
		linked, err := l.insert(batch)
		if isBusy(err) && l.writeCtx.Err() == nil {
			l.log.Warn("question log: the database was locked; writing the batch again", "rows", n, "err", err)
			linked, err = l.insert(batch)
		}
		switch {
		case err == nil:
			l.questions.Add(nq)
			l.feedback.Add(nf)
			l.choices.Add(linked)
			l.unlinkedChoices.Add(nc - linked)
		case l.writeCtx.Err() != nil: // Shutdown gave up
			l.unwritten.Add(n)
		default:
			l.failed.Add(n)
			l.log.Error("question log: write failed; rows lost", "rows", n, "err", err)
		}
	}
	for _, ev := range batch {
		if ev.flushed != nil {
			close(ev.flushed)
		}
	}
}

// insert writes batch in one transaction and returns how many of its
// choices it linked to their clarification.
func (l *Log) insert(batch []event) (linked uint64, err error) {
	ctx, cancel := context.WithTimeout(l.writeCtx, time.Minute)
	defer cancel()
	// BEGIN IMMEDIATE (the writer's _txlock): the write lock is taken, or
	// waited for, before the first read.
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	choose, err := tx.PrepareContext(ctx, chooseQuery)
	if err != nil {
		return 0, err
	}
	defer choose.Close()
	insQ, err := tx.PrepareContext(ctx, `INSERT INTO questions
		(time, adapter, user_hash, lang, question, outcome, entry_id, choices, confidence, latency_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, err
	}
	defer insQ.Close()
	link, err := tx.PrepareContext(ctx, linkQuery)
	if err != nil {
		return 0, err
	}
	defer link.Close()
	// One vote per user and answer, or per user and entry when it is
	// linked to no answer: a second press replaces the first.
	insLinked, err := tx.PrepareContext(ctx, `INSERT INTO feedback
		(time, adapter, user_hash, entry_id, lang, helpful, question_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (question_id, user_hash) WHERE question_id IS NOT NULL
		DO UPDATE SET time = excluded.time, helpful = excluded.helpful, lang = excluded.lang`)
	if err != nil {
		return 0, err
	}
	defer insLinked.Close()
	insUnlinked, err := tx.PrepareContext(ctx, `INSERT INTO feedback
		(time, adapter, user_hash, entry_id, lang, helpful, question_id)
		VALUES (?, ?, ?, ?, ?, ?, NULL)
		ON CONFLICT (adapter, user_hash, entry_id) WHERE question_id IS NULL AND user_hash != ''
		DO UPDATE SET time = excluded.time, helpful = excluded.helpful, lang = excluded.lang`)
	if err != nil {
		return 0, err
	}
	defer insUnlinked.Close()
	cutoff := l.cutoff()
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
				err = link.QueryRowContext(ctx, f.Adapter, user, f.Time.UnixMilli(), cutoff, f.EntryID, ","+f.EntryID+",").Scan(&qid)
				if err != nil && !errors.Is(err, sql.ErrNoRows) {
					return 0, fmt.Errorf("link feedback: %w", err)
				}
				if l.h.afterLink != nil {
					l.h.afterLink()
				}
			}
			if qid.Valid {
				_, err = insLinked.ExecContext(ctx, f.Time.UnixMilli(), f.Adapter, user, f.EntryID, string(f.Lang), f.Helpful, qid)
			} else {
				_, err = insUnlinked.ExecContext(ctx, f.Time.UnixMilli(), f.Adapter, user, f.EntryID, string(f.Lang), f.Helpful)
			}
		case ev.c != nil:
			c := ev.c
			user := l.HashUser(c.Adapter, c.User)
			if user == "" {
				continue
			}
			var res sql.Result
			res, err = choose.ExecContext(ctx, c.EntryID, c.Adapter, user, c.Time.UnixMilli(), cutoff, ","+c.EntryID+",")
			if err == nil {
				var n int64
				if n, err = res.RowsAffected(); n > 0 {
					linked++
				}
			}
		}
		if err != nil {
			return 0, err
		}
	}
	return linked, tx.Commit()
}

// linkQuery finds the answer a feedback is about: the same user's most
// recent question, on the same adapter, not after the feedback and not
// older than the retention (it is about to be deleted), that was answered
// with the entry voted on, or that offered it as a choice (a
// clarification, then the user picked it). Buttons carry no reference to
// the question (Telegram's 64 bytes of callback data leave no room beside
// a long entry id, and buttons already sent must keep working), so this is
// the link: exact unless the user asked twice for the same entry and voted
// on the older answer, which then counts for the newer one. A vote with no
// such question (someone else's answer, in a group) is kept unlinked.
const linkQuery = `SELECT id FROM questions
	WHERE adapter = ? AND user_hash = ? AND time <= ? AND time >= ?
	  AND (entry_id = ? OR (outcome = 'clarify' AND instr(',' || choices || ',', ?) > 0))
	ORDER BY time DESC, id DESC LIMIT 1`

// chooseQuery sets a choice (?1, the entry) on the clarification it was
// made from, by the rule that links feedback (linkQuery): the same user's
// most recent clarification, on the same adapter, not after the choice and
// not older than the retention, that offered the entry, as its best
// (entry_id) or another choice. On Telegram a clarification's buttons stay
// when one is pressed: a second press on the same clarification replaces
// the first, the better informed. Nothing matches a choice by someone else
// than the asker (in a group) or one whose clarification is no longer in
// the log: it is counted as unlinked.
const chooseQuery = `UPDATE questions SET chosen = ?1 WHERE id = (
	SELECT id FROM questions
	WHERE adapter = ?2 AND user_hash = ?3 AND time <= ?4 AND time >= ?5
	  AND outcome = 'clarify' AND (entry_id = ?1 OR instr(',' || choices || ',', ?6) > 0)
	ORDER BY time DESC, id DESC LIMIT 1)`

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
