package qlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// schema is the database layout of a new log (PRAGMA user_version 3).
// Times are Unix milliseconds (UTC); in sqlite3:
// datetime(time/1000, 'unixepoch').
//
// A vote linked to an answer is one per user and answer
// (feedback_once); a vote that could not be linked is one per user and
// entry (feedback_unlinked_once): a user who presses 👎 ten times under
// someone else's answer counts once, as under their own.
//
// chosen is, on a clarification's row, the entry its asker then picked
// from the choices ("" when none was picked); see chooseQuery.
const schema = `
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE questions (
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
	latency_us INTEGER NOT NULL,
	chosen     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX questions_time ON questions(time);
CREATE INDEX questions_asker ON questions(adapter, user_hash, time);
CREATE TABLE feedback (
	id          INTEGER PRIMARY KEY,
	time        INTEGER NOT NULL,
	adapter     TEXT NOT NULL,
	user_hash   TEXT NOT NULL,
	entry_id    TEXT NOT NULL,
	lang        TEXT NOT NULL,
	helpful     INTEGER NOT NULL,
	question_id INTEGER REFERENCES questions(id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX feedback_once ON feedback(question_id, user_hash) WHERE question_id IS NOT NULL;
` + unlinkedIndex + `
CREATE INDEX feedback_time ON feedback(time);
CREATE INDEX feedback_question ON feedback(question_id);
`

const unlinkedIndex = `CREATE UNIQUE INDEX feedback_unlinked_once ON feedback(adapter, user_hash, entry_id) WHERE question_id IS NULL AND user_hash != '';`

// migrateV1 brings a version 1 log to version 2: repeated unlinked votes
// of one user on one entry are reduced to the last, which the new index
// then keeps unique. (Version 1 also kept its salt in meta; init moves it
// out.)
const migrateV1 = `
DELETE FROM feedback WHERE question_id IS NULL AND user_hash != '' AND id NOT IN (
	SELECT MAX(id) FROM feedback WHERE question_id IS NULL AND user_hash != '' GROUP BY adapter, user_hash, entry_id);
` + unlinkedIndex

// migrateV2 brings a version 2 log to version 3: the questions get the
// chosen column, empty on every row (no choice was recorded before).
const migrateV2 = `ALTER TABLE questions ADD COLUMN chosen TEXT NOT NULL DEFAULT '';`

// schemaVersion is the user_version this package writes; it reads logs of
// version minVersion and up.
const (
	schemaVersion = 3
	minVersion    = 1
	// chosenVersion is the first version with questions.chosen: the
	// report reads older logs (faqbot report, before faqbot has opened
	// them) as if no choice was picked.
	chosenVersion = 3
)

// defaultBusyTimeout is how long a statement waits for a lock another
// connection holds (faqbot report reading, sqlite3 in a shell).
const defaultBusyTimeout = 5 * time.Second

// access is how a connection opens the log.
type access int

const (
	// writer: the log's one writer. Transactions take the write lock at
	// BEGIN (_txlock=immediate), so a batch that reads before it writes
	// (the feedback links) waits for the lock under busy_timeout instead
	// of failing with SQLITE_BUSY when another connection wrote meanwhile;
	// deleted rows are overwritten with zeros (secure_delete), so what the
	// retention deletes is gone from the file, not left in free pages.
	writer access = iota
	// existing: like writer, but the file must exist (pruning a log that
	// is off).
	existing
	// reader: read only (faqbot report).
	reader
)

// dsn is the driver's name for the log at path: a file: URI of the
// absolute path, percent-encoded, so that no character of the path (?, #,
// %, a leading "file:" or ":memory:") is read as anything but the file's
// name.
func dsn(path string, a access, busy time.Duration) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	abs = filepath.ToSlash(abs)
	if !strings.HasPrefix(abs, "/") {
		abs = "/" + abs // a Windows drive letter
	}
	q := []string{fmt.Sprintf("_pragma=busy_timeout(%d)", busy.Milliseconds()), "_pragma=foreign_keys(1)"}
	switch a {
	case reader:
		q = append(q, "mode=ro", "_pragma=query_only(1)")
	case existing:
		q = append(q, "mode=rw")
		fallthrough
	case writer:
		q = append(q, "_txlock=immediate", "_pragma=journal_mode(WAL)", "_pragma=synchronous(NORMAL)", "_pragma=secure_delete(1)")
	}
	u := url.URL{Scheme: "file", Path: abs, RawQuery: strings.Join(q, "&")}
	return u.String(), nil
}

// openDB opens the log at path.
func openDB(path string, a access, busy time.Duration) (*sql.DB, error) {
	name, err := dsn(path, a, busy)
	if err != nil {
		return nil, err
	}
	return sql.Open("sqlite", name)
}

// checkPath refuses a path that cannot be a log file.
func checkPath(path string) error {
	if path == "" {
		return errors.New("no path")
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	return nil
}

// readVersion returns the log's schema version, refusing a database that
// is not a question log this package reads.
func readVersion(ctx context.Context, q querier) (int, error) {
	var version, tables int
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, err
	}
	if version > schemaVersion {
		return 0, fmt.Errorf("the database has schema version %d; this faqbot knows up to %d", version, schemaVersion)
	}
	if version == 0 {
		if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_schema").Scan(&tables); err != nil {
			return 0, err
		}
		if tables > 0 {
			return 0, errors.New("the database is not a question log (it has tables, and no schema version)")
		}
	}
	return version, nil
}

// querier is what *sql.DB, *sql.Conn and *sql.Tx share.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// isBusy reports whether err is SQLite's "database is locked" (another
// connection held the lock for longer than busy_timeout).
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// defaultPruneChunk is how many rows one DELETE removes: small enough
// that the write lock is never held for long, so the writer's batches
// (and other connections) get their turn between chunks.
const defaultPruneChunk = 1000

// pruneSteps delete, in this order, old feedback, the feedback on old
// questions (so that deleting a question never unlinks a vote, which could
// then collide with the user's unlinked vote on the same entry), and old
// questions; each deletes at most ?2 rows older than ?1.
var pruneSteps = []string{
	`DELETE FROM feedback WHERE id IN (SELECT id FROM feedback WHERE time < ?1 LIMIT ?2)`,
	`DELETE FROM feedback WHERE id IN (SELECT f.id FROM feedback f JOIN questions q ON q.id = f.question_id WHERE q.time < ?1 LIMIT ?2)`,
	`DELETE FROM questions WHERE id IN (SELECT id FROM questions WHERE time < ?1 LIMIT ?2)`,
}

// pruneChunk deletes at most chunk rows older than cutoff (Unix ms), in
// one statement, and returns how many it deleted: 0 when none is left.
func pruneChunk(ctx context.Context, db *sql.DB, cutoff int64, chunk int) (int64, error) {
	for _, step := range pruneSteps {
		res, err := db.ExecContext(ctx, step, cutoff, chunk)
		if err != nil {
			return 0, fmt.Errorf("delete old rows: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return n, err
		}
	}
	return 0, nil
}

// pruneAll deletes every row older than cutoff, chunk by chunk, then
// checkpoints the WAL so that the deleted rows are gone from it too.
func pruneAll(ctx context.Context, db *sql.DB, cutoff int64, chunk int) (int64, error) {
	var total int64
	for {
		n, err := pruneChunk(ctx, db, cutoff, chunk)
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			break
		}
	}
	if total > 0 {
		if _, err := checkpoint(ctx, db); err != nil {
			return total, err
		}
	}
	return total, nil
}

// checkpoint copies the WAL into the database file and truncates it:
// deleted rows linger in the WAL's frames until then. It reports false
// when a reader kept it from finishing (the next one finishes the job).
func checkpoint(ctx context.Context, db *sql.DB) (done bool, err error) {
	var busy, frames, copied int
	if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied); err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	return busy == 0, nil
}

// Prune deletes the rows older than cfg.Retention from an existing log
// without opening it for writing questions: for a log that is turned off,
// whose rows must still go when they are due. It returns how many rows it
// deleted; a missing file is an error wrapping fs.ErrNotExist.
func Prune(ctx context.Context, cfg Config, now time.Time) (int64, error) {
	if err := cfg.Validate(); err != nil {
		return 0, err
	}
	if _, err := os.Stat(cfg.Path); err != nil {
		return 0, fmt.Errorf("prune question log: %w", err)
	}
	db, err := openDB(cfg.Path, existing, defaultBusyTimeout)
	if err != nil {
		return 0, fmt.Errorf("prune question log %s: %w", cfg.Path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	version, err := readVersion(ctx, db)
	if err == nil && version == 0 {
		err = fmt.Errorf("it is empty: %w", fs.ErrNotExist)
	}
	if err != nil {
		return 0, fmt.Errorf("prune question log %s: %w", cfg.Path, err)
	}
	n, err := pruneAll(ctx, db, now.Add(-cfg.Retention).UnixMilli(), defaultPruneChunk)
	if err != nil {
		return n, fmt.Errorf("prune question log %s: %w", cfg.Path, err)
	}
	return n, nil
}
