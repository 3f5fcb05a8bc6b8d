package discord

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

func TestConfigValidate(t *testing.T) {
	valid := DefaultConfig()
	valid.Token = testToken
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   string // in the error
	}{
		{"no token", func(c *Config) { c.Token = "" }, "DISCORD_BOT_TOKEN"},
		{"only the prefix", func(c *Config) { c.Token = "Bot " }, "Token is empty"},
		{"token with a newline", func(c *Config) { c.Token = testToken + "\n" }, "Token (31 characters, not shown)"},
		{"api url", func(c *Config) { c.APIURL = "discord.com/api" }, `APIURL = "discord.com/api"`},
		{"api url with password", func(c *Config) { c.APIURL = "https://u:hunter2@proxy/api?x=1" }, "u:xxxxx@proxy"},
		{"guild", func(c *Config) { c.GuildID = "my-server" }, `GuildID = "my-server"`},
		{"channel", func(c *Config) { c.ChannelIDs = []string{"123", "#support"} }, `ChannelIDs[1] = "#support"`},
		{"defer too late", func(c *Config) { c.DeferAfter = 3 * time.Second }, "DeferAfter = 3s"},
		{"no answer time", func(c *Config) { c.AnswerTimeout = 0 }, "AnswerTimeout = 0s"},
		{"retries", func(c *Config) { c.MaxRetries = -1 }, "MaxRetries = -1"},
		{"burst", func(c *Config) { c.UserBurst = 0 }, "UserBurst = 0"},
		{"reconnect delays", func(c *Config) { c.MaxReconnectDelay = time.Millisecond }, "MaxReconnectDelay = 1ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.change(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows a secret", err)
			}
		})
	}
}

func TestConfigNeverPrintsToken(t *testing.T) {
	c := DefaultConfig()
	c.Token = testToken
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "cfg", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %s %+v %#v", c, c, c, c), logs.String()} {
		if strings.Contains(s, testToken) {
			t.Errorf("token shown in %q", s)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		EnvToken:      testToken,
		EnvAPIURL:     "http://127.0.0.1:8080/api",
		EnvGuildID:    "3000",
		EnvChannelIDs: "4000, 4001 4002",
	}
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Token != testToken || cfg.APIURL != env[EnvAPIURL] || cfg.GuildID != "3000" || !slices.Equal(cfg.ChannelIDs, []string{"4000", "4001", "4002"}) {
		t.Errorf("got %v", cfg)
	}
	if cfg.MaxRetries != DefaultConfig().MaxRetries {
		t.Errorf("defaults not kept")
	}
	cfg, err = ConfigFromEnv(func(k string) string {
		if k == EnvToken {
			return testToken
		}
		return ""
	})
	if err != nil || cfg.APIURL != DefaultAPIURL || cfg.GuildID != "" || len(cfg.ChannelIDs) != 0 {
		t.Errorf("token only: %v, %v", cfg, err)
	}
	if _, err := ConfigFromEnv(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), EnvToken) {
		t.Errorf("no token: %v", err)
	}
}

func TestNewChecksItsArguments(t *testing.T) {
	if _, err := New(DefaultConfig(), &stubAnswerer{}); err == nil {
		t.Error("accepted a config without token")
	}
	cfg := DefaultConfig()
	cfg.Token = testToken
	if _, err := New(cfg, nil); err == nil {
		t.Error("accepted no answerer")
	}
}

// roundTripFunc is an http.RoundTripper from a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTransportRewritesToAPIURL(t *testing.T) {
	var got *http.Request
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
	})
	base, _ := url.Parse("http://127.0.0.1:9999/proxy/api")
	tr := &apiTransport{next: next, base: base, maxWait: time.Second}
	tests := []struct{ in, want string }{
		{"https://discord.com/api/v9/channels/1/messages", "http://127.0.0.1:9999/proxy/api/v9/channels/1/messages"},
		{"https://discord.com/api/v9/webhooks/2/tok/messages/@original?x=1", "http://127.0.0.1:9999/proxy/api/v9/webhooks/2/tok/messages/@original?x=1"},
		{"https://cdn.discordapp.com/avatars/1.png", "https://cdn.discordapp.com/avatars/1.png"},
		{"https://discord.com/apiary", "https://discord.com/apiary"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", tt.in, nil)
		req.Header.Set("Authorization", "Bot x")
		if _, err := tr.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		if got.URL.String() != tt.want || got.Header.Get("Authorization") != "Bot x" {
			t.Errorf("%s went to %s, want %s with its headers", tt.in, got.URL, tt.want)
		}
		if req.URL.String() != tt.in {
			t.Errorf("the caller's request was changed")
		}
	}
}

func TestTransportAnswersGatewayWhenGiven(t *testing.T) {
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("asked Discord: %s", r.URL)
		return nil, errors.New("no")
	})
	base, _ := url.Parse(DefaultAPIURL)
	tr := &apiTransport{next: next, base: base, gatewayURL: "ws://127.0.0.1:1/gw", maxWait: time.Second}
	s, _ := discordgo.New("Bot x")
	s.Client = &http.Client{Transport: tr}
	if gw, err := s.Gateway(); err != nil || gw != "ws://127.0.0.1:1/gw/" {
		t.Errorf("Gateway() = %q, %v", gw, err)
	}
	if gw, err := s.GatewayBot(); err != nil || gw.URL != "ws://127.0.0.1:1/gw/" || gw.Shards != 1 {
		t.Errorf("GatewayBot() = %+v, %v", gw, err)
	}
}

func TestTransportCapsRateLimitWaits(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		resetAfter string
		retryAfter time.Duration // decoded by discordgo from the 429 body
	}{
		{"long reset capped", 200, map[string]string{"X-RateLimit-Reset-After": "3600", "X-RateLimit-Reset": "1999999999"}, "{}", "2.000", 0},
		{"short reset kept", 200, map[string]string{"X-RateLimit-Reset-After": "0.25"}, "{}", "0.25", 0},
		{"bad reset capped", 200, map[string]string{"X-RateLimit-Reset-After": "NaN"}, "{}", "2.000", 0},
		{"429 json kept", 429, nil, `{"retry_after": 1.5, "global": false}`, "", 1500 * time.Millisecond},
		{"429 html from a proxy", 429, map[string]string{"Retry-After": "3"}, "<html>slow down</html>", "", 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			base, _ := url.Parse(srv.URL + "/api")
			tr := &apiTransport{next: http.DefaultTransport, base: base, maxWait: 2 * time.Second}
			req, _ := http.NewRequest("GET", "https://discord.com/api/v9/users/@me", nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if got := resp.Header.Get("X-RateLimit-Reset-After"); got != tt.resetAfter {
				t.Errorf("Reset-After %q, want %q", got, tt.resetAfter)
			}
			if resp.Header.Get("X-RateLimit-Reset") != "" {
				t.Errorf("absolute reset kept")
			}
			if tt.status == 429 {
				body, _ := io.ReadAll(resp.Body)
				var rl discordgo.TooManyRequests
				if err := discordgo.Unmarshal(body, &rl); err != nil || rl.RetryAfter != tt.retryAfter {
					t.Errorf("429 body %s reads as %v, %v; want retry after %v", body, rl.RetryAfter, err, tt.retryAfter)
				}
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	rateLimited := func(d time.Duration) error {
		return &discordgo.RateLimitError{RateLimit: &discordgo.RateLimit{TooManyRequests: &discordgo.TooManyRequests{RetryAfter: d}}}
	}
	dialErr := &url.Error{Op: "Post", URL: "https://x/tok", Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}
	readErr := &url.Error{Op: "Post", URL: "https://x/tok", Err: io.ErrUnexpectedEOF}
	tests := []struct {
		name   string
		err    error
		status int
		rep    repeat
		wait   time.Duration
		retry  bool
	}{
		{"429", rateLimited(300 * time.Millisecond), 429, sendOnce, 300 * time.Millisecond, true},
		{"429 too long", rateLimited(time.Hour), 429, safeToRepeat, 0, false},
		{"502 on a create", errors.New("Exceeded Max retries HTTP 502"), 502, sendOnce, 0, false},
		{"502 on a PUT", errors.New("Exceeded Max retries HTTP 502"), 502, safeToRepeat, time.Second, true},
		{"500 on a create", &discordgo.RESTError{}, 500, sendOnce, 0, false},
		{"403", &discordgo.RESTError{}, 403, safeToRepeat, 0, false},
		{"refused connection", dialErr, 0, sendOnce, time.Second, true},
		{"broken connection on a create", readErr, 0, sendOnce, 0, false},
		{"broken connection on a PUT", readErr, 0, safeToRepeat, time.Second, true},
		{"cancelled", context.Canceled, 0, safeToRepeat, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wait, retry := retryAfter(tt.err, tt.status, tt.rep, time.Second, time.Minute)
			if retry != tt.retry || (retry && wait != tt.wait) {
				t.Errorf("retryAfter = %v, %v; want %v, %v", wait, retry, tt.wait, tt.retry)
			}
		})
	}
	if msg := (&restError{what: "send", attempts: 1, err: readErr}).Error(); strings.Contains(msg, "tok") {
		t.Errorf("error message %q shows the URL", msg)
	}
}

func ExampleInviteURL() {
	fmt.Println(InviteURL("123456789012345678"))
	// Output:
	// https://discord.com/oauth2/authorize?client_id=123456789012345678&permissions=277025475584&scope=bot+applications.commands
}
