package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"faqbot/bot"
	"faqbot/bot/qlog"
	"faqbot/knowledge"
	"faqbot/search"
)

func TestReportCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "faqbot.db")
	cfg := qlog.DefaultConfig()
	cfg.Path = path
	l, err := qlog.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ask := func(ago time.Duration, user, q string, o search.Outcome, entry string, choices ...string) {
		l.Record(qlog.Question{Time: now.Add(-ago), Adapter: "discord", User: user, Question: q, Lang: knowledge.SimplifiedChinese, Outcome: o, EntryID: entry, Choices: choices})
	}
	ask(40*24*time.Hour, "1", "old question", search.None, "")
	ask(time.Hour, "1", "微信怎么退出", search.None, "")
	ask(time.Hour, "2", "微信怎么退出", search.None, "")
	ask(time.Hour, "3", "退出", search.Clarify, "web-log-out", "remote-log-out")
	ask(time.Hour, "5", "退出", search.Clarify, "web-log-out", "remote-log-out")
	ask(time.Hour, "6", "退出", search.Clarify, "web-log-out", "remote-log-out")
	l.RecordChoice(qlog.Choice{Time: now.Add(-50 * time.Minute), Adapter: "discord", User: "3", EntryID: "remote-log-out"})
	l.RecordChoice(qlog.Choice{Time: now.Add(-50 * time.Minute), Adapter: "discord", User: "5", EntryID: "remote-log-out"})
	ask(time.Hour, "4", "删号", search.Answered, "phone-delete-account")
	if err := l.RecordFeedback(context.Background(), bot.Feedback{Time: now, Adapter: "discord", User: "4", EntryID: "phone-delete-account"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"report", "-qlog-path", path, "-since", "7d"}, env(nil), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`Questions: 6  answered 1 \(16\.7%\)  clarify 3 \(50\.0%\)  none 2 \(33\.3%\)`),
		regexp.MustCompile(`Feedback:  helpful 0  unhelpful 1`),
		regexp.MustCompile(`Choices:   picked after 2 of 3 clarifications \(66\.7%\)`),
		regexp.MustCompile(`(?m)^2 +\S+ \S+ +zh-Hans +微信怎么退出$`),
		regexp.MustCompile(`(?m)^COUNT +OFFERED +PICKED +QUESTION$`),
		regexp.MustCompile(`(?m)^3 +web-log-out, remote-log-out +remote-log-out 2, none 1 +退出$`),
		regexp.MustCompile(`(?m)^phone-delete-account +1 +0 +1 +删号$`),
	} {
		if !want.MatchString(out) {
			t.Errorf("report lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "old question") {
		t.Errorf("report shows a question from before -since:\n%s", out)
	}
	// The same through a config file naming the log.
	stdout.Reset()
	conf := writeFile(t, "faqbot.yaml", "question_log:\n  path: "+path+"\n")
	if code := run(context.Background(), []string{"report", "-config", conf, "-since", "2000-01-01"}, env(nil), &stdout, io.Discard); code != 0 || !strings.Contains(stdout.String(), "Questions: 7") {
		t.Errorf("report -config -since 2000-01-01: exit %d\n%s", code, stdout.String())
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"30d":        now.Add(-30 * 24 * time.Hour),
		"12h":        now.Add(-12 * time.Hour),
		"2025-02-01": time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got, err := parseSince(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "-5d", "30x"} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("parseSince(%q) accepted", bad)
		}
	}
}

// A log with nothing in the period says so under every heading.
func TestReportEmptyLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "faqbot.db")
	cfg := qlog.DefaultConfig()
	cfg.Path = path
	l, err := qlog.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"report", "-qlog-path", path}, env(nil), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, heading := range []string{"Most frequent declined questions", "Clarifications", "Entries with the worst feedback"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(heading) + `.*\n  none$`).MatchString(out) {
			t.Errorf("report lacks %q followed by none:\n%s", heading, out)
		}
	}
	if strings.Contains(out, "COUNT") {
		t.Errorf("report prints a table header for an empty log:\n%s", out)
	}
}
