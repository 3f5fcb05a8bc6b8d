package telegram

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"faqbot/bot/bottest"
	"faqbot/bot/telegram/telegramtest"
)

// The secrets a bot under test holds: its token, the token's secret half
// (the part after the colon), the webhook secret, and a token Telegram
// does not know.
const (
	secretHook  = "webhook-Secret_never-shown-0123456789"
	wrongToken  = "654321:WRONG-token_never-shown-0123456789"
	tokenSecret = "AAF-test_Token-0123456789abcdefXYZ"
)

// exposure is what a failure showed: log lines (at debug level), errors
// returned, HTTP response bodies.
type exposure struct {
	name  string
	shown []string
}

// TestSecretsNeverShown forces every failure that could show a secret,
// with debug logging on, and looks for the token and the webhook secret
// in everything shown. Each scenario returns what it showed; the runtime
// adds its own (its /metrics page, its logs) the same way.
func TestSecretsNeverShown(t *testing.T) {
	if !strings.HasSuffix(testToken, tokenSecret) {
		t.Fatal("test premise: tokenSecret is the token's secret half")
	}
	scenarios := []struct {
		name string
		run  func(t *testing.T) []string
	}{
		{"token refused (401)", func(t *testing.T) []string {
			logs := &lockedBuffer{}
			cfg := testConfig(telegramtest.NewFakeAPI(t).URL())
			cfg.Token = wrongToken
			b, err := New(cfg, &fakeAnswerer{}, WithLogger(debugLogger(logs)))
			if err != nil {
				t.Fatal(err)
			}
			err = b.Run(context.Background())
			if err == nil {
				t.Fatal("Run with a wrong token: no error")
			}
			return []string{err.Error(), fmt.Sprintf("%+v", err), logs.String()}
		}},
		{"token revoked while polling (401)", func(t *testing.T) []string {
			h := startBot(t, &fakeAnswerer{}, nil)
			h.api.SetFaults(func(method string) telegramtest.Fault {
				return telegramtest.Fault{Status: 401, Body: `{"ok":false,"error_code":401,"description":"Unauthorized: /bot` + testToken + `"}`}
			})
			var err error
			select {
			case err = <-h.done:
			case <-time.After(20 * time.Second):
				t.Fatal("Run did not stop on a 401")
			}
			h.done <- nil // for stop
			if err == nil || !strings.Contains(err.Error(), "401") {
				t.Errorf("Run: %v, want an error about the 401", err)
			}
			return []string{fmt.Sprint(err), h.logs.String()}
		}},
		{"5xx pages echoing the URL", func(t *testing.T) []string {
			h := startBot(t, &fakeAnswerer{}, func(c *Config) { c.RetryFor = time.Second })
			var polls atomic.Int32
			h.api.SetFaults(func(method string) telegramtest.Fault {
				if method == "getUpdates" && polls.Add(1)%2 == 0 {
					return telegramtest.Fault{} // every other poll goes through
				}
				return telegramtest.Fault{Status: 502, Body: "<html>502 Bad Gateway for POST /bot" + testToken + "/" + method + "</html>"}
			})
			h.api.Push(privateMsg(42, "en", "hello"))
			waitFor(t, "the reply given up", func() bool { return strings.Contains(h.logs.String(), "reply not sent") })
			h.stop(t)
			return []string{h.logs.String()}
		}},
		{"network errors (resets, hangs)", func(t *testing.T) []string {
			h := startBot(t, &fakeAnswerer{}, func(c *Config) { c.RetryFor, c.RequestTimeout = time.Second, 300*time.Millisecond })
			faults := []telegramtest.Fault{telegramtest.Reset, telegramtest.Hang}
			var n atomic.Int32
			h.api.SetFaults(func(string) telegramtest.Fault { return faults[n.Add(1)%2] })
			waitFor(t, "getUpdates failures logged", func() bool { return strings.Count(h.logs.String(), "getUpdates failed") >= 2 })
			h.stop(t)
			return []string{h.logs.String()}
		}},
		{"errors echoing the token", func(t *testing.T) []string {
			h := startBot(t, &fakeAnswerer{}, nil)
			h.api.SetHook(func(method string, _ int) (int, string, bool) {
				return 400, `{"ok":false,"error_code":400,"description":"Bad Request: token ` + testToken + `"}`, method == "sendMessage"
			})
			h.api.Push(privateMsg(42, "en", "hello"))
			waitFor(t, "the failure logged", func() bool { return strings.Contains(h.logs.String(), "reply not sent") })
			h.stop(t)
			return []string{h.logs.String()}
		}},
		{"panics", func(t *testing.T) []string {
			h := startBot(t, &fakeAnswerer{}, nil) // "panic" panics with the token in the value
			h.api.Push(privateMsg(42, "en", "panic"))
			waitFor(t, "the panic logged", func() bool { return strings.Contains(h.logs.String(), "panic while handling") })
			h.api.WaitSent(t, 1)
			h.stop(t)
			return []string{h.logs.String(), h.api.Sent()[0].Text}
		}},
		{"webhook secret mismatch", func(t *testing.T) []string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			h := startBot(t, &fakeAnswerer{}, func(c *Config) {
				c.WebhookURL = "https://bot.example.com/hook"
				c.WebhookSecret = secretHook
			}, WithListener(ln))
			var shown []string
			for _, wrong := range []string{"", secretHook[:12], secretHook + "x", testToken, strings.ToUpper(secretHook)} {
				req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/hook", strings.NewReader(`{"update_id":1}`))
				req.Header.Set(secretHeader, wrong)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("secret %q: status %d, want 401", wrong, resp.StatusCode)
				}
				shown = append(shown, string(body), fmt.Sprint(resp.Header))
			}
			h.stop(t)
			return append(shown, h.logs.String())
		}},
		{"configuration printed", func(t *testing.T) []string {
			c := testConfig("http://127.0.0.1:1")
			c.WebhookSecret = secretHook
			logs := &lockedBuffer{}
			debugLogger(logs).Info("config", "config", c)
			return []string{fmt.Sprint(c), fmt.Sprintf("%+v %#v %v", c, c, &c), logs.String()}
		}},
	}
	var exposures []exposure
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			shown := sc.run(t)
			if strings.Join(shown, "") == "" {
				t.Fatal("the scenario showed nothing: it tests nothing")
			}
			exposures = append(exposures, exposure{sc.name, shown})
		})
	}
	for _, e := range exposures {
		for _, s := range e.shown {
			if leaks := bottest.Leaks(s, testToken, tokenSecret, wrongToken, secretHook); len(leaks) > 0 {
				t.Errorf("%s: shows %q in:\n%s", e.name, leaks, s)
			}
		}
	}
}

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
