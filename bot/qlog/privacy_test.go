package qlog

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"faqbot/bot"
	"faqbot/search"
)

// fileBytes returns the log's database file and its WAL, as they are on
// disk.
func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// TestPruneErasesOldQuestions: a question deleted for its age is gone
// from the file and its WAL, not left in a free page or an old frame.
func TestPruneErasesOldQuestions(t *testing.T) {
	cfg := testConfig(t)
	cfg.Retention = 24 * time.Hour
	clock := newClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	h := hooks{now: clock.Now}
	l := openHooked(t, cfg, h)
	const old, recent = "zebra quagga okapi old question", "narwhal recent question"
	l.Record(Question{Time: clock.Now().Add(-time.Minute), Adapter: "telegram", User: "1", Question: old, Outcome: search.None})
	l.Record(Question{Time: clock.Now(), Adapter: "telegram", User: "1", Question: recent, Outcome: search.None})
	l.RecordFeedback(context.Background(), bot.Feedback{Time: clock.Now().Add(-time.Minute), Adapter: "telegram", User: "1", EntryID: "zebra-entry-id"})
	flush(t, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if b := fileBytes(t, cfg.Path); !bytes.Contains(b, []byte(old)) || !bytes.Contains(b, []byte(recent)) {
		t.Fatal("test premise: the questions are in the file")
	}

	// A day later the first question and the vote are too old: Open
	// deletes them.
	clock.Advance(cfg.Retention)
	l = openHooked(t, cfg, h)
	if rows := questionRows(t, rawDB(t, cfg.Path)); len(rows) != 1 || rows[0].Question != recent {
		t.Fatalf("rows %+v, want only the recent question", rows)
	}
	b := fileBytes(t, cfg.Path)
	for _, gone := range []string{old, "zebra-entry-id"} {
		if bytes.Contains(b, []byte(gone)) {
			t.Errorf("%q is still in the file after it was deleted", gone)
		}
	}
	if !bytes.Contains(b, []byte(recent)) {
		t.Error("the recent question is not in the file")
	}
}

// TestSaltIsKeptApart: a generated salt is written to its own file, owner
// only, and nowhere in the database, which keeps its fingerprint and
// refuses to open without it or with another salt.
func TestSaltIsKeptApart(t *testing.T) {
	cfg := testConfig(t)
	l, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	h1 := l.HashUser("telegram", "42")
	l.Close()
	file := SaltFile(cfg.Path)
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", file, fi.Mode().Perm())
	}
	salt, err := readSaltFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(fileBytes(t, cfg.Path), salt) {
		t.Error("the salt is in the database")
	}

	// Restarts agree, through the file.
	l = openTest(t, cfg)
	if l.HashUser("telegram", "42") != h1 {
		t.Error("the hash changed across restarts")
	}
	l.Close()
	// The same salt, configured instead, is the same log.
	withSalt := cfg
	withSalt.Salt = string(salt)
	l = openTest(t, withSalt)
	if l.HashUser("telegram", "42") != h1 {
		t.Error("the salt configured is not the salt of the file")
	}
	l.Close()

	for _, tt := range []struct {
		name   string
		adjust func(*Config)
		want   string
	}{
		{"another salt", func(c *Config) { c.Salt = "another-salt-of-enough-bytes" }, "salt mismatch: the log's user hashes were made with a salt of fingerprint"},
		{"salt file lost", func(*Config) { os.Rename(file, file+".lost") }, "the salt file " + file + " is missing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg
			tt.adjust(&c)
			if _, err := Open(context.Background(), c, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open: %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("a refused Open made a new salt file: %v", err)
	}
}

// schemaV1 is the layout of version 1 logs, which kept their salt in meta
// and did not keep unlinked votes unique.
const schemaV1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE questions (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, adapter TEXT NOT NULL, user_hash TEXT NOT NULL,
	lang TEXT NOT NULL, question TEXT NOT NULL, outcome TEXT NOT NULL, entry_id TEXT NOT NULL, choices TEXT NOT NULL,
	confidence REAL NOT NULL, latency_us INTEGER NOT NULL);
CREATE INDEX questions_time ON questions(time);
CREATE INDEX questions_asker ON questions(adapter, user_hash, time);
CREATE TABLE feedback (id INTEGER PRIMARY KEY, time INTEGER NOT NULL, adapter TEXT NOT NULL, user_hash TEXT NOT NULL,
	entry_id TEXT NOT NULL, lang TEXT NOT NULL, helpful INTEGER NOT NULL,
	question_id INTEGER REFERENCES questions(id) ON DELETE SET NULL);
CREATE UNIQUE INDEX feedback_once ON feedback(question_id, user_hash) WHERE question_id IS NOT NULL;
CREATE INDEX feedback_time ON feedback(time);
CREATE INDEX feedback_question ON feedback(question_id);
PRAGMA user_version = 1;
`

// TestVersion1LogIsBroughtUpToDate: a log of version 1 opens: its salt
// moves to the salt file (and out of the database), a user's repeated
// unlinked votes on an entry become their last one, and the questions get
// version 3's chosen column.
func TestVersion1LogIsBroughtUpToDate(t *testing.T) {
	cfg := testConfig(t)
	const salt = "0123456789abcdef0123456789abcdef-old-salt"
	db, err := openDB(cfg.Path, writer, defaultBusyTimeout)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	for _, q := range []string{
		schemaV1,
		`INSERT INTO meta VALUES ('salt', '` + salt + `')`,
		`INSERT INTO feedback (time, adapter, user_hash, entry_id, lang, helpful) VALUES
			(NOW, 'telegram', 'u1', 'web-log-out', 'en', 0), (NOW, 'telegram', 'u1', 'web-log-out', 'en', 0),
			(NOW, 'telegram', 'u1', 'web-log-out', 'en', 1), (NOW, 'telegram', 'u2', 'web-log-out', 'en', 0)`,
	} {
		if _, err := db.Exec(strings.ReplaceAll(q, "NOW", strconv.FormatInt(now, 10))); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	l := openTest(t, cfg)
	want := &Log{salt: []byte(salt)}
	if l.HashUser("telegram", "42") != want.HashUser("telegram", "42") {
		t.Error("the old salt is not used")
	}
	if got, err := readSaltFile(SaltFile(cfg.Path)); err != nil || string(got) != salt {
		t.Errorf("salt file: %q, %v; want the old salt", got, err)
	}
	l.Close()
	if bytes.Contains(fileBytes(t, cfg.Path), []byte(salt)) {
		t.Error("the old salt is still in the database file")
	}
	raw := rawDB(t, cfg.Path)
	var version int
	raw.QueryRow("PRAGMA user_version").Scan(&version)
	chosenRows(t, raw) // fails when version 2's migration was left out
	rows, err := raw.Query(`SELECT user_hash, helpful FROM feedback ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var u string
		var helpful bool
		rows.Scan(&u, &helpful)
		got = append(got, u+":"+map[bool]string{true: "up", false: "down"}[helpful])
	}
	if version != schemaVersion || strings.Join(got, " ") != "u1:up u2:down" {
		t.Errorf("version %d, votes %v; want %d and u1's last vote and u2's", version, got, schemaVersion)
	}
}

// TestReadOnlyReport: the report reads a log it may not write.
func TestReadOnlyReport(t *testing.T) {
	cfg := testConfig(t)
	l := openTest(t, cfg)
	l.Record(Question{Adapter: "telegram", User: "1", Question: "how do i back up", Outcome: search.None})
	l.Close()
	if err := os.Chmod(cfg.Path, 0o400); err != nil {
		t.Fatal(err)
	}
	r, err := ReadReport(context.Background(), cfg.Path, time.Time{}, 5)
	if err != nil || r.Outcomes["none"] != 1 {
		t.Errorf("report of a read-only log: %+v, %v", r.Outcomes, err)
	}
	if _, err := ReadReport(context.Background(), filepath.Dir(cfg.Path), time.Time{}, 5); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("report of a directory: %v", err)
	}
}

// TestAnyFileName: the path is a file name, whatever it holds: no part of
// it is read as a driver option or a URI.
func TestAnyFileName(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"q?mode=ro.db", "q#1.db", "100% sure.db", ":memory:", "file:q.db", "q.db?_pragma=query_only(1)"} {
		cfg := DefaultConfig()
		cfg.Path = filepath.Join(dir, name)
		l, err := Open(context.Background(), cfg, nil)
		if err != nil {
			t.Errorf("%q: %v", name, err)
			continue
		}
		l.Record(Question{Adapter: "telegram", User: "1", Question: "q", Outcome: search.None})
		if err := l.Close(); err != nil {
			t.Errorf("%q: %v", name, err)
		}
		r, err := ReadReport(context.Background(), cfg.Path, time.Time{}, 5)
		if err != nil || r.Outcomes["none"] != 1 {
			t.Errorf("%q: report %+v, %v; want the question", name, r.Outcomes, err)
		}
		if fi, err := os.Stat(cfg.Path); err != nil || fi.Size() == 0 {
			t.Errorf("%q: the file: %v", name, err)
		}
	}
}
