// Command benchreport prints the performance report of "make bench": the
// lean dictionary against gse's full one, side by side, and the cost curve
// on synthetic guides of growing size.
//
//	benchreport -askcli bin/askcli -naive bin/askcli-gse -faqbot bin/faqbot -devset FILE
//
// Times are medians (and p99 where stated) over repeated runs; the machine
// is shared and noisy, so compare ratios rather than single figures. The
// load average before and after is printed to say how noisy a run was, and
// cold starts are given in CPU time too, which a busy machine inflates
// less than wall time.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"faqbot/knowledge"
	"faqbot/search"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "-measure" {
		measure(os.Args[2:])
		return
	}
	askcli := flag.String("askcli", "bin/askcli", "askcli built as shipped (-tags ne)")
	naive := flag.String("naive", "", "askcli built without -tags ne (gse's embedded dictionaries), for its size")
	faqbot := flag.String("faqbot", "", "faqbot as shipped, for its size")
	devset := flag.String("devset", "search/testdata/eval/dev.jsonl", "development question set")
	words := flag.String("words", "search/dict/zh.txt.gz", "word list for synthetic guides")
	runs := flag.Int("runs", 21, "cold starts per setup (the median is reported)")
	growth := flag.String("growth", "14,500,5000", "synthetic guide sizes (entries)")
	flag.Parse()
	if err := run(*askcli, *naive, *faqbot, *devset, *words, *runs, *growth); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

type setup struct {
	name string
	full bool
}

var setups = []setup{{"lean dictionary", false}, {"gse full dictionary", true}}

func run(askcli, naive, faqbot, devset, words string, runs int, growth string) error {
	ctx := context.Background()
	f, err := os.Open(devset)
	if err != nil {
		return err
	}
	cases, err := search.ReadEvalCases(f)
	f.Close()
	if err != nil {
		return err
	}
	base, err := knowledge.Shipped()
	if err != nil {
		return err
	}
	fmt.Printf("faqbot performance report — %s, GOMAXPROCS=%d, %s, load average %s\n\n", runtime.Version(), runtime.GOMAXPROCS(0), time.Now().UTC().Format("2006-01-02"), loadAverage())
	defer func() { fmt.Printf("\nload average at the end: %s\n", loadAverage()) }()

	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "shipped guides\tlean dictionary\tgse full dictionary\tratio\t")
	row := func(name string, a, b float64, format string) {
		ratio := "–"
		if a > 0 {
			ratio = fmt.Sprintf("%.1f×", b/a)
		}
		fmt.Fprintf(tw, "%s\t"+format+"\t"+format+"\t%s\t\n", name, a, b, ratio)
	}

	// A Simplified and a Traditional Chinese question: a reply in
	// Traditional Chinese is converted from the Simplified guide.
	var cold, cpu, rss, coldTrad, cpuTrad, rssTrad [2]float64
	for i, s := range setups {
		dict := "lean"
		if s.full {
			dict = "full"
		}
		c, err := coldStart(askcli, []string{"-dictionary", dict, "网页版怎么退出"}, runs, nil)
		if err != nil {
			return err
		}
		cold[i], cpu[i], rss[i] = c.wall, c.cpu, c.rss
		if c, err = coldStart(askcli, []string{"-dictionary", dict, "網頁版怎麼登出"}, runs, nil); err != nil {
			return err
		}
		coldTrad[i], cpuTrad[i], rssTrad[i] = c.wall, c.cpu, c.rss
	}
	row("askcli cold start, median (ms)", cold[0], cold[1], "%.1f")
	row("askcli cold start, CPU time (ms)", cpu[0], cpu[1], "%.1f")
	row("askcli peak RSS (MB)", rss[0], rss[1], "%.1f")
	row("… in Traditional Chinese (ms)", coldTrad[0], coldTrad[1], "%.1f")
	row("… its CPU time (ms)", cpuTrad[0], cpuTrad[1], "%.1f")
	row("… its peak RSS (MB)", rssTrad[0], rssTrad[1], "%.1f")

	var lat, latGC [2]latency
	var qps, qpsGC, build [2]float64
	var evals [2]search.EvalReport
	for i, s := range setups {
		cfg := search.DefaultConfig()
		cfg.FullDictionary = s.full
		// The median of a few builds; the last one is measured further.
		var builds []float64
		var eng *search.Engine
		for b := 0; b < 3; b++ {
			if eng != nil {
				eng.Close()
			}
			runtime.GC()
			start := time.Now()
			if eng, err = search.New(base, cfg); err != nil {
				return err
			}
			builds = append(builds, ms(time.Since(start)))
		}
		build[i] = median(builds)
		qs := questions(cases)
		lat[i] = measureLatency(ctx, eng, qs, 20)
		qps[i] = throughput(ctx, eng, qs, 2*time.Second)
		// The tail and the throughput are mostly a matter of garbage
		// collection, which a small heap (this process holds little but
		// the engine) triggers often: the same with the collector running
		// four times less often.
		old := debug.SetGCPercent(400)
		latGC[i] = measureLatency(ctx, eng, qs, 20)
		qpsGC[i] = throughput(ctx, eng, qs, 2*time.Second)
		debug.SetGCPercent(old)
		evals[i], err = search.Evaluate(ctx, eng, cases)
		if err != nil {
			return err
		}
		eng.Close()
	}
	row("engine build (ms)", build[0], build[1], "%.1f")
	row("Answer p50 (µs)", lat[0].p50, lat[1].p50, "%.1f")
	row("Answer p99 (µs)", lat[0].p99, lat[1].p99, "%.1f")
	row("Answer p99, GOGC=400 (µs)", latGC[0].p99, latGC[1].p99, "%.1f")
	row("Answer allocations", lat[0].allocs, lat[1].allocs, "%.0f")
	row("answers/s, all cores", qps[0], qps[1], "%.0f")
	row("answers/s, GOGC=400", qpsGC[0], qpsGC[1], "%.0f")
	if st, err := os.Stat(askcli); err == nil {
		naiveSize := 0.0
		if naive != "" {
			if ns, err := os.Stat(naive); err == nil {
				naiveSize = mb(ns.Size())
			}
		}
		row("binary size (MB)", mb(st.Size()), naiveSize, "%.1f")
	}
	if st, err := os.Stat(faqbot); faqbot != "" && err == nil {
		fmt.Fprintf(tw, "faqbot binary size (MB)\t%.1f\t\t\t\n", mb(st.Size()))
	}
	fmt.Fprintf(tw, "answered right (dev set)\t%.1f%%\t%.1f%%\t\t\n", 100*evals[0].AnsweredRight, 100*evals[1].AnsweredRight)
	fmt.Fprintf(tw, "wrong answers (dev set)\t%.1f%%\t%.1f%%\t\t\n", 100*evals[0].WrongRate, 100*evals[1].WrongRate)
	fmt.Fprintf(tw, "declined correctly (dev set)\t%.1f%%\t%.1f%%\t\t\n", 100*evals[0].DeclinedCorrectly, 100*evals[1].DeclinedCorrectly)
	tw.Flush()
	same := evals[0].AnsweredRight == evals[1].AnsweredRight && evals[0].WrongRate == evals[1].WrongRate && evals[0].DeclinedCorrectly == evals[1].DeclinedCorrectly
	fmt.Printf("\naccuracy identical: %v\n", same)

	// Growth: synthetic guides.
	fmt.Println("\nsynthetic guides (zh-Hans + en): engine build derives the lean dictionary; askcli's median start finds it cached")
	tw = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "entries\tload guides (ms)\tengine build (ms)\theap after build (MB)\tAnswer p50 (µs)\tAnswer p99 (µs)\taskcli cold start (ms)\taskcli peak RSS (MB)\t")
	pool, err := wordPool(words)
	if err != nil {
		return err
	}
	for _, field := range strings.Split(growth, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return fmt.Errorf("-growth: bad size %q", field)
		}
		dir, err := os.MkdirTemp("", "faqbot-synth-")
		if err != nil {
			return err
		}
		qs := writeSynthetic(dir, n, pool)
		start := time.Now()
		b, err := knowledge.LoadDir(dir)
		if err != nil {
			os.RemoveAll(dir)
			return err
		}
		load := ms(time.Since(start))
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start = time.Now()
		eng, err := search.New(b, search.DefaultConfig())
		if err != nil {
			os.RemoveAll(dir)
			return err
		}
		bt := ms(time.Since(start))
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		l := measureLatency(ctx, eng, qs, 3)
		// A fresh cache directory: the first start derives the dictionary
		// (and caches it), the median start finds it cached.
		cache, _ := os.MkdirTemp("", "faqbot-cache-")
		c, err := coldStart(askcli, []string{"-guides", dir, qs[0]}, 3, []string{"FAQBOT_CACHE_DIR=" + cache})
		os.RemoveAll(cache)
		eng.Close()
		os.RemoveAll(dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t\n", n, load, bt, mb(int64(after.HeapAlloc)-int64(before.HeapAlloc)), l.p50, l.p99, c.wall, c.rss)
	}
	tw.Flush()
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mb(b int64) float64         { return float64(b) / (1 << 20) }

// started is what cold starts measured: medians of wall time from start
// to exit and of CPU time (user and system) in ms, and of peak RSS in MB.
type started struct{ wall, cpu, rss float64 }

// coldStart runs the binary runs times and returns the medians.
//
// The runs go through a fresh, small copy of this program (-measure): on
// Linux a child's peak RSS starts from the high-water mark of the process
// that starts it, and this one holds whole engines by now. The measuring
// copy is smaller than what it measures, so the maximum is the child's own.
func coldStart(bin string, args []string, runs int, env []string) (started, error) {
	self, err := os.Executable()
	if err != nil {
		return started{}, err
	}
	cmd := exec.Command(self, append([]string{"-measure", strconv.Itoa(runs), bin}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return started{}, fmt.Errorf("%s %v: %w\n%s", bin, args, err, errb.String())
	}
	var times, cpu, rss []float64
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var t, c, r float64
		if _, err := fmt.Sscan(sc.Text(), &t, &c, &r); err == nil {
			times, cpu, rss = append(times, t), append(cpu, c), append(rss, r)
		}
	}
	if len(times) == 0 {
		return started{}, fmt.Errorf("no measurements from %s", bin)
	}
	return started{median(times), median(cpu), median(rss)}, nil
}

// measure runs "RUNS BIN ARGS…" RUNS times and prints, per run, the wall
// time and the CPU time in ms and the peak RSS in MB.
func measure(args []string) {
	runs, err := strconv.Atoi(args[0])
	if err != nil || len(args) < 2 {
		fmt.Fprintln(os.Stderr, "-measure RUNS BIN ARGS…")
		os.Exit(2)
	}
	for i := 0; i < runs; i++ {
		cmd := exec.Command(args[1], args[2:]...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "%v\n%s", err, out.String())
			os.Exit(1)
		}
		wall := ms(time.Since(start))
		rss := 0.0
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = float64(ru.Maxrss) / 1024 // KiB on Linux
		}
		cpu := ms(cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime())
		fmt.Printf("%.3f %.3f %.3f\n", wall, cpu, rss)
	}
}

// loadAverage returns the 1, 5 and 15 minute load averages, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

type latency struct{ p50, p99, allocs float64 }

func questions(cases []search.EvalCase) []string {
	qs := make([]string, len(cases))
	for i, c := range cases {
		qs[i] = c.Q
	}
	return qs
}

// measureLatency answers every question passes times, one at a time.
func measureLatency(ctx context.Context, eng *search.Engine, qs []string, passes int) latency {
	var d []float64
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	for p := 0; p < passes; p++ {
		for _, q := range qs {
			start := time.Now()
			eng.Answer(ctx, q)
			d = append(d, float64(time.Since(start).Nanoseconds())/1000)
		}
	}
	runtime.ReadMemStats(&ms1)
	slices.Sort(d)
	return latency{
		p50:    d[len(d)/2],
		p99:    d[len(d)*99/100],
		allocs: float64(ms1.Mallocs-ms0.Mallocs) / float64(len(d)),
	}
}

// throughput answers questions from every core for dur.
func throughput(ctx context.Context, eng *search.Engine, qs []string, dur time.Duration) float64 {
	var n atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(dur)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; time.Now().Before(stop); i++ {
				eng.Answer(ctx, qs[i%len(qs)])
				n.Add(1)
			}
		}(w)
	}
	wg.Wait()
	return float64(n.Load()) / dur.Seconds()
}

// wordPool reads common Chinese words from the word list.
func wordPool(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	var pool []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		word, freq, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(freq); err == nil && n >= 500 && len([]rune(word)) >= 2 {
			pool = append(pool, word)
		}
	}
	return pool, sc.Err()
}

var english = strings.Fields(`account access alarm answer app backup battery block browser button cache
call camera change chat check clear close cloud code computer connect contact copy data delete device
disable download edit email enable error export file find folder forward group help history image
install keyboard language link list lock login logout media memory menu message mobile mute network
notification number open password phone photo pin privacy profile receive recover remove reset restore
save screen search security send session settings share sign status storage switch sync tablet update
upload user verify video voice wallpaper web window`)

// writeSynthetic writes a guide of n entries in zh-Hans and en into dir
// and returns one question per entry, reworded from its alternate
// questions (so it must be searched for, not looked up).
func writeSynthetic(dir string, n int, pool []string) []string {
	rng := rand.New(rand.NewSource(int64(n)))
	zh := func(k int) string {
		var b strings.Builder
		for i := 0; i < k; i++ {
			b.WriteString(pool[rng.Intn(len(pool))])
		}
		return b.String()
	}
	en := func(k int) string {
		ws := make([]string, k)
		for i := range ws {
			ws[i] = english[rng.Intn(len(english))]
		}
		return strings.Join(ws, " ")
	}
	// Several guides of at most 250 entries each, as an operator would
	// split them (a guide file holds at most 1 MiB).
	const perFile = 250
	var qs []string
	var zb, eb strings.Builder
	flush := func(part int) {
		if zb.Len() == 0 {
			return
		}
		name := fmt.Sprintf("synthetic-%d", part)
		os.WriteFile(filepath.Join(dir, name+".zh-Hans.md"), []byte(zb.String()), 0o644)
		os.WriteFile(filepath.Join(dir, name+".en.md"), []byte(eb.String()), 0o644)
		zb.Reset()
		eb.Reset()
	}
	for i := 0; i < n; i++ {
		if i%perFile == 0 {
			flush(i/perFile - 1)
			fmt.Fprintf(&zb, "---\nguide: synthetic-%d\nlang: zh-Hans\n---\n\n# 合成指南\n", i/perFile)
			fmt.Fprintf(&eb, "---\nguide: synthetic-%d\nlang: en\n---\n\n# Synthetic guide\n", i/perFile)
		}
		id := fmt.Sprintf("entry-%d", i)
		fmt.Fprintf(&zb, "\n## %s {#%s}\n\nQuestions:\n", zh(3), id)
		fmt.Fprintf(&eb, "\n## %s {#%s}\n\nQuestions:\n", en(4), id)
		var first string
		for j := 0; j < 5; j++ {
			q := zh(4)
			if j == 0 {
				first = q
			}
			fmt.Fprintf(&zb, "- %s\n", q)
			fmt.Fprintf(&eb, "- %s\n", en(6))
		}
		fmt.Fprintf(&zb, "\n1. %s。\n2. %s。\n3. %s。\n", zh(6), zh(6), zh(6))
		fmt.Fprintf(&eb, "\n1. %s.\n2. %s.\n3. %s.\n", en(8), en(8), en(8))
		qs = append(qs, "请问"+first+"怎么办")
	}
	flush((n - 1) / perFile)
	return qs
}
