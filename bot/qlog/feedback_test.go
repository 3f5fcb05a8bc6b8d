package qlog

import (
	"context"
	"fmt"
	"testing"
	"time"

	"faqbot/bot"
	"faqbot/search"
)

// TestUnlinkedVotesCountOnce: a user pressing 👎 again and again under an
// answer that is not theirs (no question to link to) counts once, with
// their last verdict, in the rows and in the report; another user counts
// apart.
func TestUnlinkedVotesCountOnce(t *testing.T) {
	cfg := testConfig(t)
	l := openTest(t, cfg)
	ctx := context.Background()
	now := time.Now()
	vote := func(i int, user string, helpful bool) {
		t.Helper()
		f := bot.Feedback{Time: now.Add(time.Duration(i) * time.Second), Adapter: "discord", User: user, EntryID: "web-log-out", Helpful: helpful}
		if err := l.RecordFeedback(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		vote(i, "troll", false)
	}
	flush(t, l)
	vote(10, "troll", true) // changes their mind, in another batch
	vote(11, "other", false)
	vote(12, "other", false)
	// The same user on Telegram is another user.
	if err := l.RecordFeedback(ctx, bot.Feedback{Time: now, Adapter: "telegram", User: "troll", EntryID: "web-log-out"}); err != nil {
		t.Fatal(err)
	}
	flush(t, l)
	rows := feedbackRows(t, rawDB(t, cfg.Path))
	if len(rows) != 3 {
		t.Fatalf("%d feedback rows %+v, want 3: one per user, adapter and entry", len(rows), rows)
	}
	r, err := ReadReport(ctx, cfg.Path, now.Add(-time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if r.Helpful != 1 || r.Unhelpful != 2 {
		t.Errorf("report: helpful %d, unhelpful %d; want 1 and 2", r.Helpful, r.Unhelpful)
	}
	if got := l.Stats().Feedback; got != 14 {
		t.Errorf("Stats().Feedback = %d, want 14 (every vote written counts)", got)
	}
}

// TestPruneKeepsVotesUnique: a question deleted for its age takes the
// votes on it along, even recent ones, so that no vote is left unlinked
// beside the same user's unlinked vote on the entry (a second unlinked
// vote would break the uniqueness of unlinked votes, and every pruning
// after it).
func TestPruneKeepsVotesUnique(t *testing.T) {
	cfg := testConfig(t)
	cfg.Retention = 24 * time.Hour
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := newClock(t0)
	h := hooks{now: clock.Now}
	l := openHooked(t, cfg, h)
	ctx := context.Background()
	l.Record(Question{Time: t0, Adapter: "telegram", User: "1", Question: "log out web", Outcome: search.Answered, EntryID: "web-log-out"})
	flush(t, l)
	clock.Set(t0.Add(time.Hour))
	l.RecordFeedback(ctx, bot.Feedback{Time: clock.Now(), Adapter: "telegram", User: "1", EntryID: "web-log-out"}) // linked
	flush(t, l)
	clock.Set(t0.Add(25 * time.Hour))
	// The question is now too old to link to: this vote is unlinked.
	l.RecordFeedback(ctx, bot.Feedback{Time: clock.Now(), Adapter: "telegram", User: "1", EntryID: "web-log-out", Helpful: true})
	flush(t, l)
	if rows := feedbackRows(t, rawDB(t, cfg.Path)); len(rows) != 2 || !rows[0].QuestionID.Valid || rows[1].QuestionID.Valid {
		t.Fatalf("test premise: feedback %+v, one vote linked and one not", rows)
	}
	l.Close()

	l = openHooked(t, cfg, h) // prunes
	db := rawDB(t, cfg.Path)
	if rows := questionRows(t, db); len(rows) != 0 {
		t.Errorf("questions %+v, want none", rows)
	}
	if rows := feedbackRows(t, db); len(rows) != 1 || !rows[0].Helpful {
		t.Errorf("feedback %+v, want the recent unlinked vote alone", rows)
	}
}

// TestWriterPrunesInChunks: the writer deletes old rows a chunk at a
// time, all of them in the end, and writes new rows meanwhile.
func TestWriterPrunesInChunks(t *testing.T) {
	cfg := testConfig(t)
	cfg.Retention = 24 * time.Hour
	cfg.PruneEvery = 5 * time.Millisecond
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := newClock(t0)
	l := openHooked(t, cfg, hooks{now: clock.Now, pruneChunk: 7})
	for i := range 100 {
		l.Record(Question{Time: t0.Add(-time.Duration(i) * time.Second), Adapter: "telegram", User: "1", Question: "old", Outcome: search.None})
		l.RecordFeedback(context.Background(), bot.Feedback{Time: t0.Add(-time.Duration(i) * time.Second), Adapter: "telegram", User: fmt.Sprint(i), EntryID: "e"})
	}
	flush(t, l)
	clock.Advance(cfg.Retention + time.Minute)
	l.Record(Question{Time: clock.Now(), Adapter: "telegram", User: "1", Question: "new", Outcome: search.None})
	db := rawDB(t, cfg.Path)
	deadline := time.Now().Add(10 * time.Second)
	for {
		q, f := questionRows(t, db), feedbackRows(t, db)
		if len(q) == 1 && q[0].Question == "new" && len(f) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after pruning: %d questions, %d votes; want the new question alone", len(q), len(f))
		}
		time.Sleep(5 * time.Millisecond) // polling the database, not synchronising
	}
}
