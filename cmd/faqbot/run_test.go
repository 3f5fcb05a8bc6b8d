package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestRunRefusesBadSettings(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no tokens", nil, nil, "set TELEGRAM_BOT_TOKEN and/or DISCORD_BOT_TOKEN (to try questions locally, use askcli)"},
		{"bad log level", map[string]string{"LOG_LEVEL": "loud", "TELEGRAM_BOT_TOKEN": "1:x"}, nil, `LOG_LEVEL "loud"`},
		{"bad log format", map[string]string{"FAQBOT_LOG_FORMAT": "xml", "TELEGRAM_BOT_TOKEN": "1:x"}, nil, `FAQBOT_LOG_FORMAT "xml"`},
		{"stray argument", map[string]string{"TELEGRAM_BOT_TOKEN": "1:x"}, []string{"extra"}, `unexpected arguments "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(context.Background(), tt.args, env(tt.env), io.Discard, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tt.want)
			}
		})
	}
}

func TestHelpListsSettings(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, env(nil), io.Discard, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "FAQBOT_GUIDES", "LOG_LEVEL", "-guides"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
}
