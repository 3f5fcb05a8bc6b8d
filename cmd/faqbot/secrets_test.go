package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"faqbot/bot/bottest"
	"faqbot/bot/telegram/telegramtest"
	"faqbot/knowledge"
	"faqbot/search"
)

// The secrets faqbot holds in these tests, and values meant as secrets
// that are malformed (a setting refused must not show them either).
const (
	tgHalf     = "AAF-test_Token-0123456789abcdefXYZ" // tgToken's secret half
	wrongToken = "654321:WRONG-token_never-shown-0123456789"
	wrongHalf  = "WRONG-token_never-shown-0123456789"
	hookSecret = "webhook-Secret_never-shown-0123456789"
	qlogSalt   = "qlog-Salt_never-shown-0123456789"
	badToken   = "no-colon-Token_never-shown-0123456789"
	badSecret  = "bad secret!never-shown-0123456789"
	shortSalt  = "s4lt-15-chars!!"
	badDiscord = "discord token never-shown 0123456789"
)

// leakedPanic starts the panic values of panickingEngine.
const leakedPanic = "engine bug: "

var allSecrets = []string{tgToken, tgHalf, wrongToken, wrongHalf, dcToken, hookSecret, qlogSalt, badToken, badSecret, shortSalt, badDiscord}

// The secrets faqbot holds when configured with Telegram or Discord, and
// with both.
var (
	telegramSecrets = []string{tgToken, tgHalf, hookSecret, qlogSalt}
	discordSecrets  = []string{dcToken, qlogSalt}
	bothSecrets     = []string{tgToken, tgHalf, hookSecret, dcToken, qlogSalt}
)

// echoing is a message that shows secrets, as a careless server, a library
// or a panic might.
func echoing(what string, secrets []string) string { return what + " " + strings.Join(secrets, " ") }

// faqbotProc is faqbot run as main runs it (run, configured by the
// environment), in a goroutine.
type faqbotProc struct {
	stdout, stderr *syncBuffer
	code           chan int
	cancel         context.CancelFunc
	ops            *http.Client
	base           string // the ops listener's URL
}

// startFaqbot runs faqbot with vars over a test environment: debug
// logging, the ops listener on a free port, a question log in a temporary
// directory with its salt set. It waits for the ops listener, or for
// faqbot to exit.
func startFaqbot(t *testing.T, vars map[string]string) *faqbotProc {
	t.Helper()
	e := map[string]string{
		"LOG_LEVEL": "debug", "FAQBOT_LOG_FORMAT": "json", "FAQBOT_HTTP_ADDR": "127.0.0.1:0",
		"FAQBOT_QLOG_PATH": filepath.Join(t.TempDir(), "faqbot.db"), "FAQBOT_QLOG_SALT": qlogSalt,
		"FAQBOT_SHUTDOWN_TIMEOUT": "5s",
	}
	for k, v := range vars {
		e[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &faqbotProc{stdout: &syncBuffer{}, stderr: &syncBuffer{}, code: make(chan int, 1), cancel: cancel, ops: opsClient(t)}
	go func() { p.code <- run(ctx, nil, env(e), p.stdout, p.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case c := <-p.code:
			p.code <- c
		case <-time.After(30 * time.Second):
			t.Error("faqbot did not exit")
		}
	})
	waitFor(t, "the ops listener, or an exit", func() bool {
		if a := logAttr(p.stderr.String(), "ops listener", "addr"); a != "" {
			p.base = "http://" + a
			return true
		}
		return len(p.code) > 0
	})
	return p
}

// exit waits for faqbot to exit by itself and returns its code.
func (p *faqbotProc) exit(t *testing.T) int {
	t.Helper()
	select {
	case c := <-p.code:
		p.code <- c
		return c
	case <-time.After(30 * time.Second):
		t.Fatalf("faqbot did not exit; stderr:\n%s", p.stderr)
		return -1
	}
}

// stop stops faqbot as a signal would, and returns its exit code.
func (p *faqbotProc) stop(t *testing.T) int {
	t.Helper()
	p.cancel()
	return p.exit(t)
}

// shown is everything faqbot wrote.
func (p *faqbotProc) shown() []string { return []string{p.stdout.String(), p.stderr.String()} }

// scrape reads /healthz, /readyz and /metrics.
func (p *faqbotProc) scrape(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		code, body := get(t, p.ops, p.base+path)
		out = append(out, fmt.Sprintf("%s %d %s", path, code, body))
	}
	if !strings.Contains(out[2], "faqbot_questions_total") && !strings.Contains(out[2], "faqbot_build_info") {
		t.Errorf("/metrics shows no faqbot metric:\n%s", out[2])
	}
	return out
}

// logAttr finds the first record with message msg in faqbot's log (JSON
// or text) and returns its attribute key, or "".
func logAttr(logs, msg, key string) string {
	text := regexp.MustCompile(`msg="?` + regexp.QuoteMeta(msg) + `"? .*\b` + regexp.QuoteMeta(key) + `=(\S+)`)
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil {
			if rec["msg"] == msg {
				if v, ok := rec[key].(string); ok {
					return v
				}
			}
			continue
		}
		if m := text.FindStringSubmatch(sc.Text()); m != nil {
			return m[1]
		}
	}
	return ""
}

// TestSecretsNeverShown runs faqbot as a whole with debug logging and
// forces every failure that could show a secret — tokens refused at the
// start and revoked while running, Bot API errors and 5xx pages echoing
// the token, reset connections (whose errors name the URL, token and all),
// Discord's gateway refusing the token or failing its handshake at a URL
// echoing it, REST errors echoing it, panics whose value holds every
// secret, webhook requests with wrong secrets, bad settings, the help, the
// configuration printed — and looks for the Telegram token and its secret
// half, the Discord token, the webhook secret and the question log's salt
// in every log line, error returned, exit message, /metrics, /healthz and
// /readyz page, and message sent to users.
func TestSecretsNeverShown(t *testing.T) {
	checkNoLeaks(t)
	scenarios := []struct {
		name string
		run  func(t *testing.T) []string
	}{
		{"Telegram token refused at the start (401)", func(t *testing.T) []string {
			api, dc := telegramtest.NewFakeAPI(t), newFakeDiscord(t)
			p := startFaqbot(t, map[string]string{
				"TELEGRAM_BOT_TOKEN": wrongToken, "TELEGRAM_API_URL": api.URL(), "TELEGRAM_WEBHOOK_SECRET": hookSecret,
				"DISCORD_BOT_TOKEN": dcToken, "DISCORD_API_URL": dc.apiURL(), "FAQBOT_LOG_FORMAT": "text",
			})
			if c := p.exit(t); c != 1 || !strings.Contains(p.stderr.String(), "Unauthorized") {
				t.Errorf("exit %d, want 1 with the 401 logged", c)
			}
			return p.shown()
		}},
		{"Telegram token revoked while polling (401 echoing it)", func(t *testing.T) []string {
			api := telegramtest.NewFakeAPI(t)
			p := startFaqbot(t, map[string]string{"TELEGRAM_BOT_TOKEN": tgToken, "TELEGRAM_API_URL": api.URL(), "TELEGRAM_WEBHOOK_SECRET": hookSecret})
			waitFor(t, "/readyz to say ready", func() bool { c, _ := get(t, p.ops, p.base+"/readyz"); return c == 200 })
			tgWaitReply(t, api, tgPush(api, tgPrivate(42, "how do I log out of WhatsApp Web")))
			shown := p.scrape(t)
			api.SetFaults(func(string) telegramtest.Fault {
				return telegramtest.Fault{Status: 401, Body: `{"ok":false,"error_code":401,"description":"Unauthorized: ` + echoing("/bot", telegramSecrets) + `"}`}
			})
			if c := p.exit(t); c != 1 || !strings.Contains(p.stderr.String(), "401") {
				t.Errorf("exit %d, want 1 with the 401 logged", c)
			}
			return append(shown, p.shown()...)
		}},
		{"Bot API errors, 5xx pages and resets echoing the token", func(t *testing.T) []string {
			api := telegramtest.NewFakeAPI(t)
			p := startFaqbot(t, map[string]string{"TELEGRAM_BOT_TOKEN": tgToken, "TELEGRAM_API_URL": api.URL(), "TELEGRAM_WEBHOOK_SECRET": hookSecret, "FAQBOT_LOG_FORMAT": "text"})
			waitFor(t, "/readyz to say ready", func() bool { c, _ := get(t, p.ops, p.base+"/readyz"); return c == 200 })
			// Every other call fails, in turn with a proxy's page, a Bot
			// API error and a reset connection; the retries get through.
			faults := []telegramtest.Fault{
				{Status: 502, Body: "<html>502 Bad Gateway: " + echoing("POST /bot", telegramSecrets) + "</html>"},
				{Status: 500, Body: `{"ok":false,"error_code":500,"description":"` + echoing("Internal Server Error", telegramSecrets) + `"}`},
				telegramtest.Reset,
			}
			var n atomic.Int32
			api.SetFaults(func(string) telegramtest.Fault {
				if i := n.Add(1); i%2 == 1 {
					return faults[(i/2)%int32(len(faults))]
				}
				return telegramtest.Fault{}
			})
			id := tgPush(api, tgPrivate(42, "how do I log out of WhatsApp Web"))
			waitFor(t, "each kind of fault served", func() bool {
				f := api.Faulted()
				return f["502"] > 0 && f["500"] > 0 && f["reset"] > 0
			})
			tgWaitReply(t, api, id)
			// A 4xx is final: the reply is given up, its error logged.
			api.SetFaults(nil)
			api.SetHook(func(method string, _ int) (int, string, bool) {
				return 400, `{"ok":false,"error_code":400,"description":"Bad Request: ` + echoing("chat not found", telegramSecrets) + `"}`, method == "sendMessage"
			})
			tgPush(api, tgPrivate(43, "hello"))
			waitFor(t, "the reply given up", func() bool { return strings.Contains(p.stderr.String(), "reply not sent") })
			shown := p.scrape(t)
			if !strings.Contains(shown[2], `faqbot_adapter_errors_total{adapter="telegram",op="sendMessage"} 1`) {
				t.Errorf("/metrics does not count the failed send:\n%s", shown[2])
			}
			if c := p.stop(t); c != 0 {
				t.Errorf("exit %d after a stop, want 0", c)
			}
			return append(shown, p.shown()...)
		}},
		{"Discord gateway handshake failing at a URL echoing the token", func(t *testing.T) []string {
			dc := newFakeDiscord(t)
			dc.fail(func(f *fakeDiscord) { f.gatewayEcho = dcToken })
			p := startFaqbot(t, map[string]string{"DISCORD_BOT_TOKEN": dcToken, "DISCORD_API_URL": dc.apiURL()})
			// discordgo logs this through the standard log package: faqbot
			// routes it through its own logger.
			if c := p.exit(t); c != 1 || !strings.Contains(p.stderr.String(), "error connecting to gateway") {
				t.Errorf("exit %d, want 1 with discordgo's error in faqbot's log", c)
			}
			return p.shown()
		}},
		{"Discord token refused at IDENTIFY (4004)", func(t *testing.T) []string {
			dc := newFakeDiscord(t)
			dc.fail(func(f *fakeDiscord) { f.closeIdentify = 4004 })
			p := startFaqbot(t, map[string]string{"DISCORD_BOT_TOKEN": dcToken, "DISCORD_API_URL": dc.apiURL(), "FAQBOT_LOG_FORMAT": "text"})
			if c := p.exit(t); c != 1 || !strings.Contains(p.stderr.String(), "4004") {
				t.Errorf("exit %d, want 1 with the 4004 logged", c)
			}
			return p.shown()
		}},
		{"Discord REST errors echoing the token, gateway lost, token refused on resuming", func(t *testing.T) []string {
			dc := newFakeDiscord(t)
			dc.fail(func(f *fakeDiscord) {
				f.restFault = func(route string) (int, string) {
					if route == "message" {
						return 401, `{"message":"401: Unauthorized ` + echoing("Bot", discordSecrets) + `","code":0}`
					}
					return 500, `{"message":"500: Internal Server Error ` + echoing("Bot", discordSecrets) + `","code":0}`
				}
			})
			p := startFaqbot(t, map[string]string{"DISCORD_BOT_TOKEN": dcToken, "DISCORD_API_URL": dc.apiURL()})
			waitFor(t, "/readyz to say ready", func() bool { c, _ := get(t, p.ops, p.base+"/readyz"); return c == 200 })
			dc.dispatch("MESSAGE_CREATE", dcDM("m1", "5001", "how do I log out of WhatsApp Web"))
			dc.dispatch("INTERACTION_CREATE", dcPress("i1", "5001", "y|en|web-log-out"))
			defer func() {
				if t.Failed() {
					t.Logf("stderr:\n%s", p.stderr)
				}
			}()
			waitFor(t, "both failures logged", func() bool {
				l := p.stderr.String()
				return strings.Contains(l, "sending a reply failed") && strings.Contains(l, "responding to an interaction failed")
			})
			shown := p.scrape(t)
			dc.fail(func(f *fakeDiscord) { f.closeIdentify = 4004 })
			dc.drop(4000)
			if c := p.exit(t); c != 1 || !strings.Contains(p.stderr.String(), "4004") {
				t.Errorf("exit %d, want 1 with the 4004 logged", c)
			}
			return append(shown, p.shown()...)
		}},
		{"panics holding every secret", func(t *testing.T) []string {
			api, dc := telegramtest.NewFakeAPI(t), newFakeDiscord(t)
			cfg, _, err := loadConfig("faqbot", nil, env(map[string]string{
				"TELEGRAM_BOT_TOKEN": tgToken, "TELEGRAM_API_URL": api.URL(), "TELEGRAM_WEBHOOK_SECRET": hookSecret,
				"DISCORD_BOT_TOKEN": dcToken, "DISCORD_API_URL": dc.apiURL(),
				"FAQBOT_HTTP_ADDR": "127.0.0.1:0", "FAQBOT_QLOG_PATH": filepath.Join(t.TempDir(), "q.db"), "FAQBOT_QLOG_SALT": qlogSalt,
			}), io.Discard, nil)
			if err != nil {
				t.Fatal(err)
			}
			// A logger of the caller's, hiding nothing: the runtime hides
			// the secrets itself.
			logs := &syncBuffer{}
			rt, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			if err != nil {
				t.Fatal(err)
			}
			// The engine panics, as a guide reload gone wrong might.
			if err := rt.live.swap(panickingEngine{}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- rt.Run(ctx) }()
			defer func() {
				cancel()
				<-done
			}()
			ops := opsClient(t)
			base := "http://" + rt.opsLn.Addr().String()
			waitFor(t, "/readyz to say ready", func() bool { c, _ := get(t, ops, base+"/readyz"); return c == 200 })
			tgPush(api, tgPrivate(42, "how do I log out of WhatsApp Web"))
			dc.dispatch("MESSAGE_CREATE", dcDM("m1", "5001", "how do I log out of WhatsApp Web"))
			sentTG := api.WaitSent(t, 1)
			sentDC := dc.waitSent(t, "message", 1)
			waitFor(t, "both panics logged", func() bool { return strings.Count(logs.String(), leakedPanic) >= 2 })
			var shown []string
			for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
				_, body := get(t, ops, base+path)
				shown = append(shown, body)
			}
			cancel()
			err = <-done
			done <- err
			shown = append(shown, logs.String(), sentTG[0].Text, sentDC[0].Body, fmt.Sprint(err))
			return shown
		}},
		{"errors returned by Run", func(t *testing.T) []string {
			var shown []string
			for _, vars := range []map[string]string{
				{"TELEGRAM_BOT_TOKEN": wrongToken, "TELEGRAM_API_URL": telegramtest.NewFakeAPI(t).URL()},
				{"DISCORD_BOT_TOKEN": dcToken, "DISCORD_API_URL": func() string {
					dc := newFakeDiscord(t)
					dc.fail(func(f *fakeDiscord) { f.closeIdentify = 4004 })
					return dc.apiURL()
				}()},
			} {
				vars["FAQBOT_HTTP_ADDR"] = "off"
				vars["FAQBOT_QLOG"] = "off"
				cfg, _, err := loadConfig("faqbot", nil, env(vars), io.Discard, nil)
				if err != nil {
					t.Fatal(err)
				}
				logs := &syncBuffer{}
				rt, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				err = rt.Run(ctx)
				cancel()
				if err == nil {
					t.Fatal("Run with a refused token: no error")
				}
				shown = append(shown, err.Error(), fmt.Sprintf("%v %+v %#v %q", err, err, err, err), logs.String())
				for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
					shown = append(shown, e.Error())
				}
			}
			return shown
		}},
		{"webhook requests with wrong secrets", func(t *testing.T) []string {
			api := telegramtest.NewFakeAPI(t)
			p := startFaqbot(t, map[string]string{
				"TELEGRAM_BOT_TOKEN": tgToken, "TELEGRAM_API_URL": api.URL(), "TELEGRAM_WEBHOOK_SECRET": hookSecret,
				"TELEGRAM_WEBHOOK_URL": "https://bot.example.com/hook", "TELEGRAM_LISTEN_ADDR": "127.0.0.1:0",
			})
			var addr string
			waitFor(t, "the webhook listener", func() bool { addr = logAttr(p.stderr.String(), "serving webhook", "addr"); return addr != "" })
			if got := api.Calls("setWebhook"); len(got) != 1 || got[0].Fields["secret_token"] != hookSecret {
				t.Fatalf("setWebhook calls %+v: want one registering the configured secret", got)
			}
			post := func(secret string, body string) (int, string) {
				req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/hook", strings.NewReader(body))
				req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
				resp, err := p.ops.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, fmt.Sprintf("%d %s %v", resp.StatusCode, b, resp.Header)
			}
			update := `{"update_id":1,"message":{"message_id":7,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"U"},"text":"hello"}}`
			var shown []string
			for _, wrong := range []string{"", hookSecret[:12], hookSecret + "x", strings.ToUpper(hookSecret), tgToken, qlogSalt} {
				code, s := post(wrong, update)
				if code != http.StatusUnauthorized {
					t.Errorf("secret %q: status %d, want 401", wrong, code)
				}
				shown = append(shown, s)
			}
			if code, s := post(hookSecret, update); code != http.StatusOK {
				t.Errorf("the right secret: %s, want 200", s)
			}
			api.WaitSent(t, 1) // only the update with the right secret is answered
			shown = append(shown, p.scrape(t)...)
			if c := p.stop(t); c != 0 {
				t.Errorf("exit %d after a stop, want 0", c)
			}
			if n := len(api.Sent()); n != 1 {
				t.Errorf("%d replies, want 1", n)
			}
			return append(shown, p.shown()...)
		}},
		{"faqbot -h", func(t *testing.T) []string {
			var stdout, stderr syncBuffer
			e := env(map[string]string{"TELEGRAM_BOT_TOKEN": tgToken, "TELEGRAM_WEBHOOK_SECRET": hookSecret, "DISCORD_BOT_TOKEN": dcToken, "FAQBOT_QLOG_SALT": qlogSalt})
			if c := run(context.Background(), []string{"-h"}, e, &stdout, &stderr); c != 0 || !strings.Contains(stderr.String(), "TELEGRAM_BOT_TOKEN") {
				t.Errorf("exit %d, want 0 and the help", c)
			}
			return []string{stdout.String(), stderr.String()}
		}},
		{"bad settings", func(t *testing.T) []string {
			tokens := map[string]string{"TELEGRAM_BOT_TOKEN": tgToken, "DISCORD_BOT_TOKEN": dcToken, "TELEGRAM_WEBHOOK_SECRET": hookSecret, "FAQBOT_QLOG_SALT": qlogSalt}
			with := func(m map[string]string) map[string]string {
				out := map[string]string{}
				for k, v := range tokens {
					out[k] = v
				}
				for k, v := range m {
					out[k] = v
				}
				return out
			}
			file := func(content string) map[string]string {
				return map[string]string{"FAQBOT_CONFIG": writeFile(t, "faqbot.yaml", content)}
			}
			var shown []string
			for _, tt := range []struct {
				env  map[string]string
				args []string
				want string // the message names the setting
			}{
				{with(map[string]string{"TELEGRAM_BOT_TOKEN": badToken}), nil, "TELEGRAM_BOT_TOKEN (value not shown): not a bot token"},
				{with(map[string]string{"TELEGRAM_WEBHOOK_SECRET": badSecret}), nil, "TELEGRAM_WEBHOOK_SECRET (value not shown): want 1 to 256"},
				{with(map[string]string{"FAQBOT_QLOG_SALT": shortSalt}), nil, "FAQBOT_QLOG_SALT (value not shown): shorter than 16 bytes"},
				{with(map[string]string{"DISCORD_BOT_TOKEN": badDiscord}), nil, "DISCORD_BOT_TOKEN (value not shown): contains spaces"},
				{with(map[string]string{"TELEGRAM_API_URL": tgToken}), nil, "TELEGRAM_API_URL"},               // the token pasted on the wrong line
				{with(map[string]string{"FAQBOT_SHUTDOWN_TIMEOUT": dcToken}), nil, "FAQBOT_SHUTDOWN_TIMEOUT"}, // the same
				{with(map[string]string{"DISCORD_GUILD_ID": dcToken}), nil, "DISCORD_GUILD_ID"},
				{with(map[string]string{"FAQBOT_SHUTDOWN_TIMEOUT": tgToken}), []string{"report"}, "FAQBOT_SHUTDOWN_TIMEOUT"},
				{with(nil), []string{"-log-level", qlogSalt}, "-log-level"},
				{with(nil), []string{"-qlog-salt", qlogSalt}, "flag provided but not defined: -qlog-salt"},
				{file("telegram:\n  token: " + tgToken + "\n  webhook_secret: " + hookSecret + "\n  api_url: [\n"), nil, "faqbot.yaml: yaml:"},
				{file("telegram.tokn: " + tgToken + "\n"), nil, "telegram.tokn: unknown setting"},
				{file("question_log:\n  salt: [" + qlogSalt + "]\n"), nil, "question_log.salt: want a value"},
				{file("discord.token: " + dcToken + "\nhttp_addr: " + dcToken + "\n"), nil, "http_addr"},
			} {
				var stdout, stderr syncBuffer
				c := run(context.Background(), tt.args, env(tt.env), &stdout, &stderr)
				if c != 2 || !strings.Contains(stderr.String(), tt.want) {
					t.Errorf("%v %q: exit %d, stderr %q; want 2 and %q", tt.env, tt.args, c, stderr.String(), tt.want)
				}
				shown = append(shown, stdout.String(), stderr.String())
			}
			return shown
		}},
		{"the configuration printed", func(t *testing.T) []string {
			cfg, _, err := loadConfig("faqbot", nil, env(map[string]string{
				"TELEGRAM_BOT_TOKEN": tgToken, "TELEGRAM_WEBHOOK_SECRET": hookSecret, "DISCORD_BOT_TOKEN": dcToken, "FAQBOT_QLOG_SALT": qlogSalt,
			}), io.Discard, nil)
			if err != nil {
				t.Fatal(err)
			}
			var logs strings.Builder
			slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "config", cfg, "ptr", &cfg)
			slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "config", cfg, "ptr", &cfg)
			printed := fmt.Sprintf("%v %+v %#v %s %v", cfg, cfg, cfg, cfg, &cfg)
			if !strings.Contains(printed, "LogLevel:") || !strings.Contains(printed, "[redacted]") {
				t.Errorf("the configuration does not print as itself: %s", printed)
			}
			return []string{printed, logs.String()}
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			shown := sc.run(t)
			if strings.Join(shown, "") == "" {
				t.Fatal("the scenario showed nothing: it tests nothing")
			}
			for _, s := range shown {
				if leaks := bottest.Leaks(s, allSecrets...); len(leaks) > 0 {
					t.Errorf("shows %q in:\n%s", leaks, s)
				}
			}
		})
	}
}

// panickingEngine panics on every question, with every secret in the panic
// value.
type panickingEngine struct{}

func (panickingEngine) Answer(context.Context, string, ...search.AskOption) (search.Answer, error) {
	panic(echoing(leakedPanic, bothSecrets))
}

func (panickingEngine) Lookup(string, knowledge.Lang) (search.Answer, error) {
	panic(echoing(leakedPanic, bothSecrets))
}

func (panickingEngine) Close() error { return nil }
