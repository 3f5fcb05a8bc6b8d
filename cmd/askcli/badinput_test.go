package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"faqbot/bot/bottest"
)

// runWithin runs askcli in-process with a deadline: a run that does not
// return by then fails the test instead of hanging it.
func runWithin(t *testing.T, d time.Duration, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		code := run(ctx, args, strings.NewReader(stdin), &out, &errb)
		done <- result{code, out.String(), errb.String()}
	}()
	select {
	case r := <-done:
		return r.code, r.out, r.err
	case <-ctx.Done():
		t.Fatalf("askcli %q did not return within %v", args, d)
		return 0, "", ""
	}
}

// TestBadInputs asks every bad input as an argument (plain and --json) and
// all of them as piped lines: each gets an answer (for input without words,
// the decline with examples), exit 0, UTF-8 out, and with --json exactly
// one object per line whose query is the input (made valid UTF-8).
func TestBadInputs(t *testing.T) {
	inputs := bottest.BadInputs()
	for _, in := range inputs {
		t.Run(in.Name, func(t *testing.T) {
			code, out, errs := runWithin(t, 20*time.Second, "", in.Text)
			if code != 0 || strings.TrimSpace(out) == "" || !utf8.ValidString(out) {
				t.Errorf("plain: exit %d, %d bytes out (valid UTF-8: %v), stderr %q", code, len(out), utf8.ValidString(out), errs)
			}
			code, out, errs = runWithin(t, 20*time.Second, "", "--json", in.Text)
			var a struct {
				Query   string `json:"query"`
				Outcome string `json:"outcome"`
			}
			if err := json.Unmarshal([]byte(out), &a); code != 0 || err != nil {
				t.Fatalf("--json: exit %d, %v, stderr %q", code, err, errs)
			}
			if a.Outcome == "" {
				t.Errorf("--json: no outcome in %.200s", out)
			}
		})
	}

	var lines []string
	for _, in := range inputs {
		lines = append(lines, strings.Split(in.Text, "\n")...)
	}
	code, out, errs := runWithin(t, 60*time.Second, strings.Join(lines, "\n")+"\n", "--json")
	if code != 0 {
		t.Fatalf("piped: exit %d, stderr %q", code, errs)
	}
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(got) != len(lines) {
		t.Fatalf("piped: %d answers for %d lines", len(got), len(lines))
	}
	for i, l := range got {
		var a struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("piped line %d: %v", i+1, err)
		}
		want := replaceInvalid(strings.TrimRight(lines[i], "\r"))
		if len(want) <= maxLineBytes && a.Query != want {
			t.Errorf("piped line %d answers %.60q, want %.60q", i+1, a.Query, want)
		}
	}
}

// replaceInvalid replaces each byte that is not UTF-8 with U+FFFD, as
// encoding/json does.
func replaceInvalid(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
