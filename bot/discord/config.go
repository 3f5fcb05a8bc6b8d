package discord

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// The environment variables ConfigFromEnv reads.
const (
	// EnvToken holds the bot token from the Developer Portal (required).
	EnvToken = "DISCORD_BOT_TOKEN"
	// EnvAPIURL is a REST base URL standing in for https://discord.com/api,
	// for example a rate-limit proxy (optional).
	EnvAPIURL = "DISCORD_API_URL"
	// EnvGuildID registers the slash commands in one guild, where updates
	// show at once, instead of globally (optional).
	EnvGuildID = "DISCORD_GUILD_ID"
	// EnvChannelIDs lists support channels, separated by commas or spaces,
	// where every message is answered (optional; needs the privileged
	// Message Content intent).
	EnvChannelIDs = "DISCORD_CHANNEL_IDS"
)

// DefaultAPIURL is Discord's own REST base URL.
const DefaultAPIURL = "https://discord.com/api"

// interactionWindow is how long Discord waits for the first response to an
// interaction before it tells the user the application did not respond.
const interactionWindow = 3 * time.Second

// Config is what the Discord adapter needs to run. Build it with
// DefaultConfig (or ConfigFromEnv) and set Token.
type Config struct {
	// Token is the bot token, with or without its "Bot " prefix. It is
	// never logged or printed.
	Token string
	// APIURL is the REST base URL that replaces https://discord.com/api:
	// requests for https://discord.com/api/v9/... go to APIURL + "/v9/...".
	APIURL string
	// GuildID, when set, registers the slash commands in that guild only
	// (updates show at once); otherwise they are registered globally.
	GuildID string
	// ChannelIDs are support channels where every message is answered,
	// not just mentions. They need the privileged Message Content intent.
	ChannelIDs []string

	// Flood control per user: UserBurst questions at once, then one every
	// UserEvery; at most MaxUsers users are remembered.
	UserEvery time.Duration
	UserBurst int
	MaxUsers  int

	// MaxRetries bounds how often one REST request is tried again after a
	// 429 (rate limited) or, for requests that are safe to repeat, a 5xx.
	// A message create is never repeated after a 5xx: it may have been
	// delivered.
	MaxRetries int
	// MaxRetryWait is the longest rate-limit wait honoured; a request
	// asked to wait longer fails at once instead of holding an answer.
	MaxRetryWait time.Duration
	// RequestTimeout bounds one HTTP request to Discord.
	RequestTimeout time.Duration

	// AnswerTimeout bounds answering one question, sending included.
	AnswerTimeout time.Duration
	// DeferAfter is how long a slash command may wait for its answer before
	// the bot acknowledges it with "thinking…" and edits the answer in
	// later. It must leave room within Discord's 3 s window.
	DeferAfter time.Duration
	// MaxConcurrent bounds the questions answered at the same time; more
	// wait their turn.
	MaxConcurrent int

	// OpenTimeout bounds connecting to the gateway (dial, HELLO, READY).
	OpenTimeout time.Duration
	// ReconnectDelay is the first pause between reconnection attempts
	// after the gateway connection is lost; it doubles up to
	// MaxReconnectDelay.
	ReconnectDelay    time.Duration
	MaxReconnectDelay time.Duration
	// ShutdownTimeout bounds how long Run waits for answers in flight when
	// its context is done.
	ShutdownTimeout time.Duration
}

// DefaultConfig returns a configuration with every setting but Token.
func DefaultConfig() Config {
	return Config{
		APIURL:            DefaultAPIURL,
		UserEvery:         3 * time.Second,
		UserBurst:         5,
		MaxUsers:          10000,
		MaxRetries:        3,
		MaxRetryWait:      10 * time.Second,
		RequestTimeout:    15 * time.Second,
		AnswerTimeout:     20 * time.Second,
		DeferAfter:        time.Second,
		MaxConcurrent:     32,
		OpenTimeout:       30 * time.Second,
		ReconnectDelay:    time.Second,
		MaxReconnectDelay: 2 * time.Minute,
		ShutdownTimeout:   10 * time.Second,
	}
}

// ConfigFromEnv returns DefaultConfig with the settings of the environment
// variables EnvToken, EnvAPIURL, EnvGuildID and EnvChannelIDs (getenv is
// os.Getenv in main), validated.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	cfg.Token = getenv(EnvToken)
	if v := strings.TrimSpace(getenv(EnvAPIURL)); v != "" {
		cfg.APIURL = v
	}
	cfg.GuildID = strings.TrimSpace(getenv(EnvGuildID))
	cfg.ChannelIDs = strings.FieldsFunc(getenv(EnvChannelIDs), func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate reports the first setting that cannot work. Its errors name the
// setting and the wrong value, except for the token, which they never show.
func (c Config) Validate() error {
	tok := strings.TrimPrefix(c.Token, "Bot ")
	switch {
	case tok == "":
		return fmt.Errorf("discord config: Token is empty: set %s to the bot token from the Developer Portal", EnvToken)
	case strings.IndexFunc(tok, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return fmt.Errorf("discord config: Token (%d characters, not shown) contains spaces or control characters: copy it again from the Developer Portal", len(tok))
	}
	if _, err := parseAPIURL(c.APIURL); err != nil {
		return err
	}
	if c.GuildID != "" && !isSnowflake(c.GuildID) {
		return fmt.Errorf("discord config: GuildID = %q, want a numeric id (Developer Mode → right-click the server → Copy Server ID)", c.GuildID)
	}
	for i, id := range c.ChannelIDs {
		if !isSnowflake(id) {
			return fmt.Errorf("discord config: ChannelIDs[%d] = %q, want a numeric channel id", i, id)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"UserEvery", c.UserEvery}, {"MaxRetryWait", c.MaxRetryWait}, {"RequestTimeout", c.RequestTimeout},
		{"AnswerTimeout", c.AnswerTimeout}, {"DeferAfter", c.DeferAfter}, {"OpenTimeout", c.OpenTimeout},
		{"ReconnectDelay", c.ReconnectDelay}, {"MaxReconnectDelay", c.MaxReconnectDelay}, {"ShutdownTimeout", c.ShutdownTimeout},
	} {
		if d.v <= 0 {
			return fmt.Errorf("discord config: %s = %v, want a duration > 0", d.name, d.v)
		}
	}
	if c.DeferAfter > interactionWindow*3/4 {
		return fmt.Errorf("discord config: DeferAfter = %v, want at most %v: Discord drops interactions not acknowledged within %v", c.DeferAfter, interactionWindow*3/4, interactionWindow)
	}
	if c.MaxReconnectDelay < c.ReconnectDelay {
		return fmt.Errorf("discord config: MaxReconnectDelay = %v, want ≥ ReconnectDelay (%v)", c.MaxReconnectDelay, c.ReconnectDelay)
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"UserBurst", c.UserBurst}, {"MaxUsers", c.MaxUsers}, {"MaxConcurrent", c.MaxConcurrent}} {
		if n.v < 1 {
			return fmt.Errorf("discord config: %s = %d, want ≥ 1", n.name, n.v)
		}
	}
	if c.MaxRetries < 0 {
		return fmt.Errorf("discord config: MaxRetries = %d, want ≥ 0", c.MaxRetries)
	}
	return nil
}

// String describes the configuration without its token.
func (c Config) String() string {
	return fmt.Sprintf("discord.Config{Token: %s, APIURL: %q, GuildID: %q, ChannelIDs: %q}", redacted(c.Token), c.APIURL, c.GuildID, c.ChannelIDs)
}

// GoString describes the configuration without its token, for %#v.
func (c Config) GoString() string { return c.String() }

// LogValue lets slog log the configuration without its token.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("token", redacted(c.Token)),
		slog.String("api_url", c.APIURL),
		slog.String("guild_id", c.GuildID),
		slog.Any("channel_ids", c.ChannelIDs),
	)
}

func redacted(token string) string {
	if token == "" {
		return "(unset)"
	}
	return "(set, not shown)"
}

// parseAPIURL reads Config.APIURL.
func parseAPIURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		shown := s
		if err == nil {
			shown = u.Redacted() // never print a password
		}
		return nil, fmt.Errorf("discord config: APIURL = %q, want an http(s) base URL such as %s, without query or credentials", shown, DefaultAPIURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// isSnowflake reports whether s looks like a Discord id.
func isSnowflake(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
