package qlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// Report is what the log says about a period: what an operator needs to
// improve the guides.
type Report struct {
	Since time.Time
	// Outcomes counts the questions by outcome ("answered", "clarify",
	// "none", "chitchat", "error").
	Outcomes map[string]int
	// Helpful and Unhelpful count the feedback.
	Helpful, Unhelpful int
	// Picked counts the clarifications after which their asker picked one
	// of the choices (of Outcomes["clarify"]).
	Picked int
	// Declined are the most frequent questions the bot could not answer.
	Declined []QuestionCount
	// Clarified are the most frequent questions it asked to clarify.
	Clarified []Clarification
	// WorstEntries are the entries with the worst feedback.
	WorstEntries []EntryFeedback
}

// QuestionCount is a question (as stored) and how often it was asked.
type QuestionCount struct {
	Question string
	Count    int
	Langs    []string // the reply languages
	LastSeen time.Time
}

// Clarification is a question the bot asked to clarify, with the entries
// it offered, best first, and what its askers picked.
type Clarification struct {
	Question string
	Count    int
	Choices  []string
	LastSeen time.Time
	// Picked counts the entries picked, most picked first; Unpicked the
	// times (of Count) nobody picked any.
	Picked   []Pick
	Unpicked int
}

// Pick is an entry picked after a clarification, and how often.
type Pick struct {
	EntryID string
	Count   int
}

// EntryFeedback is the feedback on one entry.
type EntryFeedback struct {
	EntryID            string
	Helpful, Unhelpful int
	// Answered is how often the entry answered a question in the period.
	Answered int
	// Example is the question most often voted 👎 with this entry's
	// answer ("" when no 👎 is linked to a question).
	Example string
}

// ErrNoLog is returned by ReadReport when there is no log at the path.
var ErrNoLog = errors.New("no question log")

// ReadReport reads the log at path for the period from since, listing at
// most limit rows in each part. It opens the file read-only and reads
// every part in one transaction, so the parts agree with each other while
// faqbot writes on.
func ReadReport(ctx context.Context, path string, since time.Time, limit int) (Report, error) {
	if err := checkPath(path); err != nil {
		return Report{}, fmt.Errorf("question log %q: %w", path, err)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return Report{}, fmt.Errorf("%w at %s", ErrNoLog, path)
	} else if err != nil {
		return Report{}, err
	}
	db, err := openDB(path, reader, defaultBusyTimeout)
	if err != nil {
		return Report{}, fmt.Errorf("read %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Report{}, fmt.Errorf("read %s: %w", path, err)
	}
	defer tx.Rollback()
	version, err := readVersion(ctx, tx)
	if err == nil && version < minVersion {
		err = errors.New("it holds no question log yet")
	}
	if err != nil {
		return Report{}, fmt.Errorf("read %s: %w", path, err)
	}
	r := Report{Since: since, Outcomes: map[string]int{}}
	if err := r.read(ctx, tx, since.UnixMilli(), limit, version >= chosenVersion); err != nil {
		return Report{}, fmt.Errorf("read %s: %w", path, err)
	}
	return r, nil
}

// read reads the report; hasChosen tells whether the log records choices
// (an older one is read as if none was picked).
func (r *Report) read(ctx context.Context, db querier, from int64, limit int, hasChosen bool) error {
	chosen := "chosen"
	if !hasChosen {
		chosen = "''"
	}
	err := each(ctx, db, `SELECT outcome, COUNT(*) FROM questions WHERE time >= ? GROUP BY outcome`, []any{from}, func(rows *sql.Rows) error {
		var outcome string
		var n int
		err := rows.Scan(&outcome, &n)
		r.Outcomes[outcome] = n
		return err
	})
	if err != nil {
		return err
	}
	err = db.QueryRowContext(ctx, `SELECT COALESCE(SUM(helpful = 1), 0), COALESCE(SUM(helpful = 0), 0) FROM feedback WHERE time >= ?`, from).
		Scan(&r.Helpful, &r.Unhelpful)
	if err != nil {
		return err
	}
	err = each(ctx, db, `SELECT question, COUNT(*) AS n, group_concat(DISTINCT lang), MAX(time) AS last
		FROM questions WHERE outcome = 'none' AND time >= ?
		GROUP BY question ORDER BY n DESC, last DESC, question LIMIT ?`, []any{from, limit}, func(rows *sql.Rows) error {
		var q QuestionCount
		var langs string
		var last int64
		if err := rows.Scan(&q.Question, &q.Count, &langs, &last); err != nil {
			return err
		}
		q.Langs, q.LastSeen = strings.Split(langs, ","), time.UnixMilli(last)
		r.Declined = append(r.Declined, q)
		return nil
	})
	if err != nil {
		return err
	}
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM questions WHERE outcome = 'clarify' AND `+chosen+` != '' AND time >= ?`, from).
		Scan(&r.Picked)
	if err != nil {
		return err
	}
	var key [3]string // question, best, others of the Clarification being read
	err = each(ctx, db, strings.ReplaceAll(clarifications, "CHOSEN", chosen), []any{from, limit}, func(rows *sql.Rows) error {
		var k [3]string
		var n, picks int
		var last int64
		var picked string
		if err := rows.Scan(&k[0], &k[1], &k[2], &n, &last, &picked, &picks); err != nil {
			return err
		}
		if len(r.Clarified) == 0 || k != key {
			key = k
			c := Clarification{Question: k[0], Count: n, Choices: []string{k[1]}, LastSeen: time.UnixMilli(last)}
			if k[2] != "" {
				c.Choices = append(c.Choices, strings.Split(k[2], ",")...)
			}
			r.Clarified = append(r.Clarified, c)
		}
		c := &r.Clarified[len(r.Clarified)-1]
		if picked == "" {
			c.Unpicked = picks
		} else {
			c.Picked = append(c.Picked, Pick{EntryID: picked, Count: picks})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return each(ctx, db, worstEntries, []any{from, limit}, func(rows *sql.Rows) error {
		var e EntryFeedback
		err := rows.Scan(&e.EntryID, &e.Helpful, &e.Unhelpful, &e.Answered, &e.Example)
		r.WorstEntries = append(r.WorstEntries, e)
		return err
	})
}

// clarifications lists the questions asked to clarify since ?1, with the
// choices offered (grouped by both: the same question may have been given
// other choices as the guides changed), most frequent first, at most ?2;
// one row per entry picked after them ("" for none), most picked first,
// each group's rows together. CHOSEN is the chosen column, or an empty
// string for a log older than it.
const clarifications = `
WITH picks AS (
	SELECT question, entry_id, choices, CHOSEN AS picked, COUNT(*) AS n, MAX(time) AS last
	FROM questions WHERE outcome = 'clarify' AND time >= ?1
	GROUP BY question, entry_id, choices, picked
), top AS (
	SELECT question, entry_id, choices, SUM(n) AS n, MAX(last) AS last
	FROM picks GROUP BY question, entry_id, choices
	ORDER BY n DESC, last DESC, question, entry_id, choices LIMIT ?2
)
SELECT t.question, t.entry_id, t.choices, t.n, t.last, p.picked, p.n
FROM top t JOIN picks p USING (question, entry_id, choices)
ORDER BY t.n DESC, t.last DESC, t.question, t.entry_id, t.choices, p.picked = '', p.n DESC, p.picked`

// worstEntries lists the entries voted 👎 since ?1, worst first, at most
// ?2: their votes, how often they answered, and the question most often
// voted 👎 with their answer (a window function picks it per entry).
const worstEntries = `
WITH votes AS (
	SELECT entry_id, SUM(helpful = 1) AS up, SUM(helpful = 0) AS down
	FROM feedback WHERE time >= ?1 GROUP BY entry_id HAVING down > 0
), answered AS (
	SELECT entry_id, COUNT(*) AS n
	FROM questions WHERE outcome = 'answered' AND time >= ?1 GROUP BY entry_id
), examples AS (
	SELECT entry_id, question FROM (
		SELECT f.entry_id, q.question,
			ROW_NUMBER() OVER (PARTITION BY f.entry_id ORDER BY COUNT(*) DESC, MAX(f.time) DESC, q.question) AS rank
		FROM feedback f JOIN questions q ON q.id = f.question_id
		WHERE f.helpful = 0 AND f.time >= ?1
		GROUP BY f.entry_id, q.question
	) WHERE rank = 1
)
SELECT v.entry_id, v.up, v.down, COALESCE(a.n, 0), COALESCE(e.question, '')
FROM votes v LEFT JOIN answered a USING (entry_id) LEFT JOIN examples e USING (entry_id)
ORDER BY v.down - v.up DESC, v.down DESC, v.entry_id
LIMIT ?2`

// each runs query and calls scan for every row.
func each(ctx context.Context, db querier, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
