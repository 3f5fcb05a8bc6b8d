package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"faqbot/bot"
	"faqbot/bot/discord"
	"faqbot/bot/qlog"
	"faqbot/bot/telegram"
	"faqbot/knowledge"
	"faqbot/search"
)

// run is runEnv for a getenv that cannot tell an empty variable from an
// unset one (a map in a test): an empty value counts as unset.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return runEnv(ctx, args, lookupFunc(getenv), stdout, stderr)
}

// runEnv is faqbot without the process: it reads the settings (lookupEnv
// is os.LookupEnv in main), handles the signals (SIGINT/SIGTERM stop, a
// second one exits at once with 130, SIGHUP reloads the guides) and
// returns the exit code: 0 after a clean stop (also one asked for during
// start-up), 1 when the bot failed, 2 for bad settings.
func runEnv(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "report" {
		// No signal is caught: a report only reads, and SIGINT's default,
		// ending the process at once, is what a user pressing Ctrl-C wants.
		return report(ctx, args[1:], lookupEnv, stdout, stderr)
	}
	cfg, fs, err := loadConfigEnv("faqbot", args, lookupEnv, stderr, nil)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected arguments %q (faqbot -h lists the settings)", strings.Join(fs.Args(), " "))
	}
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		// The setting's own value is shown (a secret's never is), unless it
		// holds a secret set elsewhere: a token pasted into the wrong line.
		fmt.Fprintln(stderr, "faqbot:", bot.NewRedactor(secretsIn(cfg, lookupEnv)...).String(err.Error()))
		return 2
	}
	log := newLogger(cfg, stderr)
	for _, o := range cfg.orphans {
		log.Warn("setting ignored: its adapter has no token", "setting", o)
	}
	defer routeStdLog(log)()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	finished := make(chan struct{})
	defer close(finished)
	// The first SIGINT or SIGTERM stops gracefully; a second one exits at
	// once.
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		select {
		case s := <-sig:
			log.Info("stopping", "signal", s.String())
			cancel()
		case <-finished:
			return
		}
		select {
		case s := <-sig:
			log.Warn("second signal: exiting at once", "signal", s.String())
			os.Exit(130)
		case <-finished:
		}
	}()
	// Caught from the start: SIGHUP's default action ends the process. One
	// arriving while faqbot starts reloads the guides once it runs; one
	// arriving while it stops is ignored.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	rt, err := New(ctx, cfg, log)
	if err != nil {
		if ctx.Err() != nil {
			log.Info("stopped during start-up", "err", err)
			return 0
		}
		log.Error("faqbot could not start", "err", err)
		return 1
	}
	reloaderDone := make(chan struct{})
	stopReloader := make(chan struct{})
	go func() {
		defer close(reloaderDone)
		for {
			select {
			case <-hup:
				rt.Reload() // logs its outcome; a failure keeps the old guides
			case <-stopReloader:
				return
			}
		}
	}()
	err = rt.Run(ctx)
	close(stopReloader)
	<-reloaderDone // a reload under way when the stop began gives up at its next step
	if err != nil {
		log.Error("faqbot stopped", "err", err)
		return 1
	}
	return 0
}

// newLogger is faqbot's logger, writing to w as cfg says, with every secret
// cfg holds hidden in every record.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	level, _ := parseLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(bot.NewRedactor(cfg.secrets()...).Handler(h))
}

// routeStdLog makes log the default logger, so that libraries writing to
// the standard log package (discordgo logs its gateway errors there) go
// through it too, at warn level: faqbot's format, secrets hidden. restore
// puts the previous default and the log package's settings back.
func routeStdLog(log *slog.Logger) (restore func()) {
	prev, out, flags := slog.Default(), stdlog.Writer(), stdlog.Flags()
	level := slog.SetLogLoggerLevel(slog.LevelWarn)
	slog.SetDefault(log)
	return func() {
		slog.SetDefault(prev)
		slog.SetLogLoggerLevel(level)
		stdlog.SetOutput(out)
		stdlog.SetFlags(flags)
	}
}

// adapter is a chat transport as the runtime runs it.
type adapter interface {
	Run(context.Context) error
}

// Runtime is a configured faqbot: the answer engine, the adapters, the
// question log and the ops listener. Build it with New, then call Run.
type Runtime struct {
	cfg  Config
	log  *slog.Logger
	m    *metrics
	live *liveEngine
	qlog *qlog.Log // nil when the question log is off

	// transport carries the adapters' REST calls; its idle connections
	// are closed when Run ends.
	transport *http.Transport
	adapters  map[string]adapter

	opsLn   net.Listener // nil: no ops listener
	ops     *http.Server
	running atomic.Bool // between the start of Run and the start of its stop
	started atomic.Bool
	// stopping is done from the start of Run's stop: reloads are refused
	// (or given up at their next step) from then on.
	stopping   context.Context
	endReloads context.CancelFunc
	reloadMu   sync.Mutex
}

// The bounds of a stop after the adapters' drain (ShutdownTimeout): an
// adapter stuck beyond it is given up adapterGrace later, the question log
// has logCloseTimeout to write what is buffered, the ops listener
// opsCloseTimeout to finish its requests. systemd's TimeoutStopSec must
// exceed ShutdownTimeout + stopOverhead.
const (
	adapterGrace    = 5 * time.Second
	logCloseTimeout = 3 * time.Second
	opsCloseTimeout = 2 * time.Second
	stopOverhead    = adapterGrace + logCloseTimeout + opsCloseTimeout
)

// maxIdlePerHost is how many idle connections the adapters keep to one
// host (Telegram's API, Discord's): a Telegram burst sends up to
// MaxInFlight replies at once, and with Go's default of 2 nearly every one
// would open (and then close) a TLS connection of its own.
const maxIdlePerHost = 64

// errStopping: a reload asked for while faqbot stops.
var errStopping = errors.New("faqbot is stopping: reload skipped")

// New loads the guides, builds the engine, opens the question log, binds
// the ops listener and builds the adapters; it connects to no chat
// service (Run does). ctx bounds the start-up. Every record the runtime,
// the question log and the adapters log to log has the secrets of cfg
// hidden (tokens, webhook secret, salt).
func New(ctx context.Context, cfg Config, log *slog.Logger) (rt *Runtime, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	log = slog.New(bot.NewRedactor(cfg.secrets()...).Handler(log.Handler()))
	r := &Runtime{cfg: cfg, log: log.With("component", "runtime"), m: newMetrics(), adapters: map[string]adapter{}}
	r.stopping, r.endReloads = context.WithCancel(context.Background())
	cleanup := []func(){r.endReloads}
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()

	start := time.Now()
	eng, err := r.buildEngine(ctx)
	if err != nil {
		return nil, err
	}
	r.live = newLiveEngine(eng)
	r.live.closeErr = func(err error) { r.log.Warn("closing the engine of the guides loaded before", "err", err) }
	cleanup = append(cleanup, func() { r.live.close() })
	r.loaded(eng)
	r.log.Info("engine ready", "guides", r.guidesName(), "entries", len(eng.Base().Entries()),
		"dictionary", eng.DictionarySource(), "took", time.Since(start).Round(time.Millisecond))

	if cfg.QuestionLog {
		r.qlog, err = qlog.Open(ctx, cfg.QLog, log.With("component", "qlog"))
		if err != nil {
			return nil, err
		}
		cleanup = append(cleanup, func() { r.qlog.Close() })
		r.m.observeQuestionLog(r.qlog)
		r.log.Info("question log open", "path", cfg.QLog.Path, "retention", formatDays(cfg.QLog.Retention))
	} else {
		r.log.Info("question log off")
		r.pruneLogOff(ctx)
	}

	if cfg.HTTPAddr != "" {
		r.opsLn, err = net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return nil, fmt.Errorf("ops listener (FAQBOT_HTTP_ADDR): %w", err)
		}
		cleanup = append(cleanup, func() { r.opsLn.Close() })
		r.ops = r.opsServer(log.With("component", "ops"))
	}

	r.transport = http.DefaultTransport.(*http.Transport).Clone()
	r.transport.MaxIdleConnsPerHost = maxIdlePerHost
	var sink bot.FeedbackSink = bot.DiscardFeedback{}
	if r.qlog != nil {
		sink = r.qlog
	}
	sink = feedbackSink{m: r.m, next: sink}
	obs := observer{r.m}
	if cfg.Telegram != nil {
		tc := *cfg.Telegram
		tc.ShutdownTimeout = cfg.ShutdownTimeout
		client := &http.Client{Transport: r.transport, Timeout: tc.PollTimeout + tc.RequestTimeout}
		tb, err := telegram.New(tc, r.answerer("telegram"), telegram.WithLogger(log), telegram.WithFeedbackSink(sink),
			telegram.WithObserver(obs), telegram.WithHTTPClient(client))
		if err != nil {
			return nil, err
		}
		r.adapters["telegram"] = tb
		r.m.expect("telegram")
	}
	if cfg.Discord != nil {
		dcfg := *cfg.Discord
		dcfg.ShutdownTimeout = cfg.ShutdownTimeout
		db, err := discord.New(dcfg, r.answerer("discord"), discord.WithLogger(log), discord.WithFeedbackSink(sink),
			discord.WithObserver(obs), discord.WithHTTPClient(&http.Client{Transport: r.transport}))
		if err != nil {
			return nil, err
		}
		r.adapters["discord"] = db
		r.m.expect("discord")
	}
	return r, nil
}

// pruneLogOff keeps the retention promise for a log that was kept before
// and is off now: the rows past the retention are deleted from it at
// start (nothing is written to it after, so once is enough until the next
// start). A failure is logged, naming the file, and does not stop faqbot.
func (r *Runtime) pruneLogOff(ctx context.Context) {
	path := r.cfg.QLog.Path
	if _, err := os.Stat(path); err != nil {
		return
	}
	cfg := r.cfg.QLog
	cfg.Salt = "" // pruning needs none
	n, err := qlog.Prune(ctx, cfg, time.Now())
	if err != nil {
		r.log.Warn("question log off, but the log left from before could not be pruned: its rows stay past the retention until it is, or deleted",
			"path", path, "err", err)
		return
	}
	r.log.Info("question log off: rows past the retention deleted from the log left from before", "path", path, "rows", n,
		"retention", formatDays(cfg.Retention))
}

func (r *Runtime) answerer(adapter string) bot.Answerer {
	return observedAnswerer{adapter: adapter, eng: r.live, m: r.m, log: r.qlog}
}

func (r *Runtime) guidesName() string {
	if r.cfg.Guides == "" {
		return "shipped"
	}
	return r.cfg.Guides
}

// buildEngine loads the guides and builds an engine over them; it gives up
// before each step once ctx is done.
func (r *Runtime) buildEngine(ctx context.Context) (*search.Engine, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var base *knowledge.Base
	var err error
	if r.cfg.Guides == "" {
		base, err = knowledge.Shipped()
	} else {
		base, err = knowledge.LoadDir(r.cfg.Guides)
	}
	if err != nil {
		return nil, fmt.Errorf("load guides: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ecfg := search.DefaultConfig()
	ecfg.CacheDir = r.cfg.CacheDir
	eng, err := search.New(base, ecfg)
	if err != nil {
		return nil, fmt.Errorf("build the engine: %w", err)
	}
	return eng, nil
}

func (r *Runtime) loaded(eng *search.Engine) {
	r.m.entries.Set(float64(len(eng.Base().Entries())))
	r.m.loadedAt.SetToCurrentTime()
}

// Reload loads the guides again and swaps the engine built from them in
// for the one serving. Questions in flight finish on the engine they
// started on. When the guides are invalid it logs every problem (file:line)
// and returns the error, and the previous guides keep serving. Once Run
// has begun to stop, it builds nothing and returns errStopping.
func (r *Runtime) Reload() error {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	log := r.log.With("guides", r.guidesName())
	if r.stopping.Err() != nil {
		log.Warn("reload skipped: faqbot is stopping")
		return errStopping
	}
	start := time.Now()
	eng, err := r.buildEngine(r.stopping)
	if err == nil {
		err = r.live.swap(eng)
	}
	if errors.Is(err, errEngineClosed) || r.stopping.Err() != nil && errors.Is(err, context.Canceled) {
		log.Warn("reload given up: faqbot is stopping")
		return errStopping
	}
	if err != nil {
		r.m.reloads.WithLabelValues("failed").Inc()
		problems := guideProblems(err)
		for _, p := range problems {
			log.Error("guide problem", "at", p.Pos.String(), "problem", p.Msg)
		}
		if len(problems) > 0 {
			log.Error("reload failed: the guides loaded before keep serving", "problems", len(problems))
		} else {
			log.Error("reload failed: the guides loaded before keep serving", "err", err)
		}
		return err
	}
	r.loaded(eng)
	r.m.reloads.WithLabelValues("ok").Inc()
	log.Info("guides reloaded", "entries", len(eng.Base().Entries()), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// guideProblems lists the file:line problems in a guide loading error.
func guideProblems(err error) []*knowledge.Error {
	var out []*knowledge.Error
	var walk func(error)
	walk = func(err error) {
		if ke, ok := err.(*knowledge.Error); ok {
			out = append(out, ke)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			if e := u.Unwrap(); e != nil {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

// Run serves the ops listener and runs the adapters until ctx is done or
// one of them fails. Then it stops taking questions and reloads, lets the
// answers in flight finish (the adapters bound this by ShutdownTimeout),
// writes the question log out, closes the engine and the ops listener, and
// returns: nil after a stop, the adapters' errors after a failure. The
// stop takes at most ShutdownTimeout + stopOverhead. Run may be called
// once.
func (r *Runtime) Run(ctx context.Context) error {
	if !r.started.CompareAndSwap(false, true) {
		return errors.New("faqbot: Run called twice")
	}
	var (
		errMu sync.Mutex
		errs  []error
	)
	fail := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		errs = append(errs, err)
	}
	opsDone := make(chan error, 1)
	if r.ops != nil {
		go func() { opsDone <- r.ops.Serve(r.opsLn) }()
		r.log.Info("ops listener", "addr", r.opsLn.Addr().String())
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for name, a := range r.adapters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := a.Run(actx)
			if err != nil && actx.Err() == nil {
				r.log.Error("adapter failed; stopping the others", "adapter", name, "err", err)
				fail(err) // the adapters name themselves in their errors
				cancel()  // one adapter down takes the others down: let the supervisor restart us
			}
		}()
	}
	adaptersDone := make(chan struct{})
	go func() { wg.Wait(); close(adaptersDone) }()
	r.running.Store(true)

	select {
	case <-actx.Done():
	case err := <-opsDone:
		r.log.Error("ops listener failed; stopping", "err", err)
		fail(fmt.Errorf("ops listener: %w", err))
		cancel()
	}
	r.running.Store(false)
	r.endReloads()
	r.log.Info("stopping: finishing the answers in flight", "timeout", r.cfg.ShutdownTimeout)
	// The adapters bound their own drain by ShutdownTimeout; this bounds a
	// stuck one.
	grace := time.NewTimer(r.cfg.ShutdownTimeout + adapterGrace)
	defer grace.Stop()
	select {
	case <-adaptersDone:
	case <-grace.C:
		r.log.Error("adapters did not stop in time; exiting without them")
		fail(errors.New("adapters did not stop within the shutdown timeout"))
	}

	if r.qlog != nil {
		lctx, lcancel := context.WithTimeout(context.Background(), logCloseTimeout)
		if err := r.qlog.Shutdown(lctx); err != nil {
			r.log.Error("closing the question log", "err", err)
		}
		lcancel()
		st := r.qlog.Stats()
		r.log.Info("question log closed", "questions", st.Questions, "feedback", st.Feedback, "dropped", st.Dropped,
			"unwritten", st.Unwritten, "failed", st.Failed)
	}
	r.live.close()
	if r.ops != nil {
		sctx, scancel := context.WithTimeout(context.Background(), opsCloseTimeout)
		if err := r.ops.Shutdown(sctx); err != nil {
			r.log.Warn("ops listener shutdown", "err", err)
			r.ops.Close()
		}
		scancel()
		if err := <-opsDone; err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.log.Warn("ops listener", "err", err)
		}
	}
	r.transport.CloseIdleConnections()
	errMu.Lock()
	defer errMu.Unlock()
	if len(errs) == 0 {
		r.log.Info("stopped")
	}
	return errors.Join(errs...)
}
