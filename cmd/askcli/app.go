package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"faqbot/knowledge"
	"faqbot/search"
)

const usage = `askcli asks the FAQ engine questions.

Usage:
  askcli [flags] "question"         answer one question
  askcli [flags]                    interactive prompt on a terminal; with
                                    stdin piped, one answer per input line
  askcli eval [flags] FILE.jsonl    measure answers against expected ids
                                    (-guides-left-out: the guides' own questions)
  askcli lint [flags]               alternate questions answered by another entry
  askcli kb --json [flags]          print the loaded entries
  askcli calibrate [flags] FILE...  fit the confidence calibration (with the
                                    guides' own questions, each left out)

Flags:
`

// exit codes
const (
	exitOK    = 0
	exitFail  = 1 // eval below its floors, lint issues, a failed question
	exitUsage = 2
)

type options struct {
	guides     string
	json       bool
	explain    bool
	dictionary string
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Output that cannot be written (a full disk, a closed pipe) is a
	// failure, not a silent success.
	out := &errWriter{w: stdout}
	code := dispatch(ctx, args, stdin, out, stderr)
	if out.err != nil {
		fmt.Fprintln(stderr, "askcli: write:", out.err)
		return exitFail
	}
	return code
}

// errWriter remembers the first write error and drops later writes.
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

func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "eval":
			return runEval(ctx, args[1:], stdout, stderr)
		case "lint":
			return runLint(ctx, args[1:], stdout, stderr)
		case "kb":
			return runKB(args[1:], stdout, stderr)
		case "calibrate":
			return runCalibrate(ctx, args[1:], stdout, stderr)
		}
	}
	fs, o := newFlagSet("askcli", stderr)
	fs.BoolVar(&o.json, "json", false, "print answers as JSON, one object per line")
	fs.BoolVar(&o.explain, "explain", false, "show the normalised question, its terms and each candidate's figures")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	eng, err := loadEngine(*o)
	if err != nil {
		fmt.Fprintln(stderr, "askcli:", err)
		return exitFail
	}
	defer eng.Close()

	if fs.NArg() > 0 {
		return ask(ctx, eng, *o, strings.Join(fs.Args(), " "), stdout, stderr)
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if ew, ok := stdout.(*errWriter); ok {
			if out, ok := ew.w.(*os.File); ok && term.IsTerminal(int(out.Fd())) {
				return interactive(ctx, eng, *o, f, stderr)
			}
		}
	}
	return askLines(ctx, eng, *o, stdin, stdout, stderr)
}

// newFlagSet returns a command's flag set with the flags every command
// shares (guides, dictionary), bound to the returned options.
func newFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *options) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	addGuidesFlag(fs, o)
	return fs, o
}

// parseFlags parses args; done reports that the command should exit with
// code (after -h, or on a bad flag, which the flag set has reported).
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, true
		}
		return exitUsage, true
	}
	return 0, false
}

func addGuidesFlag(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.guides, "guides", os.Getenv("FAQBOT_GUIDES"), "load guides from this directory instead of the shipped ones (env FAQBOT_GUIDES)")
	fs.StringVar(&o.dictionary, "dictionary", "lean", "segmentation dictionary: lean (derived from the guides) or full (gse's whole dictionary, for comparison)")
}

func loadBase(dir string) (*knowledge.Base, error) {
	if dir == "" {
		return knowledge.Shipped()
	}
	return knowledge.LoadDir(dir)
}

func loadEngine(o options) (*search.Engine, error) {
	base, err := loadBase(o.guides)
	if err != nil {
		return nil, err
	}
	cfg, err := engineConfig(o)
	if err != nil {
		return nil, err
	}
	return search.New(base, cfg)
}

// engineConfig is the engine's default configuration with a dictionary
// cache for guides other than the shipped ones: FAQBOT_CACHE_DIR, else the
// user's cache directory; none when neither is available.
func engineConfig(o options) (search.Config, error) {
	cfg := search.DefaultConfig()
	switch o.dictionary {
	case "lean", "":
	case "full":
		cfg.FullDictionary = true
	default:
		return cfg, fmt.Errorf("-dictionary %q: use lean or full", o.dictionary)
	}
	if dir := os.Getenv("FAQBOT_CACHE_DIR"); dir != "" {
		cfg.CacheDir = dir
	} else if dir, err := os.UserCacheDir(); err == nil {
		cfg.CacheDir = filepath.Join(dir, "faqbot")
	}
	return cfg, nil
}

func ask(ctx context.Context, eng *search.Engine, o options, q string, stdout, stderr io.Writer) int {
	if o.explain {
		ex, err := eng.Explain(ctx, q)
		if err != nil {
			fmt.Fprintln(stderr, "askcli:", err)
			return exitFail
		}
		if o.json {
			return writeJSON(stdout, stderr, ex)
		}
		printExplanation(stdout, ex)
		return exitOK
	}
	a, err := eng.Answer(ctx, q)
	if err != nil {
		fmt.Fprintln(stderr, "askcli:", err)
		return exitFail
	}
	if o.json {
		return writeJSON(stdout, stderr, toJSON(a))
	}
	printAnswer(stdout, a)
	return exitOK
}

// askLines answers every line of r, in order: exactly one answer per line,
// blank lines included, so the output lines up with the input.
func askLines(ctx context.Context, eng *search.Engine, o options, r io.Reader, stdout, stderr io.Writer) int {
	br := bufio.NewReader(r)
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	first := true
	for {
		line, err := readLine(br, maxLineBytes)
		if line == "" && err != nil {
			if errors.Is(err, io.EOF) {
				return exitOK
			}
			fmt.Fprintln(stderr, "askcli: read:", err)
			return exitFail
		}
		line = strings.TrimRight(line, "\r\n")
		a, aerr := eng.Answer(ctx, line)
		if aerr != nil {
			fmt.Fprintln(stderr, "askcli:", aerr)
			return exitFail
		}
		if o.json {
			b, _ := json.Marshal(toJSON(a))
			w.Write(b)
			w.WriteByte('\n')
		} else {
			if !first {
				w.WriteString("\n")
			}
			printAnswer(w, a)
		}
		first = false
		if o.json {
			// Flush per line so a caller reading as it writes gets each answer.
			if err := w.Flush(); err != nil {
				return exitFail
			}
		}
	}
}

// maxLineBytes bounds what is kept of one input line: the engine reads
// far less of a question, and a line without end must not fill memory.
const maxLineBytes = 64 << 10

// readLine reads one line (with its "\n", if any), keeping at most max
// bytes of it and discarding the rest, cut at a character boundary.
func readLine(br *bufio.Reader, max int) (string, error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if room := max - len(b); room > 0 {
			b = append(b, chunk[:min(len(chunk), room)]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(b) == max && !bytes.HasSuffix(b, []byte("\n")) {
			b = bytes.ToValidUTF8(b, nil) // a character cut in two
		}
		return string(b), err
	}
}

func interactive(ctx context.Context, eng *search.Engine, o options, f *os.File, stderr io.Writer) int {
	state, err := term.MakeRaw(int(f.Fd()))
	if err != nil {
		fmt.Fprintln(stderr, "askcli:", err)
		return exitFail
	}
	defer term.Restore(int(f.Fd()), state)
	rw := struct {
		io.Reader
		io.Writer
	}{f, os.Stdout}
	t := term.NewTerminal(rw, "? ")
	fmt.Fprintln(t, "Ask about logging out of WhatsApp and keeping your account safe. Ctrl-D quits.")
	for ctx.Err() == nil {
		line, err := t.ReadLine()
		if err != nil {
			return exitOK // io.EOF on Ctrl-D
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		// The terminal writes "\n" as "\r\n" itself.
		ask(ctx, eng, o, line, t, stderr)
		fmt.Fprintln(t)
	}
	return exitOK
}

// answerJSON is the JSON form of an answer.
type answerJSON struct {
	Query        string             `json:"query"`
	Outcome      search.Outcome     `json:"outcome"`
	ID           string             `json:"id"`
	Title        string             `json:"title"`
	Answer       string             `json:"answer"`
	Lang         knowledge.Lang     `json:"lang"`
	Score        float64            `json:"score"`
	Confidence   float64            `json:"confidence"`
	Alternatives []search.Candidate `json:"alternatives"`
}

func toJSON(a search.Answer) answerJSON {
	alts := make([]search.Candidate, len(a.Alternatives))
	for i, c := range a.Alternatives {
		c.Score, c.Confidence = round(c.Score), round(c.Confidence)
		alts[i] = c
	}
	return answerJSON{
		Query: a.Query, Outcome: a.Outcome, ID: a.ID, Title: a.Title, Answer: a.Text(), Lang: a.Lang,
		Score: round(a.Score), Confidence: round(a.Confidence), Alternatives: alts,
	}
}

func round(f float64) float64 { return float64(int(f*1000+0.5)) / 1000 }

func writeJSON(stdout, stderr io.Writer, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(stderr, "askcli:", err)
		return exitFail
	}
	return exitOK
}

var didYouMean = map[knowledge.Lang]string{
	knowledge.English:            "Did you mean one of these?",
	knowledge.SimplifiedChinese:  "你想问的是哪一个？",
	knowledge.TraditionalChinese: "你想問的是哪一個？",
}

// printAnswer writes an answer the way a person reads it: the title, the
// answer, and for a clarification the other choices.
func printAnswer(w io.Writer, a search.Answer) {
	switch a.Outcome {
	case search.Clarify:
		fmt.Fprintln(w, didYouMean[a.Lang])
		fmt.Fprintf(w, "  1. %s\n", a.Title)
		for i, alt := range a.Alternatives {
			fmt.Fprintf(w, "  %d. %s\n", i+2, alt.Title)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "%s\n\n%s\n", a.Title, a.Text())
	case search.Chitchat:
		// Small talk is a reply, not an article: no title.
		fmt.Fprintln(w, a.Text())
	default:
		fmt.Fprintf(w, "%s\n\n%s\n", a.Title, a.Text())
	}
	if a.Outcome == search.Answered || a.Outcome == search.Clarify {
		fmt.Fprintf(w, "\n(%s · %s · confidence %.2f)\n", a.ID, a.Outcome, a.Confidence)
	}
}

func printExplanation(w io.Writer, ex search.Explanation) {
	fmt.Fprintf(w, "query:       %q\n", ex.Query)
	fmt.Fprintf(w, "normalized:  %q\n", ex.Normalized)
	fmt.Fprintf(w, "tokens:      %s\n", strings.Join(ex.Tokens, " | "))
	fmt.Fprintf(w, "terms:       %s\n", strings.Join(ex.Terms, " | "))
	if len(ex.Corrections) > 0 {
		var parts []string
		for _, c := range ex.Corrections {
			parts = append(parts, c.From+"→"+c.To)
		}
		fmt.Fprintf(w, "corrections: %s\n", strings.Join(parts, ", "))
	}
	if len(ex.OutOfScope) > 0 {
		fmt.Fprintf(w, "other apps:  %s\n", strings.Join(ex.OutOfScope, ", "))
	}
	if len(ex.Uncovered) > 0 {
		fmt.Fprintf(w, "uncovered:   %s\n", strings.Join(ex.Uncovered, "; "))
	}
	fmt.Fprintf(w, "reply lang:  %s\n\n", ex.Lang)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "candidate\tscore\tcoverage\tclosest q\tunknown\tmargin\tbm25\tconfidence\tmatched")
	for _, c := range ex.Candidates {
		note := ""
		switch {
		case c.OtherPlatform:
			note = " (other platform)"
		case c.PartPlatform:
			note = " (some platforms)"
		}
		fmt.Fprintf(tw, "%s%s\t%.3f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\n", c.ID, note, c.Score, c.Coverage, c.Closest, c.Unknown, c.Margin, c.BM25, c.Confidence, strings.Join(c.Matched, " "))
	}
	tw.Flush()
	how := ""
	if ex.ExactMatch {
		how = ", asked exactly as the guide lists it"
	}
	fmt.Fprintf(w, "\n→ %s %s (confidence %.2f%s)\n", ex.Answer.Outcome, ex.Answer.ID, ex.Answer.Confidence, how)
}
