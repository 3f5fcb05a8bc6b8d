package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	// The tests use the shipped guides, whatever the developer's shell says.
	os.Unsetenv("FAQBOT_GUIDES")
	os.Exit(m.Run())
}

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestKBJSON(t *testing.T) {
	code, out, errs := runCLI(t, "", "kb", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var entries []struct {
		ID        string              `json:"id"`
		Lang      string              `json:"lang"`
		Title     string              `json:"title"`
		Questions []string            `json:"questions"`
		Answer    string              `json:"answer"`
		Tags      map[string][]string `json:"tags"`
	}
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("not a JSON array: %v", err)
	}
	seen := map[string]int{}
	for _, e := range entries {
		if e.ID == "" || e.Lang == "" || e.Title == "" || e.Answer == "" || len(e.Questions) == 0 || e.Tags == nil {
			t.Errorf("incomplete entry %+v", e)
		}
		seen[e.ID]++
	}
	for _, id := range []string{"web-log-out", "remote-log-out", "tip-two-step-verification", "chat-greeting"} {
		if seen[id] != 2 {
			t.Errorf("%s appears %d times, want 2 (zh-Hans and en)", id, seen[id])
		}
	}
}

func TestAskOneQuestion(t *testing.T) {
	code, out, errs := runCLI(t, "", "网页版怎么退出")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"网页版", "1. ", "web-log-out"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestAskJSONOneObject(t *testing.T) {
	code, out, _ := runCLI(t, "", "--json", "how do I log out of WhatsApp Web")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var a map[string]any
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	for _, f := range []string{"query", "outcome", "id", "title", "answer", "lang", "score", "confidence", "alternatives"} {
		if _, ok := a[f]; !ok {
			t.Errorf("no field %q in %s", f, out)
		}
	}
	if a["id"] != "web-log-out" || a["lang"] != "en" {
		t.Errorf("answer %v in %v, want web-log-out in en", a["id"], a["lang"])
	}
}

func TestAskJSONLinesOnePerLine(t *testing.T) {
	in := "网页版怎么退出\n\nhow to delete my account\n   \n刪除帳號\n微信怎么退出" // no final newline
	code, out, errs := runCLI(t, in, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	inLines := strings.Split(in, "\n")
	if len(lines) != len(inLines) {
		t.Fatalf("%d lines out for %d in:\n%s", len(lines), len(inLines), out)
	}
	for i, l := range lines {
		var a struct {
			Query   string `json:"query"`
			Outcome string `json:"outcome"`
		}
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		if a.Query != inLines[i] {
			t.Errorf("line %d answers %q, want %q", i+1, a.Query, inLines[i])
		}
	}
	if !strings.Contains(lines[1], `"outcome":"none"`) || !strings.Contains(lines[5], `"outcome":"none"`) {
		t.Errorf("blank line and another app's question should be declined:\n%s\n%s", lines[1], lines[5])
	}
}

func TestAskJSONLinesBoundsLongLines(t *testing.T) {
	in := strings.Repeat("退出", 200000) + "\n网页版怎么退出\n" // a 1.2 MB line, then a question
	code, out, errs := runCLI(t, in, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], `"id":"web-log-out"`) {
		t.Errorf("want two answers, the second web-log-out; got %d lines:\n%.300s", len(lines), out)
	}
}

func TestExplain(t *testing.T) {
	tests := []struct {
		q    string
		want []string
	}{
		{"登陆网页版咋退", []string{"normalized:", "terms:", "candidate", "coverage", "web-log-out"}},
		// A topic the guides do not cover is named.
		{"whatsapp群组怎么退出", []string{"uncovered:   群组"}},
		// An entry for only some of the platforms the question names is
		// marked.
		{"does logging out of whatsapp web delete anything on my phone", []string{"(some platforms)"}},
	}
	for _, tt := range tests {
		code, out, _ := runCLI(t, "", "--explain", tt.q)
		if code != 0 {
			t.Fatalf("%s: exit %d", tt.q, code)
		}
		for _, want := range tt.want {
			if !strings.Contains(out, want) {
				t.Errorf("explanation of %q lacks %q:\n%s", tt.q, want, out)
			}
		}
	}
}

func TestEvalFloors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "e.jsonl")
	os.WriteFile(file, []byte(`{"q":"网页版怎么退出","expect":["web-log-out"],"lang":"zh-Hans"}
{"q":"微信怎么退出登录","expect":[],"lang":"zh-Hans"}
{"q":"how do I turn on two-step verification","expect":["tip-two-step-verification"],"lang":"en"}
`), 0o644)
	code, out, errs := runCLI(t, "", "eval", "-baseline", "-min-answered", "1", "-max-wrong", "0", file)
	if code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "bleve cjk (baseline)") || !strings.Contains(out, "answered right") {
		t.Errorf("report lacks the side-by-side table:\n%s", out)
	}
	// A question the guides cannot answer as expected pulls answered-right
	// below an impossible floor.
	os.WriteFile(file, []byte(`{"q":"怎么发语音消息","expect":["web-log-out"]}`+"\n"), 0o644)
	if code, _, errs := runCLI(t, "", "eval", "-min-answered", "0.5", file); code != 1 || !strings.Contains(errs, "below floor") {
		t.Errorf("eval below its floor: exit %d, stderr %q; want 1 and a floor message", code, errs)
	}
	if code, _, _ := runCLI(t, "", "eval"); code != 2 {
		t.Errorf("eval without a file: exit %d, want 2", code)
	}
	code, out, errs = runCLI(t, "", "eval", "-guides-left-out", "-misses=false", "-min-top1", "0.5")
	if code != 0 || !strings.Contains(out, "each left out of its entry") {
		t.Errorf("eval -guides-left-out: exit %d, output %q %q", code, out, errs)
	}
	if code, _, errs := runCLI(t, "", "eval", "-guides-left-out", "-baseline"); code != 2 || !strings.Contains(errs, "cannot be used with -baseline") {
		t.Errorf("eval -guides-left-out -baseline: exit %d, stderr %q; want 2 and why", code, errs)
	}
	if code, _, _ := runCLI(t, "", "eval", "-guides-left-out", file); code != 2 {
		t.Errorf("eval -guides-left-out with a file: exit %d, want 2", code)
	}
}

func TestCalibrate(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	os.WriteFile(a, []byte(`{"q":"网页版怎么退出","expect":["web-log-out"]}`+"\n"), 0o644)
	os.WriteFile(b, []byte(`{"q":"how do i delete my account","expect":["phone-delete-account"]}`+"\n"), 0o644)
	tests := []struct {
		args []string
		code int
		want string
	}{
		// Two questions and the guides' own: enough to fit.
		{[]string{"calibrate", a, b}, 0, "search.Calibration{Bias: "},
		// Two questions alone are not.
		{[]string{"calibrate", "-with-guides=false", a, b}, 1, "fit needs at least 20"},
		{[]string{"calibrate"}, 2, "Usage"},
		{[]string{"calibrate", filepath.Join(dir, "missing.jsonl")}, 1, "missing.jsonl"},
	}
	for _, tt := range tests {
		code, out, errs := runCLI(t, "", tt.args...)
		if code != tt.code || !strings.Contains(out+errs, tt.want) {
			t.Errorf("askcli %q: exit %d, output %q %q; want exit %d and %q", tt.args, code, out, errs, tt.code, tt.want)
		}
	}
}

func TestBadGuidesDir(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "g.en.md"), []byte("---\nlang: en\n---\n\n## T {#Bad}\n"), 0o644)
	code, _, errs := runCLI(t, "", "--guides", dir, "hello")
	if code != 1 || !strings.Contains(errs, "g.en.md:5") {
		t.Errorf("exit %d, stderr %q; want 1 and a file:line error", code, errs)
	}
}

func TestOperatorGuides(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "wifi.en.md"), []byte("---\nlang: en\n---\n\n## Reset the router {#reset-router}\n\nQuestions:\n- how do I reset the router\n- router restart\n\nHold the reset button for ten seconds.\n"), 0o644)
	t.Setenv("FAQBOT_GUIDES", dir)
	t.Setenv("FAQBOT_CACHE_DIR", filepath.Join(t.TempDir(), "cache"))
	code, out, errs := runCLI(t, "", "--json", "how to reset my router")
	if code != 0 || !strings.Contains(out, `"id":"reset-router"`) {
		t.Errorf("exit %d, out %s, err %s; want the operator's entry", code, out, errs)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorsFail(t *testing.T) {
	var errb bytes.Buffer
	code := run(context.Background(), []string{"网页版怎么退出"}, strings.NewReader(""), failingWriter{}, &errb)
	if code != 1 || !strings.Contains(errb.String(), "disk full") {
		t.Errorf("exit %d, stderr %q; want 1 and the write error", code, errb.String())
	}
}

func TestLint(t *testing.T) {
	code, out, _ := runCLI(t, "", "lint")
	sc := bufio.NewScanner(strings.NewReader(out))
	var last string
	lines := 0
	for sc.Scan() {
		last = sc.Text()
		lines++
	}
	var issues, total int
	if _, err := fmt.Sscanf(last, "%d of %d alternate questions are answered by another entry", &issues, &total); err != nil {
		t.Fatalf("no summary line: %q", last)
	}
	if issues != lines-1 || total < 300 {
		t.Errorf("summary says %d of %d, with %d issue lines", issues, total, lines-1)
	}
	// Exit 1 exactly when some question is answered by another entry.
	if want := map[bool]int{true: 0, false: 1}[issues == 0]; code != want {
		t.Errorf("exit %d with %d issues, want %d", code, issues, want)
	}
}
