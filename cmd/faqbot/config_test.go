package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigPrecedence: flags over the environment over the file over the
// defaults, setting by setting.
func TestConfigPrecedence(t *testing.T) {
	file := writeFile(t, "faqbot.yaml", `
guides: /from/file
log:
  level: warn
  format: json
shutdown_timeout: 30s
question_log.retention: 30d
question_log:
  path: /from/file.db
discord:
  token: file-token
  channel_ids: ["111", "222"]
`)
	env := map[string]string{
		"FAQBOT_CONFIG":           file,
		"LOG_LEVEL":               "error",
		"FAQBOT_SHUTDOWN_TIMEOUT": "20s",
		"FAQBOT_QLOG_PATH":        "/from/env.db",
		"FAQBOT_HTTP_ADDR":        "off",
		"TELEGRAM_BOT_TOKEN":      "1:env",
	}
	args := []string{"-log-level", "debug", "-qlog-path", "/from/flag.db", "-discord-channel-ids", "333"}
	cfg, _, err := loadConfig("faqbot", args, func(k string) string { return env[k] }, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"guides: file", cfg.Guides, "/from/file"},
		{"log format: file", cfg.LogFormat, "json"},
		{"log level: flag over env over file", cfg.LogLevel, "debug"},
		{"shutdown timeout: env over file", cfg.ShutdownTimeout, 20 * time.Second},
		{"retention: file, dotted key", cfg.QLog.Retention, 30 * 24 * time.Hour},
		{"qlog path: flag", cfg.QLog.Path, "/from/flag.db"},
		{"http addr: off", cfg.HTTPAddr, ""},
		{"question log: default on", cfg.QuestionLog, true},
		{"telegram token: env", cfg.Telegram != nil && cfg.Telegram.Token == "1:env", true},
		{"discord token: file", cfg.Discord != nil && cfg.Discord.Token == "file-token", true},
		{"discord channels: flag over file list", cfg.Discord != nil && slices.Equal(cfg.Discord.ChannelIDs, []string{"333"}), true},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	// -config names the file too, over FAQBOT_CONFIG.
	other := writeFile(t, "other.yaml", "guides: /from/other\n")
	cfg, _, err = loadConfig("faqbot", []string{"-config", other}, func(k string) string { return env[k] }, io.Discard, nil)
	if err != nil || cfg.Guides != "/from/other" {
		t.Errorf("-config: guides %q, %v; want /from/other", cfg.Guides, err)
	}
}

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	if c.HTTPAddr != "127.0.0.1:9090" || c.ShutdownTimeout != 10*time.Second || !c.QuestionLog || c.QLog.Retention != 90*24*time.Hour {
		t.Errorf("defaults %+v", c)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "no chat service configured") {
		t.Errorf("defaults without a token: %v", err)
	}
}

// TestBadSettings: each mistake is refused with exit code 2 and a message
// naming the setting, where it was set and the value (never a secret's).
func TestBadSettings(t *testing.T) {
	tok := map[string]string{"TELEGRAM_BOT_TOKEN": "1:x"}
	with := func(m map[string]string) map[string]string {
		out := map[string]string{"TELEGRAM_BOT_TOKEN": "1:x"}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	file := func(content string) map[string]string {
		return with(map[string]string{"FAQBOT_CONFIG": writeFile(t, "c.yaml", content)})
	}
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		want   string
		hidden string // must not appear
	}{
		{"no tokens", nil, nil, "set TELEGRAM_BOT_TOKEN and/or DISCORD_BOT_TOKEN (to try questions locally, use askcli)", ""},
		{"bad log level", with(map[string]string{"LOG_LEVEL": "loud"}), nil, `LOG_LEVEL "loud"`, ""},
		{"bad log format", with(map[string]string{"FAQBOT_LOG_FORMAT": "xml"}), nil, `FAQBOT_LOG_FORMAT "xml"`, ""},
		{"stray argument", tok, []string{"extra"}, `unexpected arguments "extra"`, ""},
		{"unknown flag", tok, []string{"-colour"}, "flag provided but not defined: -colour", ""},
		{"bad duration in env", with(map[string]string{"FAQBOT_SHUTDOWN_TIMEOUT": "soon"}), nil, `FAQBOT_SHUTDOWN_TIMEOUT "soon": not a duration`, ""},
		{"zero shutdown timeout", with(map[string]string{"FAQBOT_SHUTDOWN_TIMEOUT": "0s"}), nil, `FAQBOT_SHUTDOWN_TIMEOUT "0s": want a duration above 0 and at most 10m`, ""},
		{"bad switch in a flag", tok, []string{"-qlog", "maybe"}, `-qlog "maybe": want on or off`, ""},
		{"bad retention", with(map[string]string{"FAQBOT_QLOG_RETENTION": "ninety"}), nil, `FAQBOT_QLOG_RETENTION "ninety"`, ""},
		{"short retention", with(map[string]string{"FAQBOT_QLOG_RETENTION": "10m"}), nil, `FAQBOT_QLOG_RETENTION "10m0s": want at least one hour`, ""},
		{"bad http addr", with(map[string]string{"FAQBOT_HTTP_ADDR": "9090"}), nil, `FAQBOT_HTTP_ADDR "9090": not host:port (or off): address 9090: missing port in address`, ""},
		{"bad telegram token", map[string]string{"TELEGRAM_BOT_TOKEN": "not-a-token-secret"}, nil, "TELEGRAM_BOT_TOKEN (value not shown): not a bot token", "not-a-token-secret"},
		{"telegram setting without token", map[string]string{"TELEGRAM_API_URL": "http://127.0.0.1:1"}, nil, "set TELEGRAM_BOT_TOKEN and/or DISCORD_BOT_TOKEN (to try questions locally, use askcli); TELEGRAM_API_URL set without the token", ""},
		{"bad discord channel", map[string]string{"DISCORD_BOT_TOKEN": "tok", "DISCORD_CHANNEL_IDS": "general"}, nil, `DISCORD_CHANNEL_IDS "general": "general" is not a numeric channel id`, ""},
		{"missing config file", with(map[string]string{"FAQBOT_CONFIG": "/nonexistent/faqbot.yaml"}), nil, "config file: open /nonexistent/faqbot.yaml", ""},
		{"unknown key", file("log:\n  level: info\n  colour: red\n"), nil, `c.yaml:3: log.colour: unknown setting`, ""},
		{"set twice", file("log.level: info\nlog:\n  level: debug\n"), nil, `c.yaml:3: log.level: set twice`, ""},
		{"list where a value goes", file("guides: [a, b]\n"), nil, `c.yaml:1: guides: want a value`, ""},
		{"empty value", file("guides:\n"), nil, `c.yaml:1: guides: want a value`, ""},
		{"bad value in the file", file("shutdown_timeout: soon\n"), nil, `c.yaml:1: shutdown_timeout "soon": not a duration`, ""},
		{"not a map", file("- a\n- b\n"), nil, `c.yaml:1: want a map of settings`, ""},
		{"bad yaml", file("log: [\n"), nil, "c.yaml: yaml:", ""},
		{"secret in the file not shown", file("question_log:\n  salt: [s3cr3t-salt]\n"), nil, "question_log.salt: want a value", "s3cr3t"},

		// Flags.
		{"flag without its value", tok, []string{"-log-level"}, "flag needs an argument: -log-level", ""},
		{"empty duration flag", tok, []string{"-shutdown-timeout="}, `-shutdown-timeout "": not a duration`, ""},
		{"missing config file in a flag", tok, []string{"-config", "/nonexistent/x.yaml"}, "config file: open /nonexistent/x.yaml", ""},

		// Values.
		{"NaN days", with(map[string]string{"FAQBOT_QLOG_RETENTION": "NaNd"}), nil, `FAQBOT_QLOG_RETENTION "NaNd": not a number of days`, ""},
		{"negative days", with(map[string]string{"FAQBOT_QLOG_RETENTION": "-5d"}), nil, `FAQBOT_QLOG_RETENTION "-5d": not a number of days`, ""},
		{"too many days", with(map[string]string{"FAQBOT_QLOG_RETENTION": "100000d"}), nil, `FAQBOT_QLOG_RETENTION "100000d": not a number of days`, ""},
		{"negative duration", with(map[string]string{"FAQBOT_SHUTDOWN_TIMEOUT": "-1s"}), nil, `FAQBOT_SHUTDOWN_TIMEOUT "-1s": want a duration from 0 to 100 years`, ""},
		{"duration overflowing", with(map[string]string{"FAQBOT_SHUTDOWN_TIMEOUT": "9999999999h"}), nil, `FAQBOT_SHUTDOWN_TIMEOUT "9999999999h": not a duration`, ""},
		{"port out of range", with(map[string]string{"FAQBOT_HTTP_ADDR": "127.0.0.1:99999"}), nil, `FAQBOT_HTTP_ADDR "127.0.0.1:99999": port "99999" is not a port number`, ""},
		{"webhook URL not http(s)", with(map[string]string{"TELEGRAM_WEBHOOK_URL": "ftp://bot.example.com/hook"}), nil, `TELEGRAM_WEBHOOK_URL "ftp://bot.example.com/hook": want an http(s) URL`, ""},
		{"webhook listen address", with(map[string]string{"TELEGRAM_WEBHOOK_URL": "https://bot.example.com/hook", "TELEGRAM_LISTEN_ADDR": "8443"}), nil, `TELEGRAM_LISTEN_ADDR "8443": want host:port`, ""},
		{"Telegram API URL", with(map[string]string{"TELEGRAM_API_URL": "localhost:8081"}), nil, `TELEGRAM_API_URL "localhost:8081": want an http(s) URL`, ""},
		{"Discord API URL", map[string]string{"DISCORD_BOT_TOKEN": "tok", "DISCORD_API_URL": "discord.com/api"}, nil, `DISCORD_API_URL "discord.com/api": want an http(s) base URL`, ""},
		{"Discord guild", map[string]string{"DISCORD_BOT_TOKEN": "tok", "DISCORD_GUILD_ID": "my server"}, nil, `DISCORD_GUILD_ID "my server": want a numeric id`, ""},
		{"control characters shown escaped", with(map[string]string{"LOG_LEVEL": "\x1b[31mred\n"}), nil, `LOG_LEVEL "\x1b[31mred\n"`, "\x1b"},
		{"invalid UTF-8 shown escaped", with(map[string]string{"FAQBOT_LOG_FORMAT": "js\xffon"}), nil, `FAQBOT_LOG_FORMAT "js\xffon"`, "\xff"},

		// Config files.
		{"config file is a directory", with(map[string]string{"FAQBOT_CONFIG": t.TempDir()}), nil, "is a directory", ""},
		{"config file too large", file(strings.Repeat("#", 1<<20+1)), nil, "c.yaml: larger than 1048576 bytes", ""},
		{"config file not UTF-8", file("guides: x\x80\n"), nil, "c.yaml: yaml: invalid", ""},
		{"config file in UTF-16", file("\xff\xfeguides: x\n"), nil, "c.yaml:1: want a map of settings", ""},
		{"a key that is not a name", file("? [a, b]\n: c\n"), nil, "c.yaml:1: want a setting's name as the key", ""},
		{"a value for a group", file("telegram: on\n"), nil, "c.yaml:1: telegram: a group of settings (telegram.token, telegram.api_url,", ""},
		{"a map where a value goes", file("log:\n  level:\n    name: debug\n"), nil, "c.yaml:3: log.level.name: unknown setting", ""},
		{"empty question log path", file("question_log.path: \"\"\n"), nil, `question_log.path "": want a file`, ""},
		{"alias of a map", file("log: &m {level: debug}\ndiscord: *m\n"), nil, "c.yaml:2: discord: an alias of a map", ""},
		{"alias bomb in a list", file("discord:\n  token: tok\n  channel_ids: [&a [1, 1, 1], &b [*a, *a, *a], &c [*b, *b, *b], *c]\n"), nil, "c.yaml:3: discord.channel_ids: want a list of values", ""},
		{"nested deep", file(deepYAML(1000)), nil, "unknown setting", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(context.Background(), tt.args, env(tt.env), io.Discard, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tt.want)
			}
			if tt.hidden != "" && strings.Contains(stderr.String(), tt.hidden) {
				t.Errorf("the message shows a secret: %q", stderr.String())
			}
		})
	}
}

// deepYAML is a config file of maps nested depth deep.
func deepYAML(depth int) string {
	var b strings.Builder
	for i := range depth {
		fmt.Fprintf(&b, "%sk%d:\n", strings.Repeat(" ", i), i)
	}
	fmt.Fprintf(&b, "%sx: 1\n", strings.Repeat(" ", depth))
	return b.String()
}

// TestConfigFileAliases: an alias stands for its anchor's value (a
// scalar, or a list for a list setting).
func TestConfigFileAliases(t *testing.T) {
	p := writeFile(t, "aliases.yaml", "guides: &dir /srv/faqbot\ncache_dir: *dir\ndiscord:\n  token: tok\n  channel_ids: &ids [\"111\", \"222\"]\n")
	cfg, _, err := loadConfig("faqbot", []string{"-config", p}, env(nil), io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CacheDir != "/srv/faqbot" || cfg.Discord == nil || !slices.Equal(cfg.Discord.ChannelIDs, []string{"111", "222"}) {
		t.Errorf("cache dir %q, discord %v", cfg.CacheDir, cfg.Discord)
	}
}

func TestEmptyConfigFile(t *testing.T) {
	p := writeFile(t, "empty.yaml", "# nothing set\n")
	cfg, _, err := loadConfig("faqbot", []string{"-config", p}, env(nil), io.Discard, nil)
	if err != nil || cfg.LogLevel != "info" {
		t.Errorf("empty file: %v, level %q", err, cfg.LogLevel)
	}
}

// TestHelpListsEverySetting: faqbot -h documents every setting by its
// three names.
func TestHelpListsEverySetting(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, env(nil), io.Discard, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	help := stderr.String()
	for _, s := range settings {
		if !strings.Contains(help, s.env) || !strings.Contains(help, "file: "+s.key+")") {
			t.Errorf("help lacks %s / %s", s.env, s.key)
		}
		if s.flag != "" && !strings.Contains(help, "-"+s.flag+" ") {
			t.Errorf("help lacks -%s", s.flag)
		}
	}
	for _, want := range []string{"-config FILE", "FAQBOT_CONFIG", "SIGHUP", "faqbot report", "askcli", "(default 127.0.0.1:9090)", "(default 90d)"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// TestDeployExamples: the example env file and config file set only known
// settings, and load into a valid configuration.
func TestDeployExamples(t *testing.T) {
	f, err := os.Open("deploy/faqbot.env")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	known := map[string]bool{envConfig: true}
	for _, s := range settings {
		known[s.env] = true
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		commented := strings.HasPrefix(line, "#")
		line = strings.TrimPrefix(line, "#")
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.ContainsAny(k, " \t") {
			continue // prose
		}
		if !known[k] {
			t.Errorf("faqbot.env sets %s, which faqbot does not read", k)
		}
		if !commented {
			vars[k] = v
		}
	}
	vars["FAQBOT_CONFIG"] = "deploy/faqbot.yaml"
	cfg, _, err := loadConfig("faqbot", nil, env(vars), io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("the examples do not validate: %v", err)
	}
	if cfg.QLog.Path != "/var/lib/faqbot/faqbot.db" || cfg.LogFormat != "json" || cfg.Telegram == nil || cfg.Discord == nil {
		t.Errorf("the examples load as %+v", cfg)
	}
	unit, err := os.ReadFile("deploy/faqbot.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ExecReload=/bin/kill -HUP $MAINPID", "EnvironmentFile=/etc/faqbot/faqbot.env", "StateDirectory=faqbot", "KillSignal=SIGTERM"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("faqbot.service lacks %s", want)
		}
	}
}

// FuzzConfigFile: any config file is read into a configuration or refused
// with an error naming the file; never a panic or a hang, and the
// configuration read validates and prints without one either.
func FuzzConfigFile(f *testing.F) {
	example, err := os.ReadFile("deploy/faqbot.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(example),
		"log:\n  level: debug\nlog.format: json\n",
		"discord:\n  token: tok\n  channel_ids: [\"111\", 222]\n",
		"guides: &g /srv\ncache_dir: *g\n",
		"? [a, b]\n: c\n",
		"telegram: on\n",
		"shutdown_timeout: NaNd\n",
		"question_log:\n  retention: 1e400d\n",
		deepYAML(50),
		"\xff\xfeguides: x\n",
	} {
		f.Add([]byte(seed))
	}
	path := filepath.Join(f.TempDir(), "fuzz.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, _, err := loadConfig("faqbot", []string{"-config", path}, env(nil), io.Discard, nil)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Errorf("the error does not name the file: %v", err)
			}
			return
		}
		cfg.Validate()
		_ = cfg.String()
	})
}
