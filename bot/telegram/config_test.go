package telegram

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	valid := DefaultConfig()
	valid.Token = testToken
	if err := valid.Validate(); err != nil {
		t.Fatalf("a valid config: %v", err)
	}
	cases := []struct {
		name   string
		adjust func(*Config)
		want   string // in the error
	}{
		{"no token", func(c *Config) { c.Token = "" }, "TELEGRAM_BOT_TOKEN"},
		{"bad token", func(c *Config) { c.Token = "not a token" }, "Token is not a bot token"},
		{"bad API URL", func(c *Config) { c.APIURL = "ftp://x" }, `APIURL "ftp://x"`},
		{"bad webhook URL", func(c *Config) { c.WebhookURL = "bot.example.com/hook" }, `WebhookURL "bot.example.com/hook"`},
		{"bad listen address", func(c *Config) { c.WebhookURL = "https://x/y"; c.ListenAddr = "8443" }, `ListenAddr "8443"`},
		{"bad secret", func(c *Config) { c.WebhookSecret = "has space" }, "WebhookSecret must be"},
		{"short poll", func(c *Config) { c.PollTimeout = time.Millisecond }, "PollTimeout 1ms"},
		{"nothing in flight", func(c *Config) { c.MaxInFlight = 0 }, "MaxInFlight 0"},
		{"no backoff", func(c *Config) { c.MaxBackoff = 0 }, "MaxBackoff 0s"},
		{"negative retries", func(c *Config) { c.MaxRetries = -1 }, "MaxRetries -1"},
		{"no global rate", func(c *Config) { c.GlobalPerSecond = 0 }, "GlobalPerSecond 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := valid
			c.adjust(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Validate() = %v, want an error with %q", err, c.want)
			}
			if err != nil && cfg.WebhookSecret != "" && strings.Contains(err.Error(), cfg.WebhookSecret) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{EnvToken: testToken, EnvAPIURL: "http://127.0.0.1:8081", EnvWebhookURL: "https://bot.example.com/tg", EnvListenAddr: ":9000"}
	c := ConfigFromEnv(func(k string) string { return env[k] })
	if c.Token != testToken || c.APIURL != env[EnvAPIURL] || c.WebhookURL != env[EnvWebhookURL] || c.ListenAddr != ":9000" || c.WebhookSecret != "" {
		t.Errorf("ConfigFromEnv: %+v", c)
	}
	if c.PollTimeout != DefaultConfig().PollTimeout {
		t.Errorf("defaults lost")
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestNewGeneratesWebhookSecret(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	a, err := New(cfg, &fakeAnswerer{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(cfg, &fakeAnswerer{})
	if !secretPattern.MatchString(a.cfg.WebhookSecret) || len(a.cfg.WebhookSecret) < 32 || a.cfg.WebhookSecret == b.cfg.WebhookSecret {
		t.Errorf("generated secrets %q and %q", a.cfg.WebhookSecret, b.cfg.WebhookSecret)
	}
	if _, err := New(cfg, nil); err == nil {
		t.Error("New without an answerer: no error")
	}
}

func TestConfigHidesSecrets(t *testing.T) {
	c := DefaultConfig()
	c.Token = testToken
	c.WebhookSecret = "webhook-secret-0123456789"
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "cfg", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", &c), logs.String()} {
		if strings.Contains(s, "0123456789") || !strings.Contains(s, "[redacted]") || !strings.Contains(s, "PollTimeout:50s") {
			t.Errorf("config shown as %s", s)
		}
	}
}
