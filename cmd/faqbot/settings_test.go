package main

import (
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// lookup is os.LookupEnv over m: a key present with "" is set and empty.
func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// TestErrorsNameTheirSource: a value refused by Validate is named where it
// was set, the file's line, the flag or the variable, in the setting's own
// terms (not an adapter's Go field).
func TestErrorsNameTheirSource(t *testing.T) {
	file := func(content string) map[string]string {
		return map[string]string{"DISCORD_BOT_TOKEN": "tok", "FAQBOT_CONFIG": writeFile(t, "faqbot.yaml", content)}
	}
	dir := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"file", file("log:\n  format: xml\n"), nil, `faqbot.yaml:2: log.format "xml": use text or json`},
		{"file, dotted", file("http_addr: 9090\n"), nil, `faqbot.yaml:1: http_addr "9090": not host:port (or off)`},
		{"flag", file(""), []string{"-http-addr", "9090"}, `-http-addr "9090": not host:port (or off)`},
		{"flag over file", file("shutdown_timeout: 5s\n"), []string{"-shutdown-timeout", "11m"}, `-shutdown-timeout "11m0s": want a duration above 0 and at most 10m`},
		{"file: retention", file("question_log:\n  retention: 30m\n"), nil, `faqbot.yaml:2: question_log.retention "30m0s": want at least one hour`},
		{"file: log path", file("question_log.path: " + dir + "\n"), nil, `faqbot.yaml:1: question_log.path "` + dir + `": is a directory`},
		{"file: salt", file("question_log.salt: short\n"), nil, `faqbot.yaml:1: question_log.salt (value not shown): shorter than 16 bytes`},
		{"file: Telegram", file("telegram:\n  token: \"1:abc\"\n  api_url: ftp://example.org\n"), nil, `faqbot.yaml:3: telegram.api_url "ftp://example.org": want an http(s) URL`},
		{"file: Telegram listen address", file("telegram:\n  token: \"1:abc\"\n  listen_addr: nowhere\n"), nil, `faqbot.yaml:3: telegram.listen_addr "nowhere": want host:port`},
		{"env: Telegram token", map[string]string{"TELEGRAM_BOT_TOKEN": "secret-without-colon"}, nil, `TELEGRAM_BOT_TOKEN (value not shown): not a bot token`},
		{"flag: Discord guild", file(""), []string{"-discord-guild-id", "my-server"}, `-discord-guild-id "my-server": want a numeric id`},
		{"file: Discord channels", file("discord.channel_ids: [\"1\", general]\n"), nil, `faqbot.yaml:1: discord.channel_ids "1,general": "general" is not a numeric channel id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr syncBuffer
			code := runEnv(t.Context(), tt.args, lookup(tt.env), io.Discard, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tt.want)
			}
			if strings.Contains(stderr.String(), "secret-without-colon") {
				t.Error("the message shows the token")
			}
		})
	}
}

// TestEmptyVariables: an empty variable clears a setting whose empty value
// means something, and is ignored for the others.
func TestEmptyVariables(t *testing.T) {
	file := writeFile(t, "faqbot.yaml", `
guides: /etc/faqbot/guides
cache_dir: /var/cache/faqbot
log.level: debug
http_addr: 127.0.0.1:9999
discord:
  token: file-token
  guild_id: "123"
telegram.token: "1:file"
`)
	env := map[string]string{
		"FAQBOT_CONFIG":      file,
		"FAQBOT_GUIDES":      "", // the shipped guides
		"FAQBOT_CACHE_DIR":   "", // no cache
		"FAQBOT_HTTP_ADDR":   "", // no ops listener
		"DISCORD_BOT_TOKEN":  "", // Discord off
		"LOG_LEVEL":          "", // ignored: the file's level stays
		"FAQBOT_QLOG_PATH":   "", // ignored: an empty path means nothing
		"TELEGRAM_API_URL":   "", // Telegram's own
		"TELEGRAM_BOT_TOKEN": "2:env",
	}
	cfg, _, err := loadConfigEnv("faqbot", nil, lookup(env), io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"guides cleared", cfg.Guides, ""},
		{"cache dir cleared", cfg.CacheDir, ""},
		{"ops listener off", cfg.HTTPAddr, ""},
		{"Discord off", cfg.Discord == nil, true},
		{"log level kept", cfg.LogLevel, "debug"},
		{"qlog path kept", cfg.QLog.Path, DefaultConfig().QLog.Path},
		{"Telegram token from env", cfg.Telegram != nil && cfg.Telegram.Token == "2:env", true},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	// Discord's guild id was set without a token: ignored, and said so.
	if want := []string{file + ":8: discord.guild_id"}; !slices.Equal(cfg.orphans, want) {
		t.Errorf("orphans %q, want %q", cfg.orphans, want)
	}
	// Without a getenv that can tell (a test's map), "" is unset.
	cfg, _, err = loadConfig("faqbot", nil, env2(env), io.Discard, nil)
	if err != nil || cfg.Discord == nil || cfg.Guides != "/etc/faqbot/guides" {
		t.Errorf("loadConfig with a getenv: %v, Discord %v, guides %q; want the file's", err, cfg.Discord, cfg.Guides)
	}
}

func env2(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestAdapterRunsOnlyWithItsToken: an adapter's settings without its token
// leave it off; with no token at all, the error names what was set.
func TestAdapterRunsOnlyWithItsToken(t *testing.T) {
	file := writeFile(t, "faqbot.yaml", "telegram:\n  webhook_url: https://bot.example.org/tg\ndiscord.token: tok\n")
	cfg, _, err := loadConfigEnv("faqbot", nil, lookup(map[string]string{"FAQBOT_CONFIG": file}), io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil || cfg.Telegram != nil || cfg.Discord == nil {
		t.Errorf("Validate %v, Telegram %v, Discord %v: want Discord alone", err, cfg.Telegram, cfg.Discord)
	}
	if want := []string{file + ":2: telegram.webhook_url"}; !slices.Equal(cfg.orphans, want) {
		t.Errorf("orphans %q, want %q", cfg.orphans, want)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90d": 90 * 24 * time.Hour, "1.5d": 36 * time.Hour, "0d": 0, "10s": 10 * time.Second, "720h": 720 * time.Hour,
	} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"NaNd", "nand", "-1d", "-5s", "Infd", "+Infd", "1e400d", "36501d", "2562047h", "d", "", "5"} {
		if got, err := parseDuration(bad); err == nil {
			t.Errorf("parseDuration(%q) = %v, want an error", bad, got)
		}
	}
}

// TestSystemdWaitsLongEnough: the example unit gives a stop longer than
// the longest stop the example settings allow.
func TestSystemdWaitsLongEnough(t *testing.T) {
	unit, err := os.ReadFile("deploy/faqbot.service")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TimeoutStopSec=(\S+)$`).FindSubmatch(unit)
	if m == nil {
		t.Fatal("faqbot.service sets no TimeoutStopSec")
	}
	stopSec, err := time.ParseDuration(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	envFile, err := os.ReadFile("deploy/faqbot.env")
	if err != nil {
		t.Fatal(err)
	}
	m = regexp.MustCompile(`(?m)^FAQBOT_SHUTDOWN_TIMEOUT=(\S+)$`).FindSubmatch(envFile)
	if m == nil {
		t.Fatal("faqbot.env sets no FAQBOT_SHUTDOWN_TIMEOUT")
	}
	timeout, err := parseDuration(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	if stopSec <= timeout+stopOverhead {
		t.Errorf("TimeoutStopSec=%v, want more than FAQBOT_SHUTDOWN_TIMEOUT (%v) + %v", stopSec, timeout, stopOverhead)
	}
}
