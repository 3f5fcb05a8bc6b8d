package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"faqbot/bot"
	"faqbot/bot/discord"
	"faqbot/bot/telegram"
	"faqbot/knowledge"
	"faqbot/search"
)

const usage = `faqbot answers questions about logging out of WhatsApp on Telegram and
Discord. It runs the adapters whose tokens are set:

  TELEGRAM_BOT_TOKEN     Telegram bot token (from @BotFather)
  TELEGRAM_API_URL       optional: a self-hosted Bot API server
  TELEGRAM_WEBHOOK_URL   optional: webhook mode instead of long polling
  TELEGRAM_LISTEN_ADDR   where webhook mode listens
  TELEGRAM_WEBHOOK_SECRET optional: the webhook's secret token (random if unset)
  DISCORD_BOT_TOKEN      Discord bot token (Developer Portal > Bot)
  DISCORD_API_URL        optional: REST base URL (e.g. a rate-limit proxy)
  DISCORD_GUILD_ID       optional: register /ask in this guild only
  DISCORD_CHANNEL_IDS    optional: support channels where every message is answered
  FAQBOT_GUIDES          optional: a directory of guides instead of the shipped ones
  FAQBOT_CACHE_DIR       optional: where derived dictionaries are cached
  LOG_LEVEL              debug, info (default), warn, error
  FAQBOT_LOG_FORMAT      text (default) or json

To try questions without a chat service, use askcli.

Flags (they override the environment):
`

// Config is what faqbot runs with.
type Config struct {
	Guides    string
	CacheDir  string
	LogLevel  string
	LogFormat string
	Telegram  *telegram.Config // nil: not configured
	Discord   *discord.Config  // nil: not configured
}

// DefaultConfig returns the settings used when nothing is set.
func DefaultConfig() Config {
	return Config{LogLevel: "info", LogFormat: "text"}
}

// Validate reports the first setting that cannot work, naming it.
func (c Config) Validate() error {
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("FAQBOT_LOG_FORMAT %q: use text or json", c.LogFormat)
	}
	if c.Telegram == nil && c.Discord == nil {
		return errors.New("no chat service configured: set TELEGRAM_BOT_TOKEN and/or DISCORD_BOT_TOKEN (to try questions locally, use askcli)")
	}
	if c.Telegram != nil {
		if err := c.Telegram.Validate(); err != nil {
			return fmt.Errorf("telegram: %w", err)
		}
	}
	if c.Discord != nil {
		if err := c.Discord.Validate(); err != nil {
			return fmt.Errorf("discord: %w", err)
		}
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("LOG_LEVEL %q: use debug, info, warn or error", s)
	}
	return l, nil
}

// configFrom reads the environment and flags.
func configFrom(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	cfg := DefaultConfig()
	if v := getenv("LOG_LEVEL"); v != "" {
		cfg.LogLevel = v
	}
	if v := getenv("FAQBOT_LOG_FORMAT"); v != "" {
		cfg.LogFormat = v
	}
	cfg.Guides = getenv("FAQBOT_GUIDES")
	cfg.CacheDir = getenv("FAQBOT_CACHE_DIR")
	if cfg.CacheDir == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			cfg.CacheDir = filepath.Join(dir, "faqbot")
		}
	}
	fs := flag.NewFlagSet("faqbot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Guides, "guides", cfg.Guides, "load guides from this directory instead of the shipped ones (FAQBOT_GUIDES)")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error (LOG_LEVEL)")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "text or json (FAQBOT_LOG_FORMAT)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", strings.Join(fs.Args(), " "))
	}
	if getenv(telegram.EnvToken) != "" {
		tc := telegram.ConfigFromEnv(getenv)
		cfg.Telegram = &tc
	}
	if getenv("DISCORD_BOT_TOKEN") != "" {
		dc, err := discord.ConfigFromEnv(getenv)
		if err != nil {
			return cfg, fmt.Errorf("discord: %w", err)
		}
		cfg.Discord = &dc
	}
	return cfg, nil
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	level, _ := parseLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// run is faqbot without the process: it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	cfg, err := configFrom(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintln(stderr, "faqbot:", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	if err := Run(ctx, cfg, log); err != nil {
		log.Error("faqbot stopped", "err", err)
		return 1
	}
	return 0
}

// Run builds the engine and runs the configured adapters until ctx is done
// or one of them fails.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	var base *knowledge.Base
	var err error
	if cfg.Guides == "" {
		base, err = knowledge.Shipped()
	} else {
		base, err = knowledge.LoadDir(cfg.Guides)
	}
	if err != nil {
		return fmt.Errorf("load guides: %w", err)
	}
	ecfg := search.DefaultConfig()
	ecfg.CacheDir = cfg.CacheDir
	eng, err := search.New(base, ecfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	log.Info("engine ready", "entries", len(base.Entries()), "dictionary", eng.DictionarySource())

	type adapter interface{ Run(context.Context) error }
	var adapters []adapter
	var sink bot.FeedbackSink = bot.DiscardFeedback{}
	if cfg.Telegram != nil {
		tb, err := telegram.New(*cfg.Telegram, eng, telegram.WithLogger(log), telegram.WithFeedbackSink(sink))
		if err != nil {
			return fmt.Errorf("telegram: %w", err)
		}
		adapters = append(adapters, tb)
	}
	if cfg.Discord != nil {
		db, err := discord.New(*cfg.Discord, eng, discord.WithLogger(log), discord.WithFeedbackSink(sink))
		if err != nil {
			return fmt.Errorf("discord: %w", err)
		}
		adapters = append(adapters, db)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(adapters))
	for _, a := range adapters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Run(ctx); err != nil && ctx.Err() == nil {
				errs <- err // the adapters name themselves in their errors
				cancel()    // one adapter down takes the others down: let the supervisor restart us
			}
		}()
	}
	wg.Wait()
	close(errs)
	return errors.Join(func() []error {
		var out []error
		for e := range errs {
			out = append(out, e)
		}
		return out
	}()...)
}
