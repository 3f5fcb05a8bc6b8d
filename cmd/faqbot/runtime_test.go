package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"faqbot/bot/discord"
	"faqbot/bot/telegram"
	"faqbot/bot/telegram/telegramtest"
)

// TestMain fails the package's tests if any goroutine outlives them. Bleve
// starts a pool of analysis workers when it is loaded; they live as long
// as the process.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, bleveWorkers)
}

var bleveWorkers = goleak.IgnoreTopFunction("github.com/blevesearch/bleve_index_api.AnalysisWorker")

// checkNoLeaks registers, first, a cleanup that runs last: when the fakes
// are closed, no goroutine of the test may be left.
func checkNoLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore, bleveWorkers) })
}

// A guide of three entries (two of them close enough for "how do I log
// out" to be asked back), then a broken version of it, then one with a
// fourth entry.
const (
	guideV1 = `---
guide: faq
lang: en
---

## Log out of the web app {#web-log-out}

Questions:
- how do I log out of the web version
- sign out of WhatsApp Web

1. Open the menu.
2. Choose "Log out".

## Turn on two-step verification {#two-step}

Questions:
- how do I set a PIN

Go to "Settings" > "Account".

## Log out of the desktop app {#desktop-log-out}

Questions:
- how do I log out of the desktop version
- sign out of WhatsApp Desktop

1. Open the menu.
2. Choose "Log out".
`
	guideBroken = guideV1 + `
## Back up your chats

Questions:
- how do I back up my chats

Settings > Chats > Chat backup.
`
	guideV2 = guideV1 + `
## Back up your chats {#backup}

Questions:
- how do I back up my chats

Settings > Chats > Chat backup.
`
)

func testTelegram(f *telegramtest.FakeAPI) *telegram.Config {
	c := telegram.DefaultConfig()
	c.Token = tgToken
	c.APIURL = f.URL()
	c.PollTimeout = time.Second
	c.RequestTimeout = 5 * time.Second
	return &c
}

func testDiscord(f *fakeDiscord) *discord.Config {
	c := discord.DefaultConfig()
	c.Token = dcToken
	c.APIURL = f.apiURL()
	c.OpenTimeout = 5 * time.Second
	c.DeferAfter = 2 * time.Second
	return &c
}

// opsClient reads the ops listener; its connections are closed with the
// test.
func opsClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// metric returns the value of the sample line name{labels} in a
// Prometheus text exposition, or -1 when there is none.
func metric(exposition, series string) float64 {
	sc := bufio.NewScanner(strings.NewReader(exposition))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

func waitMetric(t *testing.T, c *http.Client, base, series string, want float64) string {
	t.Helper()
	var body string
	waitFor(t, fmt.Sprintf("%s = %v", series, want), func() bool {
		_, body = get(t, c, base+"/metrics")
		return metric(body, series) == want
	})
	return body
}

type logRow struct {
	Adapter, UserHash, Lang, Question, Outcome, EntryID string
}

func readLog(t *testing.T, path string) (questions []logRow, feedback [][2]string) {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT adapter, user_hash, lang, question, outcome, entry_id FROM questions ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r logRow
		if err := rows.Scan(&r.Adapter, &r.UserHash, &r.Lang, &r.Question, &r.Outcome, &r.EntryID); err != nil {
			t.Fatal(err)
		}
		questions = append(questions, r)
	}
	rows.Close()
	rows, err = db.Query(`SELECT f.helpful, COALESCE(q.question, '') FROM feedback f LEFT JOIN questions q ON q.id = f.question_id ORDER BY f.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var helpful bool
		var q string
		if err := rows.Scan(&helpful, &q); err != nil {
			t.Fatal(err)
		}
		feedback = append(feedback, [2]string{strconv.FormatBool(helpful), q})
	}
	return questions, feedback
}

// readChosen returns the adapter and chosen entry of every clarification
// in the log, in order.
func readChosen(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT adapter, chosen FROM questions WHERE outcome = 'clarify' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var adapter, chosen string
		if err := rows.Scan(&adapter, &chosen); err != nil {
			t.Fatal(err)
		}
		out = append(out, adapter, chosen)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRuntimeServesBothAdapters runs faqbot with both adapters against the
// fakes: questions are answered on both, logged, counted in /metrics,
// feedback is linked to its answer, a choice after a clarification to the
// clarification (and reported), a broken guide on reload keeps the
// old one serving, a good one is picked up, and the stop is clean.
func TestRuntimeServesBothAdapters(t *testing.T) {
	checkNoLeaks(t)
	tg, dc := newFakeTelegram(t), newFakeDiscord(t)
	dir := t.TempDir()
	guide := filepath.Join(dir, "guides", "faq.en.md")
	os.MkdirAll(filepath.Dir(guide), 0o755)
	if err := os.WriteFile(guide, []byte(guideV1), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Guides = filepath.Dir(guide)
	cfg.CacheDir = ""
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.QLog.Path = filepath.Join(dir, "questions.db")
	cfg.Telegram, cfg.Discord = testTelegram(tg), testDiscord(dc)
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rt, err := New(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	var runErr error
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case runErr = <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("Run did not return after a stop")
		}
	}
	t.Cleanup(stop) // before the leak check, also when the test fails early
	defer func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	}()
	base := "http://" + rt.opsLn.Addr().String()
	ops := opsClient(t)
	waitFor(t, "/readyz to say ready", func() bool { code, _ := get(t, ops, base+"/readyz"); return code == 200 })
	if code, body := get(t, ops, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}

	// Questions on both adapters.
	id1 := tgPush(tg, tgPrivate(42, "how do I log out of the web version"))
	if r := tgWaitReply(t, tg, id1); !strings.Contains(r.Text, "Log out of the web app") || !strings.Contains(r.Call.Fields["reply_markup"], "y|en|web-log-out") {
		t.Errorf("Telegram reply %+v: want the web-log-out entry with feedback buttons", r)
	}
	id2 := tgPush(tg, tgPrivate(43, "what is the weather in Paris"))
	tgWaitReply(t, tg, id2)
	dc.dispatch("MESSAGE_CREATE", dcDM("m1", "5001", "sign out of WhatsApp Web"))
	if m := dc.waitSent(t, "message", 1)[0]; !strings.Contains(m.Body, "Log out of the web app") || !strings.Contains(m.Body, "y|en|web-log-out") {
		t.Errorf("Discord reply %s: want the web-log-out entry with feedback buttons", m.Body)
	}
	// Feedback on both.
	tgPush(tg, tgPress("cb1", 42, id1, "n|en|web-log-out"))
	dc.dispatch("INTERACTION_CREATE", dcPress("i1", "5001", "y|en|web-log-out"))
	waitFor(t, "Telegram's answerCallbackQuery", func() bool { return len(tg.Calls("answerCallbackQuery")) >= 1 })
	dc.waitSent(t, "callback", 1)

	body := waitMetric(t, ops, base, `faqbot_feedback_total{adapter="discord",helpful="true"}`, 1)
	for series, want := range map[string]float64{
		`faqbot_questions_total{adapter="telegram",outcome="answered"}`: 1,
		`faqbot_questions_total{adapter="telegram",outcome="none"}`:     1,
		`faqbot_questions_total{adapter="discord",outcome="answered"}`:  1,
		`faqbot_feedback_total{adapter="telegram",helpful="false"}`:     1,
		`faqbot_answer_duration_seconds_count{adapter="telegram"}`:      2,
		`faqbot_answer_confidence_count{adapter="discord"}`:             1,
		`faqbot_adapter_connected{adapter="telegram"}`:                  1,
		`faqbot_adapter_connected{adapter="discord"}`:                   1,
		`faqbot_guide_entries`:                                          3,
		`faqbot_flood_dropped_total{adapter="telegram"}`:                0,
	} {
		if got := metric(body, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if !regexp.MustCompile(`(?m)^faqbot_build_info\{.*goversion="go`).MatchString(body) {
		t.Error("no faqbot_build_info")
	}

	// The question log, once written out.
	fctx, fcancel := context.WithTimeout(ctx, 5*time.Second)
	if err := rt.qlog.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	fcancel()
	qs, fb := readLog(t, cfg.QLog.Path)
	want := []logRow{
		{"telegram", "", "en", "how do i log out of the web version", "answered", "web-log-out"},
		{"telegram", "", "en", "what is the weather in paris", "none", ""},
		{"discord", "", "en", "sign out of whatsapp web", "answered", "web-log-out"},
	}
	if len(qs) != len(want) {
		t.Fatalf("logged %+v, want %d rows", qs, len(want))
	}
	for i := range want {
		if len(qs[i].UserHash) != 32 {
			t.Errorf("row %d: user hash %q", i, qs[i].UserHash)
		}
		want[i].UserHash = qs[i].UserHash
		if qs[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, qs[i], want[i])
		}
	}
	slices.SortFunc(fb, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) }) // they come in either order
	if wantFB := [][2]string{{"false", "how do i log out of the web version"}, {"true", "sign out of whatsapp web"}}; fmt.Sprint(fb) != fmt.Sprint(wantFB) {
		t.Errorf("feedback %v, want %v (each linked to its question)", fb, wantFB)
	}

	body = waitMetric(t, ops, base, `faqbot_question_log_rows_total{table="questions"}`, 3)
	if got := metric(body, `faqbot_question_log_rows_total{table="feedback"}`); got != 2 {
		t.Errorf("feedback rows written: %v, want 2", got)
	}

	// Clarifications on both adapters, and a choice pressed under each: it
	// is counted, set on the clarification in the log, and reported.
	id5 := tgPush(tg, tgPrivate(46, "how do I log out"))
	clar := tgWaitReply(t, tg, id5)
	for _, data := range []string{"a|en|web-log-out", "a|en|desktop-log-out"} {
		if !strings.Contains(clar.Call.Fields["reply_markup"], data) {
			t.Fatalf("Telegram clarification %+v: want a button %s", clar, data)
		}
	}
	tgPush(tg, tgPress("cb2", 46, clar.ID, "a|en|desktop-log-out"))
	if r := tgWaitReply(t, tg, clar.ID); !strings.Contains(r.Text, "Log out of the desktop app") {
		t.Errorf("after the button: %q, want the desktop-log-out entry", r.Text)
	}
	dc.dispatch("MESSAGE_CREATE", dcDM("m2", "5003", "how do I log out"))
	if m := dc.waitSent(t, "message", 2)[1]; !strings.Contains(m.Body, "a|en|desktop-log-out") {
		t.Fatalf("Discord clarification %s: want a button for desktop-log-out", m.Body)
	}
	dc.dispatch("INTERACTION_CREATE", dcPress("i2", "5003", "a|en|web-log-out"))
	if r := dc.waitSent(t, "callback", 2)[1]; !strings.Contains(r.Body, "Log out of the web app") {
		t.Errorf("Discord after the button: %s, want the web-log-out entry", r.Body)
	}
	body = waitMetric(t, ops, base, `faqbot_question_log_choices_total{linked="true"}`, 2)
	for series, want := range map[string]float64{
		`faqbot_choices_total{adapter="telegram"}`:                     1,
		`faqbot_choices_total{adapter="discord"}`:                      1,
		`faqbot_questions_total{adapter="telegram",outcome="clarify"}`: 1,
		`faqbot_questions_total{adapter="discord",outcome="clarify"}`:  1,
		`faqbot_question_log_choices_total{linked="false"}`:            0,
	} {
		if got := metric(body, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if got := readChosen(t, cfg.QLog.Path); fmt.Sprint(got) != "[telegram desktop-log-out discord web-log-out]" {
		t.Errorf("clarifications in the log and their choices %q, want telegram's desktop-log-out and discord's web-log-out", got)
	}
	var report bytes.Buffer
	if code := run(ctx, []string{"report", "-qlog-path", cfg.QLog.Path}, env(nil), &report, io.Discard); code != 0 {
		t.Fatalf("faqbot report: exit %d", code)
	}
	if !regexp.MustCompile(`(?m)^2 +web-log-out, desktop-log-out +desktop-log-out 1, web-log-out 1 +how do i log out$`).MatchString(report.String()) ||
		!strings.Contains(report.String(), "Choices:   picked after 2 of 2 clarifications (100.0%)") {
		t.Errorf("the report does not show the choices:\n%s", report.String())
	}

	// Flood control: a sixth message within seconds from one Discord user
	// is dropped (with a notice), and counted.
	for i := range 6 {
		dc.dispatch("MESSAGE_CREATE", dcDM(fmt.Sprint("f", i), "5002", "hi"))
	}
	waitMetric(t, ops, base, `faqbot_flood_dropped_total{adapter="discord"}`, 1)

	// A broken guide: the reload fails with file:line, the old guide serves.
	if err := os.WriteFile(guide, []byte(guideBroken), 0o644); err != nil {
		t.Fatal(err)
	}
	err = rt.Reload()
	if err == nil || !strings.Contains(err.Error(), "faq.en.md:31") {
		t.Fatalf("reload of a broken guide: %v, want an error at faq.en.md:31", err)
	}
	if !strings.Contains(logs.String(), "faq.en.md:31") || !strings.Contains(logs.String(), "keep serving") {
		t.Errorf("the logs do not name the problem's file:line")
	}
	id3 := tgPush(tg, tgPrivate(44, "sign out of WhatsApp Web"))
	if r := tgWaitReply(t, tg, id3); !strings.Contains(r.Text, "Log out of the web app") {
		t.Errorf("after a failed reload: %q, want the old guide's answer", r.Text)
	}
	body = waitMetric(t, ops, base, `faqbot_reloads_total{result="failed"}`, 1)
	if got := metric(body, `faqbot_guide_entries`); got != 3 {
		t.Errorf("entries after a failed reload: %v, want 3", got)
	}

	// A good guide: the new entry answers.
	if err := os.WriteFile(guide, []byte(guideV2), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rt.Reload(); err != nil {
		t.Fatal(err)
	}
	id4 := tgPush(tg, tgPrivate(45, "how do I back up my chats"))
	if r := tgWaitReply(t, tg, id4); !strings.Contains(r.Text, "Back up your chats") {
		t.Errorf("after a reload: %q, want the new entry", r.Text)
	}
	body = waitMetric(t, ops, base, `faqbot_reloads_total{result="ok"}`, 1)
	if got := metric(body, `faqbot_guide_entries`); got != 4 {
		t.Errorf("entries after the reload: %v, want 4", got)
	}

	stop()
	if runErr != nil {
		t.Errorf("Run: %v", runErr)
	}
	if _, err := ops.Get(base + "/healthz"); err == nil {
		t.Error("the ops listener still serves after Run returned")
	}
	if err := rt.Reload(); err == nil {
		t.Error("Reload after Run succeeded")
	}
	for _, secret := range []string{tgToken, dcToken, strings.SplitN(tgToken, ":", 2)[1]} {
		if strings.Contains(logs.String(), secret) {
			t.Error("a token is in the logs")
		}
	}
}

// opsAddr finds the ops listener's address in faqbot's JSON log.
func opsAddr(logs *syncBuffer) string {
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var rec struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "ops listener" {
			return rec.Addr
		}
	}
	return ""
}

// TestSignals runs faqbot as main does, configured by the environment,
// and sends it real signals: SIGHUP reloads the guides; SIGTERM during a
// burst of questions, whose replies are held up in flight, loses none of
// them, writes every one to the question log and exits 0.
func TestSignals(t *testing.T) {
	checkNoLeaks(t)
	tg, dc := newFakeTelegram(t), newFakeDiscord(t)
	dbPath := filepath.Join(t.TempDir(), "faqbot.db")
	env := map[string]string{
		"TELEGRAM_BOT_TOKEN": tgToken, "TELEGRAM_API_URL": tg.URL(),
		"DISCORD_BOT_TOKEN": dcToken, "DISCORD_API_URL": dc.apiURL(),
		"FAQBOT_HTTP_ADDR": "127.0.0.1:0", "FAQBOT_QLOG_PATH": dbPath,
		"FAQBOT_LOG_FORMAT": "json", "FAQBOT_SHUTDOWN_TIMEOUT": "10s", "FAQBOT_CACHE_DIR": "",
	}
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(context.Background(), nil, func(k string) string { return env[k] }, &stdout, &stderr)
	}()
	defer func() {
		if t.Failed() {
			t.Logf("stderr:\n%s", stderr.String())
		}
	}()
	var base string
	waitFor(t, "the ops listener", func() bool {
		if a := opsAddr(&stderr); a != "" {
			base = "http://" + a
			return true
		}
		return len(code) > 0
	})
	if base == "" {
		t.Fatalf("faqbot exited with %d", <-code)
	}
	ops := opsClient(t)
	waitFor(t, "/readyz to say ready", func() bool { c, _ := get(t, ops, base+"/readyz"); return c == 200 })

	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, ops, base, `faqbot_reloads_total{result="ok"}`, 1)

	// A burst on both adapters, every reply held at the fakes.
	const n = 20
	releaseTelegram := tg.Hold("sendMessage")
	dc.sends.hold()
	defer releaseTelegram()
	defer dc.sends.open()
	ids := map[int]bool{}
	for i := range n {
		ids[tgPush(tg, tgPrivate(int64(100+i), "how do I log out of WhatsApp Web"))] = true
		dc.dispatch("MESSAGE_CREATE", dcDM(fmt.Sprint("b", i), fmt.Sprint(6000+i), "how do I log out of WhatsApp Web"))
	}
	waitMetric(t, ops, base, `faqbot_questions_total{adapter="telegram",outcome="answered"}`, n)
	waitMetric(t, ops, base, `faqbot_questions_total{adapter="discord",outcome="answered"}`, n)
	if got := len(tg.Sent()) + len(dc.messages("message")); got != 0 {
		t.Fatalf("%d replies went out while held", got)
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "/readyz to say stopping", func() bool { c, _ := get(t, ops, base+"/readyz"); return c == 503 })
	releaseTelegram()
	dc.sends.open()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit code %d, want 0", c)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("faqbot did not exit after SIGTERM")
	}

	replied := map[int]bool{}
	for _, m := range tg.Sent() {
		replied[m.ReplyTo] = true
	}
	for id := range ids {
		if !replied[id] {
			t.Errorf("Telegram message %d was never answered", id)
		}
	}
	if got := len(dc.messages("message")); got != n {
		t.Errorf("%d Discord replies, want %d", got, n)
	}
	if got, want := tg.Confirmed(), tgLastUpdate(tg)+1; got != want {
		t.Errorf("Telegram updates confirmed up to %d, want %d: they would come again after a restart", got, want)
	}
	qs, _ := readLog(t, dbPath)
	if len(qs) != 2*n {
		t.Errorf("%d rows in the question log, want %d", len(qs), 2*n)
	}
	if !strings.Contains(stderr.String(), `"msg":"stopped"`) {
		t.Error("no clean stop in the logs")
	}
}
