// Package telegram is the Telegram transport of faqbot: it takes questions
// from Telegram chats, answers them with the shared answer engine
// (bot.Answerer), and sends the answers back, built on
// github.com/go-telegram/bot.
//
// In private chats every text message is a question. In groups the bot
// answers "/ask <question>", messages that mention it and replies to its
// own messages, and ignores the rest of the conversation. Answers come as
// HTML with 👍/👎 buttons; when the engine is unsure, the user picks from
// up to three buttons. Updates arrive by long polling, or by webhook when
// Config.WebhookURL is set.
package telegram

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"faqbot/bot"
	"faqbot/knowledge"
)

// adapterName is how feedback, observers and logs name this transport.
const adapterName = "telegram"

// Bot is a running Telegram bot. Build it with New, then call Run.
type Bot struct {
	cfg      Config
	answerer bot.Answerer
	sink     bot.FeedbackSink
	obs      bot.Observer
	log      *slog.Logger
	api      *tgbot.Bot
	client   *http.Client
	listener net.Listener
	redactor *bot.Redactor

	users   *bot.UserLimiter
	pacer   *pacer
	votes   *recentSet // feedback counted once per user and message
	updates *recentSet // update ids taken, against deliveries twice
	offsets *offsets   // what long polling may confirm to Telegram

	slots    chan struct{} // one per answer in flight
	inflight sync.WaitGroup

	me atomic.Pointer[identity]

	mu      sync.RWMutex // guards state and work against inflight.Add racing Wait
	state   int
	started bool
	work    context.Context // the context answers run in; outlives Run's a little
}

// The life of a Bot.
const (
	stateNew = iota
	stateRunning
	stateStopping
)

// identity is who the bot is, from getMe: groups address it by username.
type identity struct {
	id       int64
	username string
}

// Option adjusts a Bot.
type Option func(*options)

type options struct {
	log      *slog.Logger
	sink     bot.FeedbackSink
	obs      bot.Observer
	client   *http.Client
	listener net.Listener
}

// WithLogger sets the logger (default: slog.Default()). The bot adds
// adapter=telegram, and hides the token and the webhook secret in every
// record it logs.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithFeedbackSink sets where 👍/👎 go (default: bot.DiscardFeedback).
func WithFeedbackSink(s bot.FeedbackSink) Option { return func(o *options) { o.sink = s } }

// WithObserver sets who is told about flood drops, failed Bot API calls
// and the connection (default: bot.NopObserver).
func WithObserver(obs bot.Observer) Option {
	return func(o *options) {
		if obs != nil {
			o.obs = obs
		}
	}
}

// WithHTTPClient sets the client for Bot API calls (the bot uses a copy
// whose transport notes each response's status, for retries). Its
// Timeout, if any, must exceed Config.PollTimeout, or long polls fail.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithListener makes webhook mode serve on l instead of listening on
// Config.ListenAddr (for tests, or a socket handed over by a supervisor).
// Run closes it when it stops.
func WithListener(l net.Listener) Option { return func(o *options) { o.listener = l } }

// New builds a bot from a valid configuration. It does no I/O: Run talks to
// Telegram.
func New(cfg Config, answerer bot.Answerer, opts ...Option) (*Bot, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if answerer == nil {
		return nil, errors.New("telegram: no answerer")
	}
	o := options{log: slog.Default(), sink: bot.DiscardFeedback{}, obs: bot.NopObserver{}}
	for _, opt := range opts {
		opt(&o)
	}
	if cfg.WebhookSecret == "" {
		secret, err := randomSecret()
		if err != nil {
			return nil, fmt.Errorf("telegram: webhook secret: %w", err)
		}
		cfg.WebhookSecret = secret
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	client := &http.Client{Timeout: cfg.PollTimeout + cfg.RequestTimeout}
	if o.client != nil {
		c := *o.client
		client = &c
	}
	next := client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	client.Transport = statusTransport{next: next}
	secretHalf := ""
	if _, after, ok := strings.Cut(cfg.Token, ":"); ok {
		secretHalf = after
	}
	redactor := bot.NewRedactor(cfg.Token, secretHalf, cfg.WebhookSecret)
	b := &Bot{
		cfg:      cfg,
		answerer: answerer,
		sink:     o.sink,
		obs:      o.obs,
		client:   client,
		log:      slog.New(redactor.Handler(o.log.Handler())).With("adapter", "telegram"),
		listener: o.listener,
		redactor: redactor,
		users:    bot.NewUserLimiter(cfg.UserEvery, cfg.UserBurst, cfg.MaxUsers),
		pacer:    newPacer(cfg),
		votes:    newRecentSet(10_000),
		updates:  newRecentSet(10_000),
		offsets:  newOffsets(),
		slots:    make(chan struct{}, cfg.MaxInFlight),
	}
	b.users.OnRefused(func() { b.obs.FloodDropped(adapterName) })
	// The library only makes the calls: long polling is the bot's own
	// (poll.go), and so is the webhook handler (webhook.go). Its command
	// matcher, which indexes the text with entity offsets unchecked and
	// panics on a malformed bot_command entity, is never used.
	libOpts := []tgbot.Option{
		tgbot.WithSkipGetMe(), // Run calls getMe, with its context
		tgbot.WithHTTPClient(cfg.PollTimeout+time.Second, client),
		// The library reports here only what it fails to clean up (closing
		// a response body), whatever the method: logged, not counted as a
		// failed call (poll.go and send.go count those).
		tgbot.WithErrorsHandler(func(err error) {
			b.log.Warn("bot API library", "err", b.redact(err))
		}),
	}
	if cfg.APIURL != "" {
		libOpts = append(libOpts, tgbot.WithServerURL(cfg.APIURL))
	}
	api, err := tgbot.New(cfg.Token, libOpts...)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", b.redact(err))
	}
	b.api = api
	return b, nil
}

var allowedUpdates = []string{"message", "callback_query"}

func randomSecret() (string, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(buf), nil
}

// Run connects to Telegram and answers until ctx is done: it learns the
// bot's name (getMe), registers the command menu in English and Chinese,
// then either deletes any webhook and long-polls, or registers the webhook
// and serves it. When ctx is done it stops taking updates, lets the answers
// in flight finish (within Config.ShutdownTimeout) and returns nil. It
// returns an error when it cannot start, or when Telegram rejects the token
// while polling. Run may be called once.
func (b *Bot) Run(ctx context.Context) error {
	b.mu.Lock()
	if b.started {
		b.mu.Unlock()
		return errors.New("telegram: Run called twice")
	}
	b.started = true
	b.mu.Unlock()
	defer func() {
		if b.listener != nil {
			b.listener.Close()
		}
	}()

	var me *identity
	err := b.call(ctx, "getMe", func(ctx context.Context) error {
		u, err := b.api.GetMe(ctx)
		if err == nil {
			me = &identity{id: u.ID, username: u.Username}
		}
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("telegram: %w", err)
	}
	b.me.Store(me)
	b.log.Info("connected", "bot", me.username, "mode", b.cfg.mode())
	b.registerCommands(ctx)

	if b.cfg.polling() {
		// Telegram refuses getUpdates (409 Conflict) while a webhook is set.
		err = b.call(ctx, "deleteWebhook", func(ctx context.Context) error {
			_, err := b.api.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{})
			return err
		})
	} else {
		err = b.call(ctx, "setWebhook", func(ctx context.Context) error {
			_, err := b.api.SetWebhook(ctx, &tgbot.SetWebhookParams{
				URL:            b.cfg.WebhookURL,
				SecretToken:    b.cfg.WebhookSecret,
				AllowedUpdates: allowedUpdates,
			})
			return err
		})
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("telegram: %w", err)
	}

	// Answers run in work: it outlives taking updates by at most
	// ShutdownTimeout, so answers in flight can finish.
	ctx, stopTaking := context.WithCancel(ctx)
	defer stopTaking()
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-ctx.Done():
		case <-finished:
			return
		}
		t := time.NewTimer(b.cfg.ShutdownTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			b.log.Warn("answers still in flight at the shutdown timeout: cancelling them")
			cancelWork()
		case <-finished:
		}
	}()
	b.mu.Lock()
	b.work, b.state = work, stateRunning
	b.mu.Unlock()
	b.obs.Connected(adapterName, true)
	defer b.obs.Connected(adapterName, false)

	if b.cfg.polling() {
		err = b.poll(ctx)
	} else {
		err = b.serveWebhook(ctx)
	}
	stopTaking() // also after a fatal error: the shutdown timeout applies
	b.drain()
	if b.cfg.polling() {
		b.confirm() // what was answered while draining
	}
	if err != nil {
		return err
	}
	b.log.Info("stopped")
	return nil
}

// serveWebhook listens for Telegram's webhook requests until ctx is done,
// unless the caller mounts Handler itself (no ListenAddr, no listener).
func (b *Bot) serveWebhook(ctx context.Context) error {
	ln := b.listener
	if ln == nil {
		if b.cfg.ListenAddr == "" {
			<-ctx.Done()
			return nil
		}
		var err error
		if ln, err = net.Listen("tcp", b.cfg.ListenAddr); err != nil {
			return fmt.Errorf("telegram: listen on %s: %w", b.cfg.ListenAddr, err)
		}
	}
	path := "/"
	if u, err := url.Parse(b.cfg.WebhookURL); err == nil && u.Path != "" {
		path = u.Path
	}
	mux := http.NewServeMux()
	mux.Handle(path, b.Handler())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(b.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	b.log.Info("serving webhook", "addr", ln.Addr().String(), "path", path)
	select {
	case err := <-errc:
		return fmt.Errorf("telegram: serve webhook: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), b.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		b.log.Warn("webhook server shutdown", "err", err)
	}
	return nil
}

// drain stops accepting updates and waits for the answers in flight (Run
// cancels them at the shutdown timeout).
func (b *Bot) drain() {
	b.mu.Lock()
	b.state = stateStopping
	b.mu.Unlock()
	b.inflight.Wait()
}

// registerCommands sets the command menu, in English by default and in
// Chinese for Chinese users. A failure is logged: the bot works without it.
func (b *Bot) registerCommands(ctx context.Context) {
	for _, v := range []struct {
		code string // Telegram takes ISO 639-1 codes here: "zh" for both scripts
		lang knowledge.Lang
	}{{"", knowledge.English}, {"zh", knowledge.SimplifiedChinese}} {
		cmds := []models.BotCommand{
			{Command: "ask", Description: bot.Text(bot.MsgCommandAsk, v.lang)},
			{Command: "help", Description: bot.Text(bot.MsgCommandHelp, v.lang)},
		}
		err := b.call(ctx, "setMyCommands", func(ctx context.Context) error {
			_, err := b.api.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{
				Commands: cmds, Scope: &models.BotCommandScopeDefault{}, LanguageCode: v.code,
			})
			return err
		})
		if err != nil {
			b.log.Warn("could not register the command menu", "lang", v.lang, "err", err)
		}
	}
}

// recentSet remembers the last n keys, to count each vote once.
type recentSet struct {
	mu   sync.Mutex
	keys map[string]bool
	ring []string
	next int
}

func newRecentSet(n int) *recentSet {
	return &recentSet{keys: make(map[string]bool, n), ring: make([]string, n)}
}

// add reports whether key is new, and remembers it.
func (s *recentSet) add(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys[key] {
		return false
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.keys, old)
	}
	s.ring[s.next] = key
	s.next = (s.next + 1) % len(s.ring)
	s.keys[key] = true
	return true
}

// forget drops key (its slot in the ring is reused in turn).
func (s *recentSet) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, key)
}
