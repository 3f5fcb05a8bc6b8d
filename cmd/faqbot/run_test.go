package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestRunFailures: a bot that cannot start, or whose adapter fails, exits 1
// saying why.
func TestRunFailures(t *testing.T) {
	checkNoLeaks(t)
	tg := newFakeTelegram(t)
	dir := t.TempDir()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"guides missing", map[string]string{"TELEGRAM_BOT_TOKEN": tgToken, "FAQBOT_GUIDES": filepath.Join(dir, "none")}, "load guides: guides directory"},
		// The fake refuses any other token, as Telegram does.
		{"token refused", map[string]string{"TELEGRAM_BOT_TOKEN": "999:refused", "TELEGRAM_API_URL": tg.URL()}, "Unauthorized"},
		{"question log unwritable", map[string]string{"TELEGRAM_BOT_TOKEN": tgToken, "FAQBOT_QLOG_PATH": filepath.Join(dir, "none", "q.db")}, "open question log"},
		{"ops address taken", map[string]string{"TELEGRAM_BOT_TOKEN": tgToken, "FAQBOT_HTTP_ADDR": taken.Addr().String()}, "ops listener (FAQBOT_HTTP_ADDR): listen tcp " + taken.Addr().String()},
		{"webhook address taken", map[string]string{"TELEGRAM_BOT_TOKEN": tgToken, "TELEGRAM_API_URL": tg.URL(),
			"TELEGRAM_WEBHOOK_URL": "https://bot.example.com/hook", "TELEGRAM_LISTEN_ADDR": taken.Addr().String()}, "telegram: listen on " + taken.Addr().String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env["FAQBOT_HTTP_ADDR"] == "" {
				tt.env["FAQBOT_HTTP_ADDR"] = "127.0.0.1:0"
			}
			if tt.env["FAQBOT_QLOG_PATH"] == "" {
				tt.env["FAQBOT_QLOG_PATH"] = filepath.Join(t.TempDir(), "q.db")
			}
			var stderr syncBuffer
			code := make(chan int, 1)
			go func() { code <- run(context.Background(), nil, env(tt.env), io.Discard, &stderr) }()
			select {
			case c := <-code:
				if c != 1 || !strings.Contains(stderr.String(), tt.want) {
					t.Errorf("exit %d, stderr:\n%s\nwant 1 and %q", c, stderr.String(), tt.want)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("faqbot did not exit")
			}
		})
	}
}

func TestReportCommandErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"report", "-qlog-path", filepath.Join(t.TempDir(), "none.db")}, 1, "no question log at"},
		{[]string{"report", "-since", "last week"}, 2, `-since "last week"`},
		{[]string{"report", "-limit", "0"}, 2, "-limit 0"},
		{[]string{"report", "extra"}, 2, `unexpected arguments "extra"`},
		{[]string{"report", "-h"}, 0, "faqbot report prints"},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		code := run(context.Background(), tt.args, env(nil), io.Discard, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tt.args, code, stderr.String(), tt.code, tt.want)
		}
	}
}
