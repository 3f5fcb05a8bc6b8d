package telegram

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"time"
)

// The environment variables ConfigFromEnv reads.
const (
	EnvToken         = "TELEGRAM_BOT_TOKEN"      // required
	EnvAPIURL        = "TELEGRAM_API_URL"        // a self-hosted Bot API server
	EnvWebhookURL    = "TELEGRAM_WEBHOOK_URL"    // set: webhook mode; unset: long polling
	EnvListenAddr    = "TELEGRAM_LISTEN_ADDR"    // where webhook mode listens
	EnvWebhookSecret = "TELEGRAM_WEBHOOK_SECRET" // optional; random when unset
)

// Config configures a Bot. Start from DefaultConfig.
type Config struct {
	// Token is the bot token from BotFather. It never appears in logs or
	// errors.
	Token string
	// APIURL is the base URL of the Bot API server; empty means Telegram's
	// own (https://api.telegram.org).
	APIURL string

	// WebhookURL, when set, switches from long polling to webhook mode: Run
	// registers this public HTTPS URL with Telegram and serves updates on
	// ListenAddr at the URL's path.
	WebhookURL string
	// ListenAddr is where webhook mode listens ("host:port"). Empty means
	// Run does not listen: the caller mounts Handler on its own server.
	ListenAddr string
	// WebhookSecret is the secret Telegram sends with every webhook update
	// (1–256 characters of A–Z, a–z, 0–9, _ and -). New generates a random
	// one when it is empty.
	WebhookSecret string

	// PollTimeout is how long one getUpdates call waits for updates.
	PollTimeout time.Duration
	// RequestTimeout bounds every other Bot API call.
	RequestTimeout time.Duration
	// MaxInFlight bounds the questions being answered at once (further
	// updates wait, so Telegram keeps them until there is room).
	MaxInFlight int

	// Per-user flood control: UserBurst questions at once, then one every
	// UserEvery; the excess is dropped with one notice per flood. MaxUsers
	// bounds the users remembered.
	UserEvery time.Duration
	UserBurst int
	MaxUsers  int

	// Outgoing pacing, per chat: one message every ChatEvery in a private
	// chat (bursts of ChatBurst), one every GroupEvery in a group (bursts of
	// GroupBurst), and GlobalPerSecond over all chats. A reply that would
	// wait longer than MaxSendDelay is dropped: by then it is stale, and the
	// chat is flooding. MaxChats bounds the chats remembered.
	ChatEvery       time.Duration
	ChatBurst       int
	GroupEvery      time.Duration
	GroupBurst      int
	GlobalPerSecond float64
	MaxSendDelay    time.Duration
	MaxChats        int

	// MaxRetries is how often a Bot API call is tried again after a 429
	// Too Many Requests (after the retry_after Telegram asks for; one
	// longer than MaxRetryAfter is not waited for), a 5xx, a timeout or a
	// network error (after a pause doubling up to MaxBackoff). No retry
	// starts later than RetryFor after the first attempt: an answer held
	// up by an outage goes out when Telegram is back, if that is within
	// RetryFor. A failing getUpdates is retried for as long as it fails,
	// with the same pauses.
	MaxRetries    int
	MaxRetryAfter time.Duration
	MaxBackoff    time.Duration
	RetryFor      time.Duration

	// ShutdownTimeout bounds how long Run waits for answers in flight once
	// its context is done.
	ShutdownTimeout time.Duration
}

// DefaultConfig returns the settings the bot runs with in production, with
// no token: within Telegram's limits (about one message a second per chat,
// 20 a minute per group, 30 a second overall), and five questions per ten
// seconds per user.
func DefaultConfig() Config {
	return Config{
		ListenAddr:      ":8443",
		PollTimeout:     50 * time.Second,
		RequestTimeout:  30 * time.Second,
		MaxInFlight:     256,
		UserEvery:       2 * time.Second,
		UserBurst:       5,
		MaxUsers:        100_000,
		ChatEvery:       time.Second,
		ChatBurst:       1,
		GroupEvery:      3 * time.Second,
		GroupBurst:      1,
		GlobalPerSecond: 30,
		MaxSendDelay:    time.Minute,
		MaxChats:        100_000,
		MaxRetries:      20,
		MaxRetryAfter:   time.Minute,
		MaxBackoff:      5 * time.Second,
		RetryFor:        2 * time.Minute,
		ShutdownTimeout: 10 * time.Second,
	}
}

// ConfigFromEnv returns DefaultConfig with the TELEGRAM_* variables that
// getenv (os.Getenv) reports set.
func ConfigFromEnv(getenv func(string) string) Config {
	c := DefaultConfig()
	c.Token = getenv(EnvToken)
	c.APIURL = getenv(EnvAPIURL)
	c.WebhookURL = getenv(EnvWebhookURL)
	if v := getenv(EnvListenAddr); v != "" {
		c.ListenAddr = v
	}
	c.WebhookSecret = getenv(EnvWebhookSecret)
	return c
}

var (
	tokenPattern  = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	secretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

// Validate reports every setting that is wrong, naming the field and the
// value (except the token's and the secret's).
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("telegram: "+format, args...)) }
	switch {
	case c.Token == "":
		bad("Token is empty: set %s to the token BotFather gave you", EnvToken)
	case !tokenPattern.MatchString(c.Token):
		bad("Token is not a bot token (want <bot id>:<secret>, as BotFather gives it; the value is not shown)")
	}
	if c.APIURL != "" && !httpURL(c.APIURL) {
		bad("APIURL %q is not an http(s) URL", c.APIURL)
	}
	if c.WebhookURL != "" {
		if !httpURL(c.WebhookURL) {
			bad("WebhookURL %q is not an http(s) URL", c.WebhookURL)
		}
		if c.ListenAddr != "" {
			if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
				bad("ListenAddr %q is not host:port: %v", c.ListenAddr, err)
			}
		}
	}
	if c.WebhookSecret != "" && !secretPattern.MatchString(c.WebhookSecret) {
		bad("WebhookSecret must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - (the value is not shown)")
	}
	positive := []struct {
		name string
		v    time.Duration
		min  time.Duration
	}{
		{"PollTimeout", c.PollTimeout, time.Second},
		{"RequestTimeout", c.RequestTimeout, time.Millisecond},
		{"UserEvery", c.UserEvery, time.Nanosecond},
		{"ChatEvery", c.ChatEvery, time.Nanosecond},
		{"GroupEvery", c.GroupEvery, time.Nanosecond},
		{"MaxSendDelay", c.MaxSendDelay, 0},
		{"MaxRetryAfter", c.MaxRetryAfter, 0},
		{"MaxBackoff", c.MaxBackoff, time.Millisecond},
		{"RetryFor", c.RetryFor, 0},
		{"ShutdownTimeout", c.ShutdownTimeout, 0},
	}
	for _, p := range positive {
		if p.v < p.min {
			bad("%s %v is below %v", p.name, p.v, p.min)
		}
	}
	counts := []struct {
		name string
		v    int
		min  int
	}{
		{"MaxInFlight", c.MaxInFlight, 1},
		{"UserBurst", c.UserBurst, 1},
		{"MaxUsers", c.MaxUsers, 1},
		{"ChatBurst", c.ChatBurst, 1},
		{"GroupBurst", c.GroupBurst, 1},
		{"MaxChats", c.MaxChats, 1},
		{"MaxRetries", c.MaxRetries, 0},
	}
	for _, n := range counts {
		if n.v < n.min {
			bad("%s %d is below %d", n.name, n.v, n.min)
		}
	}
	if !(c.GlobalPerSecond > 0) {
		bad("GlobalPerSecond %v is not positive", c.GlobalPerSecond)
	}
	return errors.Join(errs...)
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// polling reports whether the bot takes updates by long polling.
func (c Config) polling() bool { return c.WebhookURL == "" }

func (c Config) mode() string {
	if c.polling() {
		return "polling"
	}
	return "webhook"
}

// String describes the configuration with the token and the webhook secret
// hidden, so a Config printed or logged by mistake leaks neither.
func (c Config) String() string {
	c.Token = hidden(c.Token)
	c.WebhookSecret = hidden(c.WebhookSecret)
	type plain Config // no String method: no recursion
	return fmt.Sprintf("%+v", plain(c))
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// LogValue is String, for log/slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

func hidden(s string) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}
