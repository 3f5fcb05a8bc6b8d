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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
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
	redactor *strings.Replacer

	users   *bot.UserLimiter
	pacer   *pacer
	votes   *recentSet // feedback counted once per user and message
	updates *recentSet // update ids taken, against deliveries twice

	slots    chan struct{} // one per answer in flight
	inflight sync.WaitGroup

	me        atomic.Pointer[identity]
	lastTaken atomic.Int64 // the last update taken from the long poll

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
// adapter=telegram.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithFeedbackSink sets where 👍/👎 go (default: bot.DiscardFeedback).
func WithFeedbackSink(s bot.FeedbackSink) Option { return func(o *options) { o.sink = s } }

// WithObserver sets who is told about flood drops, failed Bot API calls
// and the connection (default: bot.NopObserver).
func WithObserver(obs bot.Observer) Option { return func(o *options) { o.obs = obs } }

// WithHTTPClient sets the client for Bot API calls. Its Timeout, if any,
// must exceed Config.PollTimeout, or long polls fail.
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
	if o.client == nil {
		o.client = &http.Client{Timeout: cfg.PollTimeout + cfg.RequestTimeout}
	}
	secretHalf := ""
	if _, after, ok := strings.Cut(cfg.Token, ":"); ok {
		secretHalf = after
	}
	b := &Bot{
		cfg:      cfg,
		answerer: answerer,
		sink:     o.sink,
		obs:      o.obs,
		client:   o.client,
		log:      o.log.With("adapter", "telegram"),
		listener: o.listener,
		redactor: newRedactor(cfg.Token, secretHalf, cfg.WebhookSecret),
		users:    bot.NewUserLimiter(cfg.UserEvery, cfg.UserBurst, cfg.MaxUsers),
		pacer:    newPacer(cfg),
		votes:    newRecentSet(10_000),
		updates:  newRecentSet(10_000),
		slots:    make(chan struct{}, cfg.MaxInFlight),
	}
	b.users.OnRefused(func() { b.obs.FloodDropped(adapterName) })
	libOpts := []tgbot.Option{
		tgbot.WithSkipGetMe(), // Run calls getMe, with its context
		// The library's poll timeout is one second longer than the wait it
		// asks Telegram for.
		tgbot.WithHTTPClient(cfg.PollTimeout+time.Second, o.client),
		// Only a default handler: the library's command matcher indexes the
		// text with entity offsets unchecked and panics on a malformed
		// bot_command entity, so no handler is registered with it.
		tgbot.WithDefaultHandler(b.onUpdate),
		tgbot.WithErrorsHandler(func(err error) {
			b.log.Warn("bot API library", "err", b.redact(err))
			if !errors.Is(err, context.Canceled) {
				b.obs.AdapterError(adapterName, "getUpdates")
			}
		}),
		// Workers hand updates over quickly; answers run in their own
		// goroutines, bounded by MaxInFlight (see dispatch).
		tgbot.WithNotAsyncHandlers(),
		tgbot.WithWorkers(cfg.Workers),
		// No queue between polling and the workers: an update the
		// library fetched is either taken by a worker or, at shutdown,
		// left unconfirmed for Telegram to deliver again (see onUpdate).
		tgbot.WithUpdatesChannelCap(0),
		tgbot.WithAllowedUpdates(allowedUpdates),
		tgbot.WithWebhookSecretToken(cfg.WebhookSecret),
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
// returns an error when it cannot start. Run may be called once.
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

	// Answers run in work: it outlives ctx by at most ShutdownTimeout, so
	// answers in flight can finish.
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
		b.api.Start(ctx) // returns when ctx is done and its workers have stopped
		b.confirmUpdates()
	} else {
		err = b.serveWebhook(ctx)
	}
	b.drain()
	if err != nil {
		return err
	}
	b.log.Info("stopped")
	return nil
}

// confirmUpdates tells Telegram, once polling has stopped, that every update
// taken is handled. The library confirms a batch only with its next
// getUpdates, which a stop cancels, so Telegram would deliver the updates
// of the last batch again after a restart. The library has no call for it:
// this is one getUpdates by hand, with limit 1 and no wait (an update it
// returns stays unconfirmed, and comes again after the restart).
func (b *Bot) confirmUpdates() {
	last := b.lastTaken.Load()
	if last == 0 {
		return
	}
	base := b.cfg.APIURL
	if base == "" {
		base = "https://api.telegram.org"
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.RequestTimeout)
	defer cancel()
	form := url.Values{"offset": {strconv.FormatInt(last+1, 10)}, "limit": {"1"}, "timeout": {"0"}}
	err := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/bot"+b.cfg.Token+"/getUpdates", strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := b.client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var r struct {
			OK          bool   `json:"ok"`
			Description string `json:"description"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxUpdateBytes)).Decode(&r); err != nil {
			return fmt.Errorf("status %s: %w", resp.Status, err)
		}
		if !r.OK {
			return fmt.Errorf("status %s: %s", resp.Status, r.Description)
		}
		return nil
	}()
	if err != nil {
		b.log.Warn("could not confirm the last updates: Telegram may deliver them again", "last", last, "err", b.redact(err))
	}
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
