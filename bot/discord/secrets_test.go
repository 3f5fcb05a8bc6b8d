package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"faqbot/bot/bottest"
	"faqbot/search"
)

// TestSecretsNeverShown forces every failure that could show the token,
// with debug logging on, and looks for it in everything shown: log lines,
// errors returned, what users see. Each scenario returns what it showed;
// the runtime adds its own (its /metrics page, its logs) the same way.
func TestSecretsNeverShown(t *testing.T) {
	t.Parallel()
	leaky := func(what string) string { return what + " for Bot " + testToken }
	scenarios := []struct {
		name string
		run  func(t *testing.T) []string
	}{
		{"token refused at IDENTIFY (4004)", func(t *testing.T) []string {
			f := newFakeDiscord(t)
			f.closeIdentify = 4004
			logs := &syncBuffer{}
			b, err := New(testConfig(f), &stubAnswerer{}, WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = b.Run(ctx)
			if err == nil {
				t.Fatal("Run with a refused token: no error")
			}
			return []string{err.Error(), fmt.Sprintf("%+v", err), logs.String()}
		}},
		{"token refused on reconnecting (4004)", func(t *testing.T) []string {
			f := newFakeDiscord(t)
			logs := &syncBuffer{}
			b, err := New(testConfig(f), &stubAnswerer{}, WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- b.Run(ctx) }()
			waitFor(t, "the bot connected", func() bool { return f.readyCount() >= 1 })
			f.mu.Lock()
			f.closeIdentify = 4004 // the token revoked: RESUME and IDENTIFY refused
			f.mu.Unlock()
			f.drop()
			err = <-done
			if err == nil || ctx.Err() != nil {
				t.Fatalf("Run: %v, want it to stop on the 4004", err)
			}
			return []string{err.Error(), logs.String()}
		}},
		{"REST errors echoing the token", func(t *testing.T) []string {
			f := newFakeDiscord(t)
			h := start(t, f, testConfig(f), &stubAnswerer{})
			f.failAlways(routeMessages, fault{status: 401, body: `{"message":"` + leaky("401: Unauthorized") + `","code":0}`})
			f.failAlways(routeCallback, fault{status: 500, body: `{"message":"` + leaky("500: Internal Server Error") + `","code":0}`})
			f.failAlways(routeFollowup, fault{status: 429, body: `{"message":"` + leaky("rate limited") + `","retry_after":3600,"global":true}`})
			f.dispatch("MESSAGE_CREATE", message("m1", channelID, guildID, user(userID, false), mentionOf(botUserID)+" hello", user(botUserID, true)))
			f.dispatch("INTERACTION_CREATE", slashAsk("i1", "en-US", "hello"))
			waitFor(t, "both failures logged", func() bool {
				l := h.logs.String()
				return strings.Contains(l, "sending a reply failed") && strings.Contains(l, "answering an interaction failed")
			})
			h.stop()
			return []string{h.logs.String()}
		}},
		{"panics", func(t *testing.T) []string {
			f := newFakeDiscord(t)
			a := &stubAnswerer{answer: func(context.Context, string) (search.Answer, error) { panic(leaky("engine bug")) }}
			h := start(t, f, testConfig(f), a)
			f.dispatch("MESSAGE_CREATE", message("m1", channelID, guildID, user(userID, false), mentionOf(botUserID)+" hello", user(botUserID, true)))
			f.dispatch("INTERACTION_CREATE", slashAsk("i1", "en-US", "hello"))
			f.waitSent(t, routeMessages, 1)
			f.waitSent(t, routeCallback, 1)
			h.stop()
			shown := []string{h.logs.String()}
			for _, r := range f.allRequests() {
				shown = append(shown, shownTexts(t, r)...)
			}
			return shown
		}},
		{"errors from the engine", func(t *testing.T) []string {
			f := newFakeDiscord(t)
			a := &stubAnswerer{answer: func(context.Context, string) (search.Answer, error) {
				return search.Answer{}, errors.New(leaky("index"))
			}}
			h := start(t, f, testConfig(f), a)
			f.dispatch("MESSAGE_CREATE", message("m1", channelID, guildID, user(userID, false), mentionOf(botUserID)+" hello", user(botUserID, true)))
			f.waitSent(t, routeMessages, 1)
			h.stop()
			return []string{h.logs.String()}
		}},
		{"gateway lost and regained", func(t *testing.T) []string {
			f := newFakeDiscord(t)
			h := start(t, f, testConfig(f), &stubAnswerer{})
			f.closeWith(4000)
			waitFor(t, "the bot back", func() bool { return f.readyCount() >= 2 })
			h.stop()
			return []string{h.logs.String()}
		}},
		{"configuration printed", func(t *testing.T) []string {
			c := DefaultConfig()
			c.Token = testToken
			logs := &syncBuffer{}
			slog.New(slog.NewTextHandler(logs, nil)).Info("config", "config", c)
			return []string{fmt.Sprint(c), fmt.Sprintf("%+v %#v %v", c, c, &c), logs.String()}
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			shown := sc.run(t)
			if strings.Join(shown, "") == "" {
				t.Fatal("the scenario showed nothing: it tests nothing")
			}
			for _, s := range shown {
				if leaks := bottest.Leaks(s, testToken); len(leaks) > 0 {
					t.Errorf("shows the token in:\n%s", s)
				}
			}
		})
	}
}
