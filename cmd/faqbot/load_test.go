package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"faqbot/bot/telegram"
	"faqbot/bot/telegram/telegramtest"
)

// TestLoad runs faqbot as a whole — configured as main configures it
// (TELEGRAM_API_URL pointing at telegramtest's fake Bot API), with the real
// engine over the shipped guides, the question log (SQLite) and the
// metrics — under telegramtest.DefaultLoad: 200 users asking 2,000
// questions in 20 s. The overall send rate is raised from Telegram's 30 a
// second to 200, as in the adapter's TestLoad (at 30 a second 2,000
// answers take 67 s by design; faqbot has no setting for it, so the test
// sets it in the configuration before New). Every question is answered
// exactly once, counted in /metrics and written to the question log; after
// the burst the goroutines return to their number before it and the heap,
// once collected, stays within a generous bound; no goroutine outlives
// the stop. The figures are logged (make load runs this without the race
// detector), not asserted.
func TestLoad(t *testing.T) {
	checkNoLeaks(t)
	eng := shippedEngine(t)
	for _, q := range telegramtest.LoadQuestions {
		a, err := eng.Answer(context.Background(), q)
		if err != nil || len(telegram.Render(a)) != 1 {
			t.Fatalf("test premise: %q has a one-message answer (%v)", q, err)
		}
	}
	eng.Close()

	api := telegramtest.NewFakeAPI(t)
	dbPath := filepath.Join(t.TempDir(), "faqbot.db")
	cfg, _, err := loadConfig("faqbot", nil, env(map[string]string{
		"TELEGRAM_BOT_TOKEN": telegramtest.Token, "TELEGRAM_API_URL": api.URL(),
		"FAQBOT_HTTP_ADDR": "127.0.0.1:0", "FAQBOT_QLOG_PATH": dbPath,
	}), io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Telegram.GlobalPerSecond = 200
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rt, err := New(ctx, cfg, newLogger(cfg, logs))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return after a stop")
			return nil
		}
	}
	t.Cleanup(func() { stop() }) // before the leak check, also when the test fails early
	defer func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	}()
	base := "http://" + rt.opsLn.Addr().String()
	ops := opsClient(t)
	waitFor(t, "/readyz to say ready", func() bool { code, _ := get(t, ops, base+"/readyz"); return code == 200 })

	// Warm up (the engine's first answers, the connections), then take
	// the baseline.
	api.Push(tgPrivate(1, "hello"), tgPrivate(2, "網頁版怎麼登出"))
	api.WaitSent(t, 2)
	const warmUp = 2
	goroutinesBefore, heapBefore := settleRuntime(rt, ops)

	lctx, lcancel := context.WithTimeout(ctx, 90*time.Second)
	defer lcancel()
	spec := telegramtest.DefaultLoad()
	report, err := telegramtest.RunLoad(lctx, api, spec)
	t.Logf("load: %v", report)
	if err != nil {
		t.Fatal(err)
	}
	asked := spec.Users * spec.PerUser
	if report.Asked != asked || report.Answered != asked || report.Repeated != 0 {
		t.Errorf("%d asked, %d answered once, %d repeated; want %d, %d, 0", report.Asked, report.Answered, report.Repeated, asked, asked)
	}

	// Counted in /metrics, and written to the question log.
	fctx, fcancel := context.WithTimeout(ctx, 10*time.Second)
	if err := rt.qlog.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	fcancel()
	_, body := get(t, ops, base+"/metrics")
	total := float64(asked + warmUp)
	for _, c := range []struct {
		series string // a whole series, or its name and first labels: summed
		want   float64
		absent bool // the series may be missing (a vector without that label yet)
	}{
		{`faqbot_questions_total{adapter="telegram",`, total, false},
		{`faqbot_answer_duration_seconds_count{adapter="telegram"}`, total, false},
		{`faqbot_question_log_rows_total{table="questions"}`, total, false},
		{`faqbot_question_log_dropped_total`, 0, false},
		{`faqbot_question_log_failed_total`, 0, false},
		{`faqbot_flood_dropped_total{adapter="telegram"}`, 0, false},
		{`faqbot_questions_total{adapter="telegram",outcome="error"}`, 0, true},
		{`faqbot_adapter_errors_total{adapter="telegram",`, 0, true},
	} {
		got, n := metricSum(body, c.series)
		if got != c.want || (n == 0 && !c.absent) {
			t.Errorf("/metrics: %s… = %v (%d series), want %v", c.series, got, n, c.want)
		}
	}
	sum := func(series string) float64 { v, _ := metricSum(body, series); return v }
	t.Logf("load: /metrics: %v questions (%v answered, %v declined, %v small talk, %v to clarify), %v logged; engine time per question: mean %.0f µs",
		sum(`faqbot_questions_total{adapter="telegram",`),
		sum(`faqbot_questions_total{adapter="telegram",outcome="answered"}`),
		sum(`faqbot_questions_total{adapter="telegram",outcome="none"}`),
		sum(`faqbot_questions_total{adapter="telegram",outcome="chitchat"}`),
		sum(`faqbot_questions_total{adapter="telegram",outcome="clarify"}`),
		sum(`faqbot_question_log_rows_total{table="questions"}`),
		1e6*sum(`faqbot_answer_duration_seconds_sum{adapter="telegram"}`)/sum(`faqbot_answer_duration_seconds_count{adapter="telegram"}`))

	// Back to the baseline: the answers' goroutines end. Idle connections
	// are closed before both counts; slack is for a connection the long
	// poll opens meanwhile.
	const slack = 3
	var goroutinesAfter int
	var heapAfter uint64
	deadline := time.Now().Add(15 * time.Second)
	for {
		goroutinesAfter, heapAfter = settleRuntime(rt, ops)
		if goroutinesAfter <= goroutinesBefore+slack || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // polling interval
	}
	t.Logf("load: goroutines %d before, %d after; heap after collection %.1f MB before, %.1f MB after; peak RSS of the test process %s",
		goroutinesBefore, goroutinesAfter, mb(heapBefore), mb(heapAfter), peakRSS())
	if goroutinesAfter > goroutinesBefore+slack {
		t.Errorf("%d goroutines after the burst, %d before: some did not end", goroutinesAfter, goroutinesBefore)
	}
	// What stays: the fake's record of 2,000 calls, the adapter's bounded
	// memories of users, chats and updates, and the metrics: a few MB.
	const bound = 48 << 20
	if heapAfter > heapBefore+bound {
		t.Errorf("heap after collection grew from %.1f MB to %.1f MB, beyond %d MB", mb(heapBefore), mb(heapAfter), bound>>20)
	}

	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	if n := len(api.Sent()); n != asked+warmUp {
		t.Errorf("%d messages sent, want %d", n, asked+warmUp)
	}
	// Every question in the log, once the stop has written it out: each
	// user's, under their own hash.
	db, err := sql.Open("sqlite", dbPath+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, users, loadUsers int
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT user_hash) FROM questions WHERE adapter = 'telegram'`).Scan(&rows, &users); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM (SELECT user_hash FROM questions GROUP BY user_hash HAVING COUNT(*) = ?)`, spec.PerUser).Scan(&loadUsers); err != nil {
		t.Fatal(err)
	}
	if rows != asked+warmUp || users != spec.Users+warmUp || loadUsers != spec.Users {
		t.Errorf("question log: %d rows from %d users, %d of them with %d questions; want %d rows from %d users, %d with %d",
			rows, users, loadUsers, spec.PerUser, asked+warmUp, spec.Users+warmUp, spec.Users, spec.PerUser)
	}
}

// settleRuntime closes the idle connections of faqbot's HTTP transport and
// of the clients, collects garbage and returns the number of goroutines
// and the bytes of live heap.
func settleRuntime(rt *Runtime, clients ...*http.Client) (goroutines int, heap uint64) {
	rt.transport.CloseIdleConnections()
	for _, c := range clients {
		c.CloseIdleConnections()
	}
	time.Sleep(50 * time.Millisecond) // for the connections' goroutines to see the close
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m.HeapAlloc
}

// metricSum adds up the samples of a Prometheus text exposition whose
// series is prefix, or starts with it when it ends in "{" or "," (a name
// and its first labels); n is how many there were.
func metricSum(exposition, prefix string) (sum float64, n int) {
	sc := bufio.NewScanner(strings.NewReader(exposition))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		series := line[:i]
		if series != prefix && !strings.HasSuffix(prefix, ",") && !strings.HasSuffix(prefix, "{") {
			continue // another series whose name starts the same
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			sum += v
			n++
		}
	}
	return sum, n
}

// peakRSS is the most resident memory the process has had (Linux's
// VmHWM), or "unknown".
func peakRSS() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err == nil {
				return fmt.Sprintf("%.1f MB", kb/1024)
			}
		}
	}
	return "unknown"
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }
