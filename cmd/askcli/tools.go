package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"faqbot/knowledge"
	"faqbot/search"
)

// floors are the minimum figures an evaluation must reach.
type floors struct {
	answered, top1, top3, declined, lang, maxWrong float64
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, o := newFlagSet("askcli eval", stderr)
	var fl floors
	fs.Float64Var(&fl.answered, "min-answered", 0, "fail below this share of in-scope questions answered right")
	fs.Float64Var(&fl.top1, "min-top1", 0, "fail below this top-1 accuracy")
	fs.Float64Var(&fl.top3, "min-top3", 0, "fail below this top-3 accuracy")
	fs.Float64Var(&fl.declined, "min-declined", 0, "fail below this share of out-of-scope questions declined")
	fs.Float64Var(&fl.lang, "min-lang", 0, "fail when a language's accuracy is below this")
	fs.Float64Var(&fl.maxWrong, "max-wrong", 1, "fail above this share of wrong answers")
	baseline := fs.Bool("baseline", false, "also evaluate Bleve's built-in cjk analyzer over the same guides, side by side")
	misses := fs.Bool("misses", true, "list the questions not handled right")
	leftOut := fs.Bool("guides-left-out", false, "instead of a file, ask the guides' own alternate questions, each left out of its entry")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: askcli eval [flags] FILE.jsonl\n       askcli eval -guides-left-out [flags]\n\nEach line: {\"q\": \"question\", \"expect\": [\"entry-id\", ...], \"lang\": \"zh-Hans\"}; an empty expect means the question must be declined.\n\nFlags:")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *leftOut && *baseline {
		// Leaving a question out works on the engine's own figures
		// (calibrate.go's leaveOut), which the baseline does not have.
		fmt.Fprintln(stderr, "askcli eval: -guides-left-out cannot be used with -baseline")
		return exitUsage
	}
	if (*leftOut && fs.NArg() != 0) || (!*leftOut && fs.NArg() != 1) {
		fs.Usage()
		return exitUsage
	}
	var cases []search.EvalCase
	name := "the guides' alternate questions, each left out of its entry"
	if !*leftOut {
		var err error
		if cases, err = readCases(fs.Arg(0)); err != nil {
			fmt.Fprintln(stderr, "askcli eval:", err)
			return exitFail
		}
		name = fs.Arg(0)
	}
	base, err := loadBase(o.guides)
	if err != nil {
		fmt.Fprintln(stderr, "askcli eval:", err)
		return exitFail
	}
	cfg, err := engineConfig(*o)
	if err != nil {
		fmt.Fprintln(stderr, "askcli eval:", err)
		return exitFail
	}
	eng, err := search.New(base, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "askcli eval:", err)
		return exitFail
	}
	defer eng.Close()
	var rep search.EvalReport
	if *leftOut {
		rep, err = search.EvaluateGuides(ctx, eng)
	} else {
		rep, err = search.Evaluate(ctx, eng, cases)
	}
	if err != nil {
		fmt.Fprintln(stderr, "askcli eval:", err)
		return exitFail
	}
	reports := []namedReport{{"faqbot", rep}}
	if *baseline {
		bl, err := search.NewBaseline(base)
		if err != nil {
			fmt.Fprintln(stderr, "askcli eval:", err)
			return exitFail
		}
		defer bl.Close()
		brep, err := search.Evaluate(ctx, bl, cases)
		if err != nil {
			fmt.Fprintln(stderr, "askcli eval:", err)
			return exitFail
		}
		reports = append(reports, namedReport{"bleve cjk (baseline)", brep})
	}
	printReports(stdout, name, reports)
	if *misses && len(rep.Misses) > 0 {
		fmt.Fprintf(stdout, "\nMisses of faqbot (%d):\n", len(rep.Misses))
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "lang\tquestion\texpected\tgot\tconfidence")
		for _, m := range rep.Misses {
			got := string(m.Answer.Outcome)
			if m.Answer.ID != "" {
				got += " " + m.Answer.ID
			}
			fmt.Fprintf(tw, "%s\t%q\t%v\t%s\t%.2f\n", m.Case.Lang, m.Case.Q, m.Case.Expect, got, m.Answer.Confidence)
		}
		tw.Flush()
	}
	var failed []string
	check := func(name string, got, floor float64, below bool) {
		if (below && got < floor) || (!below && got > floor) {
			failed = append(failed, fmt.Sprintf("%s %.3f (floor %.3f)", name, got, floor))
		}
	}
	check("answered right", rep.AnsweredRight, fl.answered, true)
	check("top-1", rep.Top1, fl.top1, true)
	check("top-3", rep.Top3, fl.top3, true)
	check("declined correctly", rep.DeclinedCorrectly, fl.declined, true)
	check("wrong answers", rep.WrongRate, fl.maxWrong, false)
	for _, l := range rep.PerLang {
		check("accuracy in "+l.Lang, l.Accuracy(), fl.lang, true)
	}
	if len(failed) > 0 {
		for _, f := range failed {
			fmt.Fprintln(stderr, "askcli eval: below floor:", f)
		}
		return exitFail
	}
	return exitOK
}

type namedReport struct {
	name string
	rep  search.EvalReport
}

func readCases(path string) ([]search.EvalCase, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cases, err := search.ReadEvalCases(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("%s: no questions", path)
	}
	return cases, nil
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

func printReports(w io.Writer, file string, reps []namedReport) {
	r0 := reps[0].rep
	fmt.Fprintf(w, "%s: %d questions, %d in scope, %d to decline\n\n", file, r0.Total, r0.InScope, r0.OutOfScope)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	header := "measure\t"
	for _, r := range reps {
		header += r.name + "\t"
	}
	fmt.Fprintln(tw, header)
	rows := []struct {
		name string
		get  func(search.EvalReport) float64
	}{
		{"answered right (in scope)", func(r search.EvalReport) float64 { return r.AnsweredRight }},
		{"top-1 (in scope)", func(r search.EvalReport) float64 { return r.Top1 }},
		{"top-3 (in scope)", func(r search.EvalReport) float64 { return r.Top3 }},
		{"asked to clarify (in scope)", func(r search.EvalReport) float64 { return r.ClarifyRate }},
		{"wrong answers (all)", func(r search.EvalReport) float64 { return r.WrongRate }},
		{"declined correctly", func(r search.EvalReport) float64 { return r.DeclinedCorrectly }},
	}
	for _, row := range rows {
		line := row.name + "\t"
		for _, r := range reps {
			line += pct(row.get(r.rep)) + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	for _, l := range r0.PerLang {
		line := fmt.Sprintf("accuracy %s (%d)\t", l.Lang, l.Total)
		for _, r := range reps {
			if ls := langOf(r.rep, l.Lang); ls.Total > 0 {
				line += pct(ls.Accuracy()) + "\t"
			} else {
				line += "–\t"
			}
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}

func langOf(r search.EvalReport, lang string) search.LangStats {
	for _, l := range r.PerLang {
		if l.Lang == lang {
			return l
		}
	}
	return search.LangStats{Lang: lang}
}

func runLint(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, o := newFlagSet("askcli lint", stderr)
	if code, done := parseFlags(fs, args); done {
		return code
	}
	eng, err := loadEngine(*o)
	if err != nil {
		fmt.Fprintln(stderr, "askcli lint:", err)
		return exitFail
	}
	defer eng.Close()
	issues, err := eng.Lint(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "askcli lint:", err)
		return exitFail
	}
	for _, is := range issues {
		got := string(is.Outcome)
		if is.GotID != "" {
			got = is.GotID + " (" + got + ")"
		}
		fmt.Fprintf(stdout, "%s: %s [%s] question %q is answered by %s\n", is.Pos, is.ID, is.Lang, is.Question, got)
	}
	total := 0
	for _, e := range eng.Base().Entries() {
		total += len(e.Questions)
	}
	fmt.Fprintf(stdout, "%d of %d alternate questions are answered by another entry\n", len(issues), total)
	if len(issues) > 0 {
		return exitFail
	}
	return exitOK
}

// kbEntry is the JSON form of an entry.
type kbEntry struct {
	ID        string              `json:"id"`
	Lang      knowledge.Lang      `json:"lang"`
	Guide     string              `json:"guide"`
	Kind      knowledge.Kind      `json:"kind"`
	Title     string              `json:"title"`
	Questions []string            `json:"questions"`
	Answer    string              `json:"answer"`
	Blocks    []knowledge.Block   `json:"blocks"`
	Tags      map[string][]string `json:"tags"`
	Source    knowledge.Pos       `json:"source"`
}

func runKB(args []string, stdout, stderr io.Writer) int {
	fs, o := newFlagSet("askcli kb", stderr)
	fs.BoolVar(&o.json, "json", false, "print the entries as one JSON array")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	base, err := loadBase(o.guides)
	if err != nil {
		fmt.Fprintln(stderr, "askcli kb:", err)
		return exitFail
	}
	entries := base.Entries()
	if !o.json {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "id\tlang\tkind\tquestions\ttitle")
		for _, e := range entries {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", e.ID, e.Lang, e.Kind, len(e.Questions), e.Title)
		}
		tw.Flush()
		return exitOK
	}
	out := make([]kbEntry, 0, len(entries))
	for _, e := range entries {
		tags := map[string][]string{}
		for _, t := range e.Tags {
			tags[t.Key] = t.Values
		}
		out = append(out, kbEntry{
			ID: e.ID, Lang: e.Lang, Guide: e.Guide, Kind: e.Kind, Title: e.Title, Questions: e.Questions,
			Answer: e.AnswerText(), Blocks: e.Answer, Tags: tags, Source: e.Pos,
		})
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(stderr, "askcli kb:", err)
		return exitFail
	}
	return exitOK
}

func runCalibrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, o := newFlagSet("askcli calibrate", stderr)
	withGuides := fs.Bool("with-guides", true, "fit on the guides' own alternate questions too, each left out of its entry")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() < 1 {
		fmt.Fprintln(stderr, "Usage: askcli calibrate [flags] FILE.jsonl...")
		return exitUsage
	}
	var cases []search.EvalCase
	for _, path := range fs.Args() {
		c, err := readCases(path)
		if err != nil {
			fmt.Fprintln(stderr, "askcli calibrate:", err)
			return exitFail
		}
		cases = append(cases, c...)
	}
	eng, err := loadEngine(*o)
	if err != nil {
		fmt.Fprintln(stderr, "askcli calibrate:", err)
		return exitFail
	}
	defer eng.Close()
	c, n, err := search.FitCalibration(ctx, eng, cases, *withGuides)
	if err != nil {
		fmt.Fprintln(stderr, "askcli calibrate:", err)
		return exitFail
	}
	if n < 20 {
		fmt.Fprintf(stderr, "askcli calibrate: only %d questions reach the calibration (FAQ candidates, no other app named); fit needs at least 20\n", n)
		return exitFail
	}
	fmt.Fprintf(stdout, "fitted on %d questions:\nsearch.Calibration{Bias: %.3f, Margin: %.3f, Closest: %.3f, Unknown: %.3f, Matched: %.3f, Posterior: %.3f}\n",
		n, c.Bias, c.Margin, c.Closest, c.Unknown, c.Matched, c.Posterior)
	return exitOK
}
