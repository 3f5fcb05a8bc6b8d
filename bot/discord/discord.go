// Package discord is faqbot's Discord transport, built on
// github.com/bwmarrin/discordgo over the shared answer engine (bot.Answerer).
//
// It answers the /ask slash command, mentions, direct messages and, when
// configured, every message in support channels. Answers are embeds with the
// entry's title and numbered steps, with 👍/👎 feedback buttons; a
// clarification offers up to three buttons. No message it sends can ping
// anyone. See README.md in this folder for setting the bot up on Discord.
package discord

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"faqbot/bot"
)

// adapterName is how feedback and logs name this transport.
const adapterName = "discord"

// The gateway intents the bot asks for. Message Content is privileged: it
// is requested only when support channels are configured.
const (
	baseIntents    = discordgo.IntentGuilds | discordgo.IntentGuildMessages | discordgo.IntentDirectMessages
	contentIntents = baseIntents | discordgo.IntentMessageContent
)

// Gateway close codes after which reconnecting cannot help.
const (
	closeAuthenticationFailed = 4004
	closeInvalidShard         = 4010
	closeShardingRequired     = 4011
	closeInvalidAPIVersion    = 4012
	closeInvalidIntents       = 4013
	closeDisallowedIntents    = 4014
)

// Bot is the Discord adapter. Build it with New and start it with Run.
type Bot struct {
	cfg      Config
	answerer bot.Answerer
	log      *slog.Logger
	redactor *bot.Redactor // the token, out of logs and errors
	sink     bot.FeedbackSink
	obs      bot.Observer
	limiter  *bot.UserLimiter
	channels map[string]bool
	session  *discordgo.Session

	httpClient *http.Client
	gatewayURL string

	started  atomic.Bool
	stopMu   sync.Mutex // orders spawn's Add before Run's Wait
	stopping atomic.Bool
	selfID   atomic.Pointer[string]
	appID    atomic.Pointer[string]

	// workCtx is the context of answers in flight: it outlives Run's
	// context by up to ShutdownTimeout, so they can finish.
	workCtx  context.Context
	inflight sync.WaitGroup
	slots    chan struct{} // MaxConcurrent answers at once
	stop     chan struct{} // closed when Run stops taking questions

	disconnected chan struct{} // the gateway connection was lost

	openMu  sync.Mutex
	opening net.Conn // the gateway connection being opened, until Connect
}

// Option adjusts a Bot.
type Option func(*Bot)

// WithLogger sets the logger (default: discard). The bot adds
// "adapter"="discord" to it, and hides the token in every record it logs.
func WithLogger(l *slog.Logger) Option {
	return func(b *Bot) {
		if l != nil {
			b.log = l
		}
	}
}

// WithFeedbackSink sets where 👍/👎 feedback goes (default: discarded).
func WithFeedbackSink(s bot.FeedbackSink) Option {
	return func(b *Bot) {
		if s != nil {
			b.sink = s
		}
	}
}

// WithObserver sets who is told about flood drops, failed requests and the
// gateway connection (default: bot.NopObserver).
func WithObserver(o bot.Observer) Option {
	return func(b *Bot) {
		if o != nil {
			b.obs = o
		}
	}
}

// WithHTTPClient sets the HTTP client for Discord's REST API. The bot uses
// a copy whose transport sends requests to Config.APIURL and whose timeout
// is Config.RequestTimeout.
func WithHTTPClient(c *http.Client) Option {
	return func(b *Bot) {
		if c != nil {
			b.httpClient = c
		}
	}
}

// WithGatewayURL connects to the gateway at url (ws:// or wss://) instead
// of the one Discord's REST API names: for tests and gateway proxies.
func WithGatewayURL(url string) Option {
	return func(b *Bot) { b.gatewayURL = url }
}

// New returns a bot answering from answerer. It validates cfg and makes no
// connection: Run does.
func New(cfg Config, answerer bot.Answerer, opts ...Option) (*Bot, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if answerer == nil {
		return nil, errors.New("discord: no answerer")
	}
	b := &Bot{
		cfg:          cfg,
		answerer:     answerer,
		log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		sink:         bot.DiscardFeedback{},
		obs:          bot.NopObserver{},
		limiter:      bot.NewUserLimiter(cfg.UserEvery, cfg.UserBurst, cfg.MaxUsers),
		channels:     map[string]bool{},
		httpClient:   &http.Client{},
		slots:        make(chan struct{}, cfg.MaxConcurrent),
		stop:         make(chan struct{}),
		disconnected: make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(b)
	}
	// Every record is redacted: a token echoed in a response body, an
	// error or a panic value never reaches the log.
	b.redactor = bot.NewRedactor(trimBotPrefix(cfg.Token))
	b.log = slog.New(b.redactor.Handler(b.log.Handler())).With("adapter", adapterName)
	b.limiter.OnRefused(func() { b.obs.FloodDropped(adapterName) })
	for _, id := range cfg.ChannelIDs {
		b.channels[id] = true
	}
	base, err := parseAPIURL(cfg.APIURL)
	if err != nil {
		return nil, err
	}
	next := b.httpClient.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	client := *b.httpClient
	client.Transport = &apiTransport{next: next, base: base, gatewayURL: b.gatewayURL, maxWait: cfg.MaxRetryWait}
	client.Timeout = cfg.RequestTimeout

	s, err := discordgo.New("Bot " + trimBotPrefix(cfg.Token))
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	s.Client = &client
	// Retries are bounded by Bot.call; discordgo's own are unbounded.
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 0
	// Reconnection is supervised by Run (see supervise).
	s.ShouldReconnectOnError = false
	s.ShouldReconnectVoiceOnSessionError = false
	// Debug mode logs every request's headers, the token among them.
	s.Debug = false
	s.LogLevel = discordgo.LogError
	s.StateEnabled = false
	// Handlers run on the gateway's reading goroutine, in order; each hands
	// its slow work to a goroutine Run keeps track of.
	s.SyncEvents = true
	s.Identify.Intents = baseIntents
	if len(cfg.ChannelIDs) > 0 {
		s.Identify.Intents = contentIntents
	}
	s.Dialer = &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: cfg.OpenTimeout,
		NetDialContext:   b.dialGateway,
	}
	s.AddHandler(b.onReady)
	s.AddHandler(b.onConnect)
	s.AddHandler(b.onDisconnect)
	s.AddHandler(b.onMessageCreate)
	s.AddHandler(b.onInteractionCreate)
	b.session = s
	return b, nil
}

func trimBotPrefix(token string) string {
	if len(token) > 4 && token[:4] == "Bot " {
		return token[4:]
	}
	return token
}

// Run connects to Discord, registers the slash commands and answers until
// ctx is done; then it stops taking questions, lets the answers in flight
// finish (up to ShutdownTimeout), closes the connection and returns nil.
// It returns an error when it cannot connect at the start, or when Discord
// closes the gateway for good (a bad token, refused intents).
func (b *Bot) Run(ctx context.Context) error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("discord: Run called twice")
	}
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	b.workCtx = workCtx

	if ctx.Err() != nil {
		return nil
	}
	if err := b.open(); err != nil {
		return &gatewayError{op: "connect to the gateway", err: err, redactor: b.redactor}
	}
	b.obs.Connected(adapterName, true)
	defer b.obs.Connected(adapterName, false)
	b.registerCommands(ctx)
	if p := b.appID.Load(); p != nil {
		b.log.Info("add the bot to a server with this link", "invite_url", InviteURL(*p))
	}

	superviseCtx, stopSupervising := context.WithCancel(ctx)
	fatal := make(chan error, 1)
	supervised := make(chan struct{})
	go func() {
		defer close(supervised)
		if err := b.supervise(superviseCtx); err != nil {
			fatal <- err
		}
	}()

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-fatal:
	}
	b.stopMu.Lock()
	b.stopping.Store(true)
	close(b.stop)
	b.stopMu.Unlock()
	stopSupervising()
	<-supervised

	done := make(chan struct{})
	go func() { b.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(b.cfg.ShutdownTimeout):
		b.log.Warn("answers still in flight at shutdown; abandoning them", "timeout", b.cfg.ShutdownTimeout)
		cancelWork()
		<-done
	}
	if err := b.session.Close(); err != nil {
		b.log.Warn("closing the gateway connection", "error", err)
	}
	b.log.Info("stopped")
	return runErr
}

// open connects the session to the gateway. When Discord refuses the
// Message Content intent (close code 4014: it is privileged and not enabled
// for this application), it says how to enable it and connects without:
// slash commands, mentions and direct messages still work.
func (b *Bot) open() error {
	err := b.openOnce()
	if closeCode(err) == closeDisallowedIntents && b.session.Identify.Intents&discordgo.IntentMessageContent != 0 {
		b.log.Error("Discord refused the Message Content intent (gateway close code 4014), so messages in the support channels cannot be read. " +
			"To answer them, enable \"Message Content Intent\" in the Developer Portal (your application → Bot → Privileged Gateway Intents) and restart. " +
			"Carrying on with slash commands, mentions and direct messages.")
		b.session.Identify.Intents &^= discordgo.IntentMessageContent
		err = b.openOnce()
	}
	return err
}

// openOnce runs Session.Open, bounded by OpenTimeout: Open waits for HELLO
// and READY without a deadline of its own.
func (b *Bot) openOnce() error {
	timer := time.AfterFunc(b.cfg.OpenTimeout, b.abortOpening)
	defer timer.Stop()
	err := b.session.Open()
	b.openMu.Lock()
	b.opening = nil
	b.openMu.Unlock()
	return err
}

// dialGateway dials the gateway, remembering the connection until it is
// open so that abortOpening can break a stalled opening.
func (b *Bot) dialGateway(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	b.openMu.Lock()
	b.opening = c
	b.openMu.Unlock()
	return c, nil
}

func (b *Bot) abortOpening() {
	b.openMu.Lock()
	defer b.openMu.Unlock()
	if b.opening != nil {
		b.log.Warn("gateway did not say READY in time; dropping the connection", "timeout", b.cfg.OpenTimeout)
		b.opening.Close()
		b.opening = nil
	}
}

// supervise reconnects whenever the gateway connection is lost, with a
// growing pause between attempts, until ctx is done. discordgo's own
// reconnection loop is off: it cannot be stopped, retries a refused intent
// for ever, and keeps no context. Open resumes the session when it can
// (op 6 RESUME), so events missed meanwhile are replayed.
func (b *Bot) supervise(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-b.disconnected:
		}
		delay := b.cfg.ReconnectDelay
		for attempt := 1; ; attempt++ {
			if ctx.Err() != nil {
				return nil
			}
			err := b.open()
			if err == nil || errors.Is(err, discordgo.ErrWSAlreadyOpen) {
				if err == nil {
					b.log.Info("reconnected to the gateway", "attempts", attempt)
				}
				b.obs.Connected(adapterName, true)
				break
			}
			if isFatalClose(err) {
				return &gatewayError{op: "reconnect to the gateway", err: err, redactor: b.redactor}
			}
			b.log.Warn("reconnecting to the gateway failed", "attempt", attempt, "retry_in", delay, "error", describeGatewayError(err))
			if !sleep(ctx, delay) {
				return nil
			}
			delay = min(delay*2, b.cfg.MaxReconnectDelay)
		}
	}
}

// closeCode returns the gateway close code in err, or 0.
func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

func isFatalClose(err error) bool {
	switch closeCode(err) {
	case closeAuthenticationFailed, closeInvalidShard, closeShardingRequired, closeInvalidAPIVersion, closeInvalidIntents, closeDisallowedIntents:
		return true
	}
	return false
}

// gatewayError is a failure to connect. Its message explains the close
// codes that need the operator, and leaves out URLs.
type gatewayError struct {
	op       string
	err      error
	redactor *bot.Redactor
}

func (e *gatewayError) Error() string {
	return e.redactor.String("discord: " + e.op + ": " + describeGatewayError(e.err))
}

func (e *gatewayError) Unwrap() error { return e.err }

// describeGatewayError explains a failure to connect, without URLs.
func describeGatewayError(err error) string {
	switch closeCode(err) {
	case closeAuthenticationFailed:
		return "Discord rejected the token (close code 4004): check " + EnvToken
	case closeDisallowedIntents:
		return "Discord refused a privileged intent (close code 4014): enable it in the Developer Portal (Bot → Privileged Gateway Intents)"
	}
	if statusOf(err) == http.StatusUnauthorized {
		return "Discord rejected the token (HTTP 401): check " + EnvToken
	}
	return safeMessage(err)
}

func (b *Bot) onReady(_ *discordgo.Session, r *discordgo.Ready) {
	if r.User == nil {
		return
	}
	self := r.User.ID
	b.selfID.Store(&self)
	app := self // a bot's application id is its user id, unless READY says
	if r.Application != nil && r.Application.ID != "" {
		app = r.Application.ID
	}
	b.appID.Store(&app)
	b.log.Info("connected to the gateway", "user", r.User.Username, "user_id", self, "guilds", len(r.Guilds),
		"message_content", b.session.Identify.Intents&discordgo.IntentMessageContent != 0)
}

func (b *Bot) onConnect(*discordgo.Session, *discordgo.Connect) {
	b.openMu.Lock()
	b.opening = nil // open: abortOpening must leave it alone
	b.openMu.Unlock()
}

func (b *Bot) onDisconnect(*discordgo.Session, *discordgo.Disconnect) {
	if b.stopping.Load() {
		return
	}
	b.log.Warn("gateway connection lost")
	b.obs.Connected(adapterName, false)
	b.obs.AdapterError(adapterName, "gateway")
	select {
	case b.disconnected <- struct{}{}:
	default:
	}
}

func (b *Bot) self() string {
	if p := b.selfID.Load(); p != nil {
		return *p
	}
	return ""
}

// spawn runs work on its own goroutine, tracked for shutdown, at most
// MaxConcurrent at once, with AnswerTimeout and panics recovered. It
// reports false when the bot is stopping.
func (b *Bot) spawn(what string, work func(ctx context.Context)) bool {
	select {
	case b.slots <- struct{}{}:
	case <-b.stop:
		return false
	}
	// Under stopMu, so that no work is added once Run waits for it.
	b.stopMu.Lock()
	if b.stopping.Load() {
		b.stopMu.Unlock()
		<-b.slots
		return false
	}
	b.inflight.Add(1)
	b.stopMu.Unlock()
	go func() {
		defer b.inflight.Done()
		defer func() { <-b.slots }()
		defer b.recoverPanic(what)
		ctx, cancel := context.WithTimeout(b.workCtx, b.cfg.AnswerTimeout)
		defer cancel()
		work(ctx)
	}()
	return true
}

// recoverPanic logs a panic instead of letting it end the process.
func (b *Bot) recoverPanic(what string) {
	if r := recover(); r != nil {
		b.log.Error("panic in handler", "handler", what, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	}
}
