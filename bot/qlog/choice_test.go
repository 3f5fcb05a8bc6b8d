package qlog

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"faqbot/knowledge"
	"faqbot/search"
)

// chosenRows returns every question row's chosen entry, in order.
func chosenRows(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT chosen FROM questions ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// TestChoiceIsLinkedToItsClarification: a choice is set on the same
// user's latest clarification that offered it; one with no such
// clarification is counted and stored nowhere.
func TestChoiceIsLinkedToItsClarification(t *testing.T) {
	cfg := testConfig(t)
	l := openTest(t, cfg)
	t0 := time.Now().Add(-time.Hour)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	clarify := func(d time.Duration, adapter, user string) Question {
		return Question{Time: at(d), Adapter: adapter, User: user, Question: "log out", Outcome: search.Clarify,
			EntryID: "web-log-out", Choices: []string{"remote-log-out", "phone-log-out"}}
	}
	for _, q := range []Question{
		clarify(0, "telegram", "1"),           // 1: an older clarification of user 1
		clarify(time.Minute, "telegram", "1"), // 2: their latest
		{Time: at(2 * time.Minute), Adapter: "telegram", User: "1", Question: "log out remotely", Outcome: search.Answered, EntryID: "remote-log-out"}, // 3: an answer, no buttons to choose from
		clarify(time.Minute, "discord", "1"),     // 4: the same id on another adapter
		clarify(time.Minute, "telegram", "2"),    // 5
		clarify(10*time.Minute, "telegram", "3"), // 6: asked after the choice below
		{Time: at(time.Minute), Adapter: "telegram", Question: "log out", Outcome: search.Clarify, EntryID: "web-log-out"}, // 7: no user
	} {
		l.Record(q)
	}
	for _, c := range []Choice{
		// row 2, not the older clarification nor the answer after it
		{Time: at(3 * time.Minute), Adapter: "telegram", User: "1", EntryID: "remote-log-out"},
		// row 4: the best entry is a choice too
		{Time: at(3 * time.Minute), Adapter: "discord", User: "1", EntryID: "web-log-out"},
		// row 5, twice: the second press replaces the first
		{Time: at(3 * time.Minute), Adapter: "telegram", User: "2", EntryID: "phone-log-out"},
		{Time: at(4 * time.Minute), Adapter: "telegram", User: "2", EntryID: "web-log-out"},
		// unlinked: an entry the clarification did not offer
		{Time: at(3 * time.Minute), Adapter: "telegram", User: "1", EntryID: "two-step"},
		// unlinked: an entry offered, but part of another entry's id
		{Time: at(3 * time.Minute), Adapter: "telegram", User: "1", EntryID: "log-out"},
		// unlinked: someone else pressing user 1's button (a group)
		{Time: at(3 * time.Minute), Adapter: "telegram", User: "4", EntryID: "remote-log-out"},
		// unlinked: before user 3 asked
		{Time: at(5 * time.Minute), Adapter: "telegram", User: "3", EntryID: "web-log-out"},
		// unlinked: nobody known
		{Time: at(3 * time.Minute), Adapter: "telegram", EntryID: "web-log-out"},
	} {
		if !l.RecordChoice(c) {
			t.Fatalf("choice %+v not taken", c)
		}
	}
	flush(t, l)
	want := []string{"", "remote-log-out", "", "web-log-out", "web-log-out", "", ""}
	if got := chosenRows(t, rawDB(t, cfg.Path)); !slices.Equal(got, want) {
		t.Errorf("chosen %q, want %q", got, want)
	}
	if s := l.Stats(); s.Choices != 4 || s.UnlinkedChoices != 5 || s.Questions != 7 || s.Feedback != 0 {
		t.Errorf("stats %+v, want 4 choices linked, 5 unlinked, 7 questions", s)
	}
}

// TestChoiceTakesTheLogsTime: a choice recorded without a time gets the
// log's clock, so it links to a clarification just logged.
func TestChoiceTakesTheLogsTime(t *testing.T) {
	l := openTest(t, testConfig(t))
	l.Record(Question{Adapter: "discord", User: "9", Question: "log out", Outcome: search.Clarify, EntryID: "web-log-out", Choices: []string{"remote-log-out"}})
	l.RecordChoice(Choice{Adapter: "discord", User: "9", EntryID: "remote-log-out"})
	flush(t, l)
	if s := l.Stats(); s.Choices != 1 || s.UnlinkedChoices != 0 {
		t.Errorf("stats %+v, want the choice linked", s)
	}
}

// TestReportShowsWhatWasPicked: each clarification lists the entries its
// askers picked, most picked first, and how often none was.
func TestReportShowsWhatWasPicked(t *testing.T) {
	cfg := testConfig(t)
	l := openTest(t, cfg)
	now := time.Now()
	n := 0
	clarify := func(q string, offered []string, picked string) {
		n++
		user := strconv.Itoa(n)
		at := now.Add(-time.Hour + time.Duration(n)*time.Second)
		l.Record(Question{Time: at, Adapter: "telegram", User: user, Question: q, Lang: knowledge.English,
			Outcome: search.Clarify, EntryID: offered[0], Choices: offered[1:]})
		if picked != "" {
			l.RecordChoice(Choice{Time: at.Add(time.Millisecond), Adapter: "telegram", User: user, EntryID: picked})
		}
	}
	web := []string{"web-log-out", "remote-log-out", "phone-log-out"}
	for _, picked := range []string{"remote-log-out", "", "web-log-out", "remote-log-out", "", "remote-log-out", ""} {
		clarify("log out", web, picked)
	}
	clarify("log out", web[:2], "web-log-out") // other choices: another row
	clarify("delete", []string{"phone-delete-account", "uninstall"}, "uninstall")
	clarify("delete", []string{"phone-delete-account", "uninstall"}, "")
	flush(t, l)

	r, err := ReadReport(context.Background(), cfg.Path, now.Add(-24*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcomes["clarify"] != 10 || r.Picked != 6 {
		t.Errorf("%d clarifications, %d picked; want 10 and 6", r.Outcomes["clarify"], r.Picked)
	}
	want := []Clarification{
		{Question: "log out", Count: 7, Choices: web, Unpicked: 3,
			Picked: []Pick{{"remote-log-out", 3}, {"web-log-out", 1}}},
		{Question: "delete", Count: 2, Choices: []string{"phone-delete-account", "uninstall"}, Unpicked: 1,
			Picked: []Pick{{"uninstall", 1}}},
		{Question: "log out", Count: 1, Choices: web[:2], Picked: []Pick{{"web-log-out", 1}}},
	}
	if len(r.Clarified) != len(want) {
		t.Fatalf("clarified %+v, want %d rows", r.Clarified, len(want))
	}
	for i, c := range r.Clarified {
		c.LastSeen = time.Time{}
		if !clarificationsEqual(c, want[i]) {
			t.Errorf("clarification %d: %+v, want %+v", i, c, want[i])
		}
	}

	// The limit counts clarifications, not the rows of their picks.
	r, err = ReadReport(context.Background(), cfg.Path, now.Add(-24*time.Hour), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Clarified) != 1 || len(r.Clarified[0].Picked) != 2 || r.Clarified[0].Unpicked != 3 {
		t.Errorf("with -limit 1: %+v, want the first clarification whole", r.Clarified)
	}
}

func clarificationsEqual(a, b Clarification) bool {
	return a.Question == b.Question && a.Count == b.Count && a.Unpicked == b.Unpicked &&
		slices.Equal(a.Choices, b.Choices) && slices.Equal(a.Picked, b.Picked) && a.LastSeen.Equal(b.LastSeen)
}

// schemaV2 is the layout of version 2 logs, which did not record choices.
const schemaV2 = `
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
CREATE UNIQUE INDEX feedback_unlinked_once ON feedback(adapter, user_hash, entry_id) WHERE question_id IS NULL AND user_hash != '';
CREATE INDEX feedback_time ON feedback(time);
CREATE INDEX feedback_question ON feedback(question_id);
PRAGMA user_version = 2;
`

// TestVersion2LogIsBroughtUpToDate: a log of version 2 is reported on as
// it is (nothing picked), and opens: its rows keep what they held, and a
// choice links to a clarification it logged.
func TestVersion2LogIsBroughtUpToDate(t *testing.T) {
	cfg := testConfig(t)
	cfg.Salt = "0123456789abcdef-configured-salt"
	user := (&Log{salt: []byte(cfg.Salt)}).HashUser("telegram", "42")
	db, err := openDB(cfg.Path, writer, defaultBusyTimeout)
	if err != nil {
		t.Fatal(err)
	}
	then := time.Now().Add(-time.Hour).UnixMilli()
	for _, q := range []string{
		schemaV2,
		`INSERT INTO meta VALUES ('salt_fingerprint', '` + fingerprint([]byte(cfg.Salt)) + `')`,
		`INSERT INTO questions (time, adapter, user_hash, lang, question, outcome, entry_id, choices, confidence, latency_us) VALUES
			(THEN, 'telegram', 'USER', 'en', 'log out', 'clarify', 'web-log-out', 'remote-log-out', 0.6, 120),
			(THEN, 'telegram', 'USER', 'en', 'log out web', 'answered', 'web-log-out', '', 0.9, 80)`,
		`INSERT INTO feedback (time, adapter, user_hash, entry_id, lang, helpful, question_id) VALUES (THEN, 'telegram', 'USER', 'web-log-out', 'en', 1, 2)`,
	} {
		q = strings.NewReplacer("THEN", strconv.FormatInt(then, 10), "USER", user).Replace(q)
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	since := time.Now().Add(-24 * time.Hour)
	r, err := ReadReport(context.Background(), cfg.Path, since, 10)
	if err != nil {
		t.Fatalf("report of a version 2 log: %v", err)
	}
	if len(r.Clarified) != 1 || r.Clarified[0].Unpicked != 1 || r.Clarified[0].Picked != nil || r.Picked != 0 {
		t.Errorf("report of a version 2 log: %+v, picked %d; want one clarification, none picked", r.Clarified, r.Picked)
	}

	l := openTest(t, cfg)
	l.RecordChoice(Choice{Adapter: "telegram", User: "42", EntryID: "remote-log-out"})
	flush(t, l)
	if s := l.Stats(); s.Choices != 1 {
		t.Errorf("stats %+v, want the choice linked to the old clarification", s)
	}
	l.Close()
	raw := rawDB(t, cfg.Path)
	var version int
	if err := raw.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != schemaVersion {
		t.Errorf("version %d, %v; want %d", version, err, schemaVersion)
	}
	if got := chosenRows(t, raw); !slices.Equal(got, []string{"remote-log-out", ""}) {
		t.Errorf("chosen %q, want the clarification's choice only", got)
	}
	qs := questionRows(t, raw)
	if len(qs) != 2 || qs[0].Question != "log out" || qs[0].Choices != "remote-log-out" || qs[1].LatencyUS != 80 || qs[1].UserHash != user {
		t.Errorf("questions after the migration: %+v", qs)
	}
	if fb := feedbackRows(t, raw); len(fb) != 1 || fb[0].QuestionID.Int64 != 2 {
		t.Errorf("feedback after the migration: %+v", fb)
	}
	r, err = ReadReport(context.Background(), cfg.Path, since, 10)
	if err != nil || len(r.Clarified) != 1 || !slices.Equal(r.Clarified[0].Picked, []Pick{{"remote-log-out", 1}}) || r.Picked != 1 {
		t.Errorf("report after the migration: %+v, picked %d, %v", r.Clarified, r.Picked, err)
	}
}
