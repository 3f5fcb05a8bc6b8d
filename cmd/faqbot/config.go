package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"

	"faqbot/bot/discord"
	"faqbot/bot/qlog"
	"faqbot/bot/telegram"
)

// Config is what faqbot runs with. Start from DefaultConfig; loadConfig
// fills it from flags, the environment and a config file.
type Config struct {
	// Guides is a directory of guides; "" answers from the shipped ones.
	Guides string
	// CacheDir keeps the dictionaries derived for guides other than the
	// shipped ones between starts ("" derives them at every start).
	CacheDir  string
	LogLevel  string // debug, info, warn, error
	LogFormat string // text, json
	// HTTPAddr is where /healthz, /readyz and /metrics are served; ""
	// serves them nowhere.
	HTTPAddr string
	// ShutdownTimeout bounds how long a stop waits for the answers in
	// flight; it is each adapter's ShutdownTimeout.
	ShutdownTimeout time.Duration
	// QuestionLog turns the question log on; QLog configures it.
	QuestionLog bool
	QLog        qlog.Config
	Telegram    *telegram.Config // nil: not configured
	Discord     *discord.Config  // nil: not configured

	// where says where loadConfig found each setting it set, by key
	// ("FAQBOT_HTTP_ADDR", "-http-addr", "faqbot.yaml:7: http_addr"), so
	// that errors name the place to fix; a setting not in it is named by
	// its environment variable.
	where map[string]string
	// orphans are the places of adapter settings given without the
	// adapter's token: ignored, and logged at start.
	orphans []string
}

// maxShutdownTimeout bounds ShutdownTimeout: a stop that takes longer is
// a hang, and systemd's TimeoutStopSec must exceed the bound of the whole
// stop (ShutdownTimeout + stopOverhead).
const maxShutdownTimeout = 10 * time.Minute

// DefaultConfig returns the settings used when nothing is set: no chat
// service, the shipped guides, the question log on in ./faqbot.db, the ops
// listener on 127.0.0.1:9090.
func DefaultConfig() Config {
	c := Config{
		LogLevel:        "info",
		LogFormat:       "text",
		HTTPAddr:        "127.0.0.1:9090",
		ShutdownTimeout: 10 * time.Second,
		QuestionLog:     true,
		QLog:            qlog.DefaultConfig(),
	}
	if dir, err := os.UserCacheDir(); err == nil {
		c.CacheDir = filepath.Join(dir, "faqbot")
	}
	return c
}

// Validate reports the first setting that cannot work, naming it, where
// it was set and its value (never a token's or a salt's).
func (c Config) Validate() error {
	for i := range settings {
		s := &settings[i]
		if s.check == nil {
			continue
		}
		if err := s.check(c); err != nil {
			v := ""
			if s.get != nil {
				v = s.get(c)
			}
			return valueError(c.source(s), s, v, err)
		}
	}
	if c.Telegram == nil && c.Discord == nil {
		msg := "no chat service configured: set TELEGRAM_BOT_TOKEN and/or DISCORD_BOT_TOKEN (to try questions locally, use askcli)"
		if len(c.orphans) > 0 {
			msg += "; " + strings.Join(c.orphans, ", ") + " set without the token"
		}
		return errors.New(msg)
	}
	// The adapters' and the log's own checks, for what the settings above
	// do not cover (a Config built in code).
	if c.QuestionLog {
		if err := c.QLog.Validate(); err != nil {
			return fmt.Errorf("question log: %w", err)
		}
	}
	if c.Telegram != nil {
		if err := c.Telegram.Validate(); err != nil {
			return err // its errors start with "telegram:"
		}
	}
	if c.Discord != nil {
		if err := c.Discord.Validate(); err != nil {
			return err // its errors start with "discord config:"
		}
	}
	return nil
}

// source names where the setting was set, for an error.
func (c Config) source(s *setting) string {
	if w, ok := c.where[s.key]; ok {
		return w
	}
	return s.env
}

// orphaned lists the places of the adapter settings whose prefix
// ("telegram.") was given, except its token.
func (c Config) orphaned(prefix, token string) []string {
	var out []string
	for i := range settings {
		s := &settings[i]
		if w, ok := c.where[s.key]; ok && strings.HasPrefix(s.key, prefix) && s.key != token {
			out = append(out, w)
		}
	}
	return out
}

// secrets are the secrets the configuration holds, for hiding them
// wherever faqbot writes: the Telegram token and its secret half (the part
// after the colon, which alone is enough to use the bot), the webhook
// secret, the Discord token and the question log's salt.
func (c Config) secrets() []string {
	out := []string{c.QLog.Salt}
	if c.Telegram != nil {
		out = append(out, c.Telegram.Token, c.Telegram.WebhookSecret)
		if _, half, ok := strings.Cut(c.Telegram.Token, ":"); ok {
			out = append(out, half)
		}
	}
	if c.Discord != nil {
		out = append(out, c.Discord.Token, strings.TrimPrefix(c.Discord.Token, "Bot "))
	}
	return out
}

// String describes the configuration with its secrets hidden (each part
// prints through its own String, which hides its secrets), so a Config
// printed or logged by mistake shows none of them.
func (c Config) String() string {
	tg, dc := "<nil>", "<nil>"
	if c.Telegram != nil {
		tg = c.Telegram.String()
	}
	if c.Discord != nil {
		dc = c.Discord.String()
	}
	return fmt.Sprintf("{Guides:%q CacheDir:%q LogLevel:%q LogFormat:%q HTTPAddr:%q ShutdownTimeout:%v QuestionLog:%v QLog:%v Telegram:%s Discord:%s}",
		c.Guides, c.CacheDir, c.LogLevel, c.LogFormat, c.HTTPAddr, c.ShutdownTimeout, c.QuestionLog, c.QLog, tg, dc)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// LogValue is String, for log/slog (whose JSON handler would otherwise
// marshal the adapters' configurations, tokens and all).
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// secretsIn lists the secrets set so far, in cfg or in the environment, to
// hide them in a message about a setting that is wrong: a token pasted into
// another setting, say.
func secretsIn(cfg Config, lookupEnv func(string) (string, bool)) []string {
	out := cfg.secrets()
	for _, s := range settings {
		if !s.secret {
			continue
		}
		v, _ := lookupEnv(s.env)
		out = append(out, v, strings.TrimPrefix(v, "Bot "))
		if _, half, ok := strings.Cut(v, ":"); ok {
			out = append(out, half)
		}
	}
	return out
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, errors.New("use debug, info, warn or error")
	}
	return l, nil
}

// setting is one configuration setting, known by three names: a YAML key
// in the config file, an environment variable and (unless it is a secret)
// a flag. Every way of setting it goes through set; Validate runs check.
type setting struct {
	key, env, flag string
	arg            string // what the value is, for the help: DIR, ADDR…
	help           string
	secret         bool // no flag (it would show in the process list); never printed
	list           bool // a YAML list is accepted (joined with commas)
	// clear: an empty environment variable sets the empty value (for
	// settings where it means something: none, off, the default);
	// otherwise an empty variable counts as unset.
	clear bool
	set   func(c *Config, v string) error
	// get returns the value as set, for messages and (from DefaultConfig)
	// the help.
	get func(c Config) string
	// check reports what is wrong with the value in c (nil: nothing, or
	// the setting does not apply).
	check func(c Config) error
}

// settings are every setting faqbot reads, in the order of the help.
var settings = []setting{
	{key: "guides", env: "FAQBOT_GUIDES", flag: "guides", arg: "DIR", clear: true,
		help: "answer from the guides in DIR instead of the shipped ones (SIGHUP reloads them)",
		set:  func(c *Config, v string) error { c.Guides = v; return nil },
		get:  func(c Config) string { return c.Guides }},
	{key: "cache_dir", env: "FAQBOT_CACHE_DIR", flag: "cache-dir", arg: "DIR", clear: true,
		help: "where dictionaries derived for your guides are cached (\"\": none)",
		set:  func(c *Config, v string) error { c.CacheDir = v; return nil },
		get:  func(c Config) string { return c.CacheDir }},
	{key: "log.level", env: "LOG_LEVEL", flag: "log-level", arg: "LEVEL",
		help:  "debug, info, warn or error",
		set:   func(c *Config, v string) error { c.LogLevel = v; return nil },
		get:   func(c Config) string { return c.LogLevel },
		check: func(c Config) error { _, err := parseLevel(c.LogLevel); return err }},
	{key: "log.format", env: "FAQBOT_LOG_FORMAT", flag: "log-format", arg: "FORMAT",
		help: "text or json",
		set:  func(c *Config, v string) error { c.LogFormat = v; return nil },
		get:  func(c Config) string { return c.LogFormat },
		check: func(c Config) error {
			if c.LogFormat != "text" && c.LogFormat != "json" {
				return errors.New("use text or json")
			}
			return nil
		}},
	{key: "http_addr", env: "FAQBOT_HTTP_ADDR", flag: "http-addr", arg: "ADDR", clear: true,
		help: "where /healthz, /readyz and /metrics are served; off (or empty): nowhere",
		set: func(c *Config, v string) error {
			if v == "off" {
				v = ""
			}
			c.HTTPAddr = v
			return nil
		},
		get: func(c Config) string { return c.HTTPAddr },
		check: func(c Config) error {
			if c.HTTPAddr == "" {
				return nil
			}
			_, port, err := net.SplitHostPort(c.HTTPAddr)
			if err != nil {
				return fmt.Errorf("not host:port (or off): %w", err)
			}
			if _, err := net.LookupPort("tcp", port); err != nil {
				return fmt.Errorf("port %q is not a port number (0 to 65535)", port)
			}
			return nil
		}},
	{key: "shutdown_timeout", env: "FAQBOT_SHUTDOWN_TIMEOUT", flag: "shutdown-timeout", arg: "DURATION",
		help: "how long a stop waits for the answers in flight (at most " + shortDuration(maxShutdownTimeout) + ")",
		set:  func(c *Config, v string) (err error) { c.ShutdownTimeout, err = parseDuration(v); return err },
		get:  func(c Config) string { return c.ShutdownTimeout.String() },
		check: func(c Config) error {
			if c.ShutdownTimeout <= 0 || c.ShutdownTimeout > maxShutdownTimeout {
				return fmt.Errorf("want a duration above 0 and at most %s", shortDuration(maxShutdownTimeout))
			}
			return nil
		}},
	{key: "question_log.enabled", env: "FAQBOT_QLOG", flag: "qlog", arg: "on|off",
		help: "keep the question log (questions, outcomes, feedback; see README)",
		set:  func(c *Config, v string) (err error) { c.QuestionLog, err = parseSwitch(v); return err },
		get: func(c Config) string {
			if c.QuestionLog {
				return "on"
			}
			return "off"
		}},
	{key: "question_log.path", env: "FAQBOT_QLOG_PATH", flag: "qlog-path", arg: "FILE",
		help: "the question log's SQLite database (created if missing; its salt goes to FILE.salt)",
		set:  func(c *Config, v string) error { c.QLog.Path = v; return nil },
		get:  func(c Config) string { return c.QLog.Path },
		check: func(c Config) error {
			if !c.QuestionLog {
				return nil
			}
			return checkQLogPath(c.QLog.Path)
		}},
	{key: "question_log.retention", env: "FAQBOT_QLOG_RETENTION", flag: "qlog-retention", arg: "DURATION",
		help: "how long rows are kept (e.g. 90d, 720h)",
		set:  func(c *Config, v string) (err error) { c.QLog.Retention, err = parseDuration(v); return err },
		get:  func(c Config) string { return formatDays(c.QLog.Retention) },
		check: func(c Config) error {
			if c.QLog.Retention < qlog.MinRetention { // one hour
				return errors.New("want at least one hour (e.g. 90d)")
			}
			return nil
		}},
	{key: "question_log.salt", env: "FAQBOT_QLOG_SALT", secret: true, clear: true,
		help: "key of the user id hashes (at least 16 bytes: openssl rand -hex 32); unset: a random one kept in the log's FILE.salt",
		set:  func(c *Config, v string) error { c.QLog.Salt = v; return nil },
		get:  func(c Config) string { return c.QLog.Salt },
		check: func(c Config) error {
			if c.QuestionLog && c.QLog.Salt != "" && len(c.QLog.Salt) < qlog.MinSaltLen {
				return fmt.Errorf("shorter than %d bytes: generate one with openssl rand -hex 32", qlog.MinSaltLen)
			}
			return nil
		}},
	tgSetting(setting{key: "telegram.token", env: telegram.EnvToken, secret: true, clear: true,
		help: "Telegram bot token (from @BotFather); set: run on Telegram"},
		func(t *telegram.Config) *string { return &t.Token }, "not a bot token (want <bot id>:<secret>, as BotFather gives it)"),
	tgSetting(setting{key: "telegram.api_url", env: telegram.EnvAPIURL, flag: "telegram-api-url", arg: "URL", clear: true,
		help: "a self-hosted Bot API server instead of Telegram's"},
		func(t *telegram.Config) *string { return &t.APIURL }, "want an http(s) URL"),
	tgSetting(setting{key: "telegram.webhook_url", env: telegram.EnvWebhookURL, flag: "telegram-webhook-url", arg: "URL", clear: true,
		help: "public HTTPS URL: webhook mode instead of long polling"},
		func(t *telegram.Config) *string { return &t.WebhookURL }, "want an http(s) URL"),
	tgSetting(setting{key: "telegram.listen_addr", env: telegram.EnvListenAddr, flag: "telegram-listen-addr", arg: "ADDR",
		help: "where webhook mode listens"},
		func(t *telegram.Config) *string { return &t.ListenAddr }, "want host:port"),
	tgSetting(setting{key: "telegram.webhook_secret", env: telegram.EnvWebhookSecret, secret: true, clear: true,
		help: "the webhook's secret token (unset: random at each start)"},
		func(t *telegram.Config) *string { return &t.WebhookSecret }, "want 1 to 256 characters of A-Z, a-z, 0-9, _ and -"),
	dcSetting(setting{key: "discord.token", env: discord.EnvToken, secret: true, clear: true,
		help: "Discord bot token (Developer Portal > Bot); set: run on Discord"},
		func(d *discord.Config) *string { return &d.Token }, "contains spaces or control characters: copy it again from the Developer Portal"),
	dcSetting(setting{key: "discord.api_url", env: discord.EnvAPIURL, flag: "discord-api-url", arg: "URL",
		help: "REST base URL instead of Discord's (e.g. a rate-limit proxy)"},
		func(d *discord.Config) *string { return &d.APIURL }, "want an http(s) base URL such as "+discord.DefaultAPIURL+", without query or credentials"),
	dcSetting(setting{key: "discord.guild_id", env: discord.EnvGuildID, flag: "discord-guild-id", arg: "ID", clear: true,
		help: "register /ask in this server only (shows at once) instead of globally"},
		func(d *discord.Config) *string { return &d.GuildID }, "want a numeric id (Developer Mode, right-click the server, Copy Server ID)"),
	{key: "discord.channel_ids", env: discord.EnvChannelIDs, flag: "discord-channel-ids", arg: "IDS", list: true, clear: true,
		help: "support channels where every message is answered (comma-separated)",
		set: func(c *Config, v string) error {
			dc(c).ChannelIDs = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
			return nil
		},
		get: func(c Config) string {
			if c.Discord == nil {
				return ""
			}
			return strings.Join(c.Discord.ChannelIDs, ",")
		},
		check: func(c Config) error {
			if c.Discord == nil {
				return nil
			}
			for _, id := range c.Discord.ChannelIDs {
				probe := discord.DefaultConfig()
				probe.Token, probe.ChannelIDs = "probe", []string{id}
				if probe.Validate() != nil {
					return fmt.Errorf("%q is not a numeric channel id", id)
				}
			}
			return nil
		}},
}

// tg and dc return the adapter's configuration, creating it with its
// defaults at the first setting given for it (loadConfig drops it again
// when its token is missing).
func tg(c *Config) *telegram.Config {
	if c.Telegram == nil {
		t := telegram.DefaultConfig()
		c.Telegram = &t
	}
	return c.Telegram
}

func dc(c *Config) *discord.Config {
	if c.Discord == nil {
		d := discord.DefaultConfig()
		c.Discord = &d
	}
	return c.Discord
}

// tgSetting completes s, a setting of the Telegram field that field
// points to: set and get go through it, and check asks the adapter: a
// known-good configuration with this value must pass telegram's Validate
// (whose messages name its Go fields; problem says what is wanted in the
// setting's terms). Setting any of them turns the adapter's
// configuration on; loadConfig drops it when there is no token.
func tgSetting(s setting, field func(*telegram.Config) *string, problem string) setting {
	s.set = func(c *Config, v string) error { *field(tg(c)) = v; return nil }
	s.get = func(c Config) string {
		if c.Telegram == nil {
			d := telegram.DefaultConfig()
			return *field(&d)
		}
		return *field(c.Telegram)
	}
	s.check = func(c Config) error {
		if c.Telegram == nil || *field(c.Telegram) == "" {
			return nil
		}
		probe := telegram.DefaultConfig()
		probe.Token, probe.WebhookURL, probe.ListenAddr = "1:probe", "https://probe.invalid/telegram", "127.0.0.1:8443"
		*field(&probe) = *field(c.Telegram)
		if probe.Validate() != nil {
			return errors.New(problem)
		}
		return nil
	}
	return s
}

// dcSetting is tgSetting for Discord. Values other than the token are
// trimmed of spaces.
func dcSetting(s setting, field func(*discord.Config) *string, problem string) setting {
	s.set = func(c *Config, v string) error {
		if !s.secret {
			v = strings.TrimSpace(v)
		}
		*field(dc(c)) = v
		return nil
	}
	s.get = func(c Config) string {
		if c.Discord == nil {
			d := discord.DefaultConfig()
			return *field(&d)
		}
		return *field(c.Discord)
	}
	s.check = func(c Config) error {
		if c.Discord == nil || *field(c.Discord) == "" && !strings.HasSuffix(s.key, "api_url") {
			return nil
		}
		probe := discord.DefaultConfig()
		probe.Token = "probe"
		*field(&probe) = *field(c.Discord)
		if probe.Validate() != nil {
			return errors.New(problem)
		}
		return nil
	}
	return s
}

// envConfig names the config file in the environment (flag: -config).
const envConfig = "FAQBOT_CONFIG"

// parseDuration reads a Go duration (90s, 10m, 720h) or a number of days
// (90d), neither negative nor longer than 100 years.
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || !(n >= 0 && n <= 100*365) { // NaN too
			return 0, fmt.Errorf("not a number of days (e.g. 90d)")
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("not a duration (e.g. 10s, 720h, 90d)")
	}
	if d < 0 || d > 100*365*24*time.Hour {
		return 0, fmt.Errorf("want a duration from 0 to 100 years")
	}
	return d, nil
}

// checkQLogPath refuses a question log path that cannot be a file.
func checkQLogPath(path string) error {
	if path == "" {
		return errors.New("want a file")
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return errors.New("is a directory; want a file")
	}
	return nil
}

// shortDuration is d without Go's trailing zero units: 10m, not 10m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func formatDays(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return d.String()
}

func parseSwitch(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "on", "true", "yes", "1":
		return true, nil
	case "off", "false", "no", "0":
		return false, nil
	}
	return false, fmt.Errorf("want on or off")
}

// valueError names the setting, where it was set and the value.
func valueError(where string, s *setting, v string, err error) error {
	shown := strconv.Quote(v)
	if s.secret {
		shown = "(value not shown)"
	}
	return fmt.Errorf("%s %s: %w", where, shown, err)
}

// loadConfig is loadConfigEnv for a getenv that cannot tell an empty
// variable from an unset one (a map in a test): an empty value counts as
// unset.
func loadConfig(name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (Config, *flag.FlagSet, error) {
	return loadConfigEnv(name, args, lookupFunc(getenv), stderr, extra)
}

// lookupFunc turns a getenv into a LookupEnv for which "" is unset.
func lookupFunc(getenv func(string) string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v := getenv(k)
		return v, v != ""
	}
}

// loadConfigEnv builds the configuration from, in order of precedence, the
// flags in args, the environment (lookupEnv, os.LookupEnv in main), the
// config file (-config or FAQBOT_CONFIG) and DefaultConfig. An environment
// variable set to "" clears a setting for which empty means something
// (setting.clear: a token, the guides, a webhook URL…) and is ignored for
// the others. An adapter is configured only when its token is set: its
// other settings without it are kept in Config.orphans. It returns
// flag.ErrHelp for -h.
func loadConfigEnv(name string, args []string, lookupEnv func(string) (string, bool), stderr io.Writer, extra func(*flag.FlagSet)) (Config, *flag.FlagSet, error) {
	cfg := DefaultConfig()
	cfg.where = map[string]string{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned; the help is ours
	type flagValue struct {
		s *setting
		v string
	}
	var given []flagValue
	configFile := fs.String("config", "", "")
	for i := range settings {
		s := &settings[i]
		if s.flag == "" {
			continue
		}
		fs.Func(s.flag, s.help, func(v string) error {
			given = append(given, flagValue{s, v})
			return nil
		})
	}
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stderr, name)
		}
		return cfg, fs, err
	}
	path := *configFile
	if path == "" {
		path, _ = lookupEnv(envConfig)
	}
	if path != "" {
		if err := loadFile(&cfg, path); err != nil {
			return cfg, fs, err
		}
	}
	for i := range settings {
		s := &settings[i]
		v, ok := lookupEnv(s.env)
		if !ok || v == "" && !s.clear {
			continue
		}
		if err := s.set(&cfg, v); err != nil {
			return cfg, fs, valueError(s.env, s, v, err)
		}
		cfg.where[s.key] = s.env
	}
	for _, g := range given {
		where := "-" + g.s.flag
		if err := g.s.set(&cfg, g.v); err != nil {
			return cfg, fs, valueError(where, g.s, g.v, err)
		}
		cfg.where[g.s.key] = where
	}
	if cfg.Telegram != nil && cfg.Telegram.Token == "" {
		cfg.orphans = append(cfg.orphans, cfg.orphaned("telegram.", "telegram.token")...)
		cfg.Telegram = nil
	}
	if cfg.Discord != nil && strings.TrimSpace(strings.TrimPrefix(cfg.Discord.Token, "Bot ")) == "" {
		cfg.orphans = append(cfg.orphans, cfg.orphaned("discord.", "discord.token")...)
		cfg.Discord = nil
	}
	return cfg, fs, nil
}

// maxConfigFile bounds the config file: a few dozen settings.
const maxConfigFile = 1 << 20

// loadFile applies the YAML config file at path. Keys are the settings'
// (nested maps or dotted keys alike); an unknown or repeated key, or a
// value that is not a scalar, is an error naming file:line.
func loadFile(cfg *Config, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if len(data) > maxConfigFile {
		return fmt.Errorf("config file %s: larger than %d bytes", path, maxConfigFile)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: want a map of settings", path, root.Line)
	}
	seen := map[string]bool{}
	if cfg.where == nil {
		cfg.where = map[string]string{}
	}
	return applyNode(cfg, path, "", root, seen)
}

func applyNode(cfg *Config, path, prefix string, m *yaml.Node, seen map[string]bool) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("%s:%d: want a setting's name as the key", path, k.Line)
		}
		key := prefix + k.Value
		at := fmt.Sprintf("%s:%d: %s", path, k.Line, key)
		// An alias stands for its anchor's value; an alias of a map is
		// refused (it could nest itself).
		if v.Kind == yaml.AliasNode && v.Alias != nil && v.Alias.Kind != yaml.MappingNode && v.Alias.Kind != yaml.AliasNode {
			v = v.Alias
		}
		if v.Kind == yaml.AliasNode {
			return fmt.Errorf("%s: an alias of a map: write its settings out", at)
		}
		if v.Kind == yaml.MappingNode {
			if err := applyNode(cfg, path, key+".", v, seen); err != nil {
				return err
			}
			continue
		}
		s := lookupKey(key)
		if s == nil {
			if group := groupOf(key); group != "" {
				return fmt.Errorf("%s: a group of settings (%s): set them as keys under it", at, group)
			}
			return fmt.Errorf("%s: unknown setting (faqbot -h lists them)", at)
		}
		if seen[key] {
			return fmt.Errorf("%s: set twice", at)
		}
		seen[key] = true
		var value string
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag != "!!null":
			value = v.Value
		case v.Kind == yaml.SequenceNode && s.list:
			var items []string
			for _, it := range v.Content {
				if it.Kind != yaml.ScalarNode {
					return fmt.Errorf("%s:%d: %s: want a list of values", path, it.Line, key)
				}
				items = append(items, it.Value)
			}
			value = strings.Join(items, ",")
		default:
			return fmt.Errorf("%s: want a value", at)
		}
		if err := s.set(cfg, value); err != nil {
			return valueError(at, s, value, err)
		}
		cfg.where[key] = at
	}
	return nil
}

// groupOf lists the settings under key, when key is a group of them
// (telegram: telegram.token, telegram.api_url…), or returns "".
func groupOf(key string) string {
	var keys []string
	for _, s := range settings {
		if strings.HasPrefix(s.key, key+".") {
			keys = append(keys, s.key)
		}
	}
	return strings.Join(keys, ", ")
}

func lookupKey(key string) *setting {
	for i := range settings {
		if settings[i].key == key {
			return &settings[i]
		}
	}
	return nil
}

const usageHead = `faqbot answers questions about logging out of WhatsApp and keeping an
account safe, on Telegram and Discord: it runs the adapters whose tokens are
set. With neither token it says what to set; to try questions without a
chat service, use askcli.

Usage:
  faqbot [flags]          run the bot
  faqbot report [flags]   what the question log says (faqbot report -h)

Signals: SIGHUP reloads the guides (an invalid guide keeps the old ones
serving); SIGINT or SIGTERM stops taking questions, finishes those in flight
and exits; a second one exits at once.

Settings. Each has a flag, an environment variable and a key in the YAML
config file; flags win over the environment, which wins over the file,
which wins over the defaults. An empty environment variable clears the
settings where empty means something (tokens, guides, cache dir, ops
address, webhook URL and secret, Discord guild and channels, salt) and is
ignored for the others. Secrets have no flag (the process list would show
it): set them in the environment or the file. An adapter runs only when its
token is set; its other settings without it are ignored (with a warning).

  -config FILE  (FAQBOT_CONFIG)
        a YAML config file: the keys below, nested or dotted
        (log: {level: debug} or log.level: debug); unknown keys are errors
`

// printUsage writes the help: every setting with its three names and its
// default.
func printUsage(w io.Writer, name string) {
	if name != "faqbot" {
		return // subcommands print their own
	}
	fmt.Fprint(w, usageHead)
	def := DefaultConfig()
	for _, s := range settings {
		names := "-" + s.flag + " " + s.arg
		if s.flag == "" {
			names = "(no flag: secret)"
		}
		fmt.Fprintf(w, "  %s  (%s; file: %s)\n        %s", names, s.env, s.key, s.help)
		if s.get != nil && !s.secret {
			if d := s.get(def); d != "" {
				fmt.Fprintf(w, " (default %s)", d)
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, `
The Telegram and Discord adapters' other knobs (flood control, pacing,
retries) have production defaults: see bot/telegram/README.md and
bot/discord/README.md.
`)
}
