package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"faqbot/bot/qlog"
	"faqbot/search"
)

// envMain holds the arguments (one a line) of faqbot's main when the test
// binary runs as faqbot (see TestMainProcess).
const envMain = "FAQBOT_TEST_MAIN_ARGS"

// TestMainProcess is faqbot's main when the test binary runs as a child
// of the tests below, which send it real signals; otherwise it skips.
func TestMainProcess(t *testing.T) {
	args, ok := os.LookupEnv(envMain)
	if !ok {
		t.Skip("faqbot's main, for the signal tests' child processes")
	}
	os.Args = []string{"faqbot"}
	if args != "" {
		os.Args = append(os.Args, strings.Split(args, "\n")...)
	}
	main()
}

// startMain starts faqbot's main in a child process with env and args.
func startMain(t *testing.T, env map[string]string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainProcess$")
	// The test's own environment, without any faqbot setting.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FAQBOT_") && !strings.HasPrefix(kv, "TELEGRAM_") && !strings.HasPrefix(kv, "DISCORD_") && !strings.HasPrefix(kv, "LOG_LEVEL=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, envMain+"="+strings.Join(args, "\n"))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, stderr
}

// waitExit waits for cmd to end and returns how.
func waitExit(t *testing.T, cmd *exec.Cmd, within time.Duration) syscall.WaitStatus {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.Sys().(syscall.WaitStatus)
	case <-time.After(within):
		t.Fatalf("the process did not end within %v", within)
		return 0
	}
}

// TestSecondSignalExitsAtOnce: faqbot finishing an answer held up for
// minutes exits at once, with 130, at a second SIGTERM.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	checkNoLeaks(t)
	dc := newFakeDiscord(t)
	// One request from this process first. The race detector orders the
	// fake's set-up before its handlers through this process's own socket
	// writes (syscall.Write, then the handler's Read); the child's writes
	// are not this process's.
	get(t, opsClient(t), dc.apiURL()+"/v9/gateway")
	dc.sends.hold()
	defer dc.sends.open()
	cmd, stderr := startMain(t, map[string]string{
		"DISCORD_BOT_TOKEN": dcToken, "DISCORD_API_URL": dc.apiURL(),
		"FAQBOT_HTTP_ADDR": "127.0.0.1:0", "FAQBOT_QLOG_PATH": filepath.Join(t.TempDir(), "faqbot.db"),
		"FAQBOT_LOG_FORMAT": "json", "FAQBOT_SHUTDOWN_TIMEOUT": "5m", "FAQBOT_CACHE_DIR": "",
	})
	defer func() {
		if t.Failed() {
			t.Logf("faqbot's stderr:\n%s", stderr)
		}
	}()
	var base string
	waitFor(t, "the ops listener", func() bool {
		if a := opsAddr(stderr); a != "" {
			base = "http://" + a
		}
		return base != ""
	})
	ops := opsClient(t)
	waitFor(t, "/readyz to say ready", func() bool { c, _ := get(t, ops, base+"/readyz"); return c == 200 })
	dc.dispatch("MESSAGE_CREATE", dcDM("m1", "5001", "how do I log out of WhatsApp Web"))
	waitMetric(t, ops, base, `faqbot_questions_total{adapter="discord",outcome="answered"}`, 1)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stop to begin", func() bool { return strings.Contains(stderr.String(), "finishing the answers in flight") })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if ws := waitExit(t, cmd, 20*time.Second); ws.ExitStatus() != 130 {
		t.Errorf("exit status %v, want 130", ws)
	}
	if n := len(dc.messages("message")); n != 0 {
		t.Errorf("%d replies sent, want none: it was held", n)
	}
}

// TestReportStopsAtFirstSignal: faqbot report waiting on a locked log ends
// at the first Ctrl-C (SIGINT's default), instead of finishing its wait.
func TestReportStopsAtFirstSignal(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs /proc to see the child open the log")
	}
	path := filepath.Join(t.TempDir(), "faqbot.db")
	cfg := qlog.DefaultConfig()
	cfg.Path = path
	l, err := qlog.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Record(qlog.Question{Adapter: "discord", User: "1", Question: "q", Outcome: search.None})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Another process holds the log exclusively: the report waits for it
	// (5 s, then fails).
	lock := writeLock(t, path)
	defer lock()

	cmd, stderr := startMain(t, nil, "report", "-qlog-path", path, "-since", "2000-01-01")
	// Once it has the log open, it is past any signal set-up.
	waitFor(t, "the report to open the log", func() bool { return hasOpen(cmd.Process.Pid, path) })
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	ws := waitExit(t, cmd, 20*time.Second)
	if !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Errorf("the report ended with %v (stderr %q), want killed by SIGINT", describe(ws), stderr)
	}
}

func describe(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return fmt.Sprint("exit status ", ws.ExitStatus())
}

// writeLock takes the log at path for itself (locking_mode EXCLUSIVE: no
// one else may read it) until release is called.
func writeLock(t *testing.T, path string) (release func()) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=locking_mode(EXCLUSIVE)")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"BEGIN EXCLUSIVE", "INSERT INTO meta (key, value) VALUES ('lock', 'x')"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		conn.ExecContext(ctx, "ROLLBACK")
		conn.Close()
		db.Close()
	}
}

// hasOpen reports whether process pid has path open.
func hasOpen(pid int, path string) bool {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && target == path {
			return true
		}
	}
	return false
}
