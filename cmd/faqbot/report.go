package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"faqbot/bot"
	"faqbot/bot/qlog"
)

const reportUsage = `faqbot report prints what the question log says about a period: the
questions asked by outcome, the feedback, the most frequent questions the bot
declined, the questions it asked to clarify with the entries it offered and
those their askers picked, and the entries with the worst feedback — what to
add to the guides, and which entries to rewrite or tell apart. It reads
the log faqbot writes (FAQBOT_QLOG_PATH, -qlog-path or the config file's
question_log.path, as for faqbot) without changing it, while faqbot runs.

Usage:
  faqbot report [-since 30d] [-limit 20] [-qlog-path FILE] [-config FILE]

  -since PERIOD   how far back: a duration (30d, 12h) or a date (2025-01-31)
  -limit N        rows in each list (default 20)
  -qlog-path FILE the question log (default faqbot.db)
  -config FILE    a faqbot config file to read the path from
`

// report is "faqbot report".
func report(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) int {
	var since string
	var limit int
	cfg, fs, err := loadConfigEnv("report", args, lookupEnv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&since, "since", "30d", "")
		fs.IntVar(&limit, "limit", 20, "")
	})
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stderr, reportUsage)
		return 0
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected arguments %q", strings.Join(fs.Args(), " "))
	}
	var from time.Time
	if err == nil {
		from, err = parseSince(since, time.Now())
	}
	if err == nil && (limit < 1 || limit > 10000) {
		err = fmt.Errorf("-limit %d: want 1 to 10000", limit)
	}
	if err == nil {
		if perr := checkQLogPath(cfg.QLog.Path); perr != nil {
			s := lookupKey("question_log.path")
			err = valueError(cfg.source(s), s, cfg.QLog.Path, perr)
		}
	}
	if err != nil {
		// As faqbot's: a secret pasted into another setting is not shown.
		fmt.Fprintln(stderr, "faqbot report:", bot.NewRedactor(secretsIn(cfg, lookupEnv)...).String(err.Error()))
		return 2
	}
	r, err := qlog.ReadReport(ctx, cfg.QLog.Path, from, limit)
	if err != nil {
		fmt.Fprintln(stderr, "faqbot report:", err)
		if errors.Is(err, qlog.ErrNoLog) {
			fmt.Fprintln(stderr, "(faqbot writes it where FAQBOT_QLOG_PATH, -qlog-path or question_log.path say; give report the same)")
		}
		return 1
	}
	if err := writeReport(stdout, cfg.QLog.Path, r); err != nil {
		fmt.Fprintln(stderr, "faqbot report:", err)
		return 1
	}
	return 0
}

// parseSince reads -since: a duration back from now, or a date (UTC).
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	d, err := parseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("-since %q: want a duration (30d, 12h) or a date (2025-01-31)", s)
	}
	return now.Add(-d), nil
}

// writeReport prints r as plain text tables. Questions come last in each
// row: Chinese characters are two columns wide, which would shift the
// columns after them.
func writeReport(w io.Writer, path string, r qlog.Report) error {
	ew := &errWriter{w: w}
	total := 0
	for _, n := range r.Outcomes {
		total += n
	}
	fmt.Fprintf(ew, "Question log %s, since %s UTC\n\n", path, r.Since.UTC().Format("2006-01-02 15:04"))
	fmt.Fprintf(ew, "Questions: %d", total)
	for _, oc := range outcomes {
		o := string(oc)
		if n := r.Outcomes[o]; n > 0 || oc != qlog.OutcomeError {
			fmt.Fprintf(ew, "  %s %d (%s)", o, n, percent(n, total))
		}
	}
	fmt.Fprintf(ew, "\nFeedback:  helpful %d  unhelpful %d\n", r.Helpful, r.Unhelpful)
	if n := r.Outcomes["clarify"]; n > 0 {
		fmt.Fprintf(ew, "Choices:   picked after %d of %d clarifications (%s)\n", r.Picked, n, percent(r.Picked, n))
	}

	section(ew, "Most frequent declined questions (add them to the guides, or to what the bot declines)",
		"COUNT\tLAST SEEN\tLANG\tQUESTION", len(r.Declined), func(i int) string {
			q := r.Declined[i]
			return fmt.Sprintf("%d\t%s\t%s\t%s", q.Count, q.LastSeen.UTC().Format("2006-01-02 15:04"), strings.Join(q.Langs, ","), q.Question)
		})
	section(ew, "Clarifications (the entries were too close: add each question to the entry its askers picked, or sharpen the entries' alternate questions)",
		"COUNT\tOFFERED\tPICKED\tQUESTION", len(r.Clarified), func(i int) string {
			c := r.Clarified[i]
			return fmt.Sprintf("%d\t%s\t%s\t%s", c.Count, strings.Join(c.Choices, ", "), picked(c), c.Question)
		})
	section(ew, "Entries with the worst feedback (unhelpful votes first)",
		"ENTRY\tUNHELPFUL\tHELPFUL\tANSWERED\tA QUESTION VOTED UNHELPFUL", len(r.WorstEntries), func(i int) string {
			e := r.WorstEntries[i]
			return fmt.Sprintf("%s\t%d\t%d\t%d\t%s", e.EntryID, e.Unhelpful, e.Helpful, e.Answered, e.Example)
		})
	return ew.err
}

// section prints a titled table of n rows (tab-separated cells), or "none".
func section(w io.Writer, title, header string, n int, row func(i int) string) {
	fmt.Fprintf(w, "\n%s\n", title)
	if n == 0 {
		fmt.Fprintln(w, "  none")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for i := range n {
		fmt.Fprintln(tw, row(i))
	}
	tw.Flush()
}

// picked says what the askers of a clarification picked: "remote-log-out
// 7, web-log-out 2, none 3".
func picked(c qlog.Clarification) string {
	var parts []string
	for _, p := range c.Picked {
		parts = append(parts, fmt.Sprintf("%s %d", p.EntryID, p.Count))
	}
	if c.Unpicked > 0 {
		parts = append(parts, fmt.Sprintf("none %d", c.Unpicked))
	}
	return strings.Join(parts, ", ")
}

func percent(n, total int) string {
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(total))
}

// errWriter keeps the first write error, so printing need not check each.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
