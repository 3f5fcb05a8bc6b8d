package telegramtest

import (
	"context"
	"fmt"
	"runtime/metrics"
	"slices"
	"sort"
	"time"
)

// LoadSpec describes a load: Users users, each in their own private chat,
// each asking PerUser questions evenly spread over Over (user u starting
// u/Users of an interval later than user 0), taking Questions in turn.
type LoadSpec struct {
	Users     int
	PerUser   int
	Over      time.Duration
	Questions []string
	FirstUser int64  // user (and chat) ids are FirstUser, FirstUser+1, …
	Lang      string // the users' language_code
}

// LoadQuestions are asked in turn by DefaultLoad: the three languages,
// typos, small talk, and questions declined. With the shipped guides each
// has a one-message answer, so one reply per question is the count (tests
// check this premise against their engine).
var LoadQuestions = []string{
	"网页版怎么退出", "how do I log out of WhatsApp Web", "怎么开启两步验证", "網頁版怎麼登出",
	"hello", "怎么删除账号", "微信怎么退出登录", "登陆电脑版咋退出", "how to sign out on iphone",
	"手机丢了怎么办", "two step verification", "what is the weather", "怎样把别的设备退出", "謝謝",
}

// DefaultLoad is the load the adapter and faqbot are measured under: 200
// users, each in their own private chat, asking 10 questions each, one
// every 2 s (within the adapter's default flood limit of 5 per 10 s and
// its pacing of a message a second per chat): 2,000 questions in 20 s.
func DefaultLoad() LoadSpec {
	return LoadSpec{Users: 200, PerUser: 10, Over: 20 * time.Second, Questions: LoadQuestions, FirstUser: 10_000, Lang: "en"}
}

// LoadReport is what a load run measured. Latency runs from the moment a
// question is queued at the fake to the moment its answer reaches it.
type LoadReport struct {
	Asked      int
	Answered   int // questions with exactly one answer
	Unanswered int
	Repeated   int // questions answered more than once
	Spread     time.Duration
	Took       time.Duration // first question to last answer
	P50, P99   time.Duration
	Max        time.Duration
	// PeakHeap is the most memory held by heap objects (live or not yet
	// swept) and PeakTotal the most the Go runtime had mapped, sampled
	// every 20 ms over the run, for the whole process (the fake and the
	// test included).
	PeakHeap, PeakTotal uint64
}

func (r LoadReport) String() string {
	return fmt.Sprintf("%d questions over %v, %d answered once, %d unanswered, %d repeated; latency p50 %v, p99 %v, max %v; last answer after %v; peak heap %.1f MB, peak Go memory %.1f MB",
		r.Asked, r.Spread.Round(time.Millisecond), r.Answered, r.Unanswered, r.Repeated,
		r.P50.Round(100*time.Microsecond), r.P99.Round(100*time.Microsecond), r.Max.Round(100*time.Microsecond),
		r.Took.Round(time.Millisecond), float64(r.PeakHeap)/(1<<20), float64(r.PeakTotal)/(1<<20))
}

// RunLoad queues the questions of spec on f as their time comes, waits
// until each has an answer (or ctx is done) and reports. It does not judge
// the answers: one message replying to each question is the count.
func RunLoad(ctx context.Context, f *FakeAPI, spec LoadSpec) (LoadReport, error) {
	if spec.Users < 1 || spec.PerUser < 1 || len(spec.Questions) == 0 {
		return LoadReport{}, fmt.Errorf("load: nothing to ask")
	}
	type ask struct {
		at   time.Duration
		user int64
		text string
	}
	step := spec.Over / time.Duration(spec.PerUser)
	var asks []ask
	for u := range spec.Users {
		for k := range spec.PerUser {
			asks = append(asks, ask{
				at:   time.Duration(k)*step + step*time.Duration(u)/time.Duration(spec.Users),
				user: spec.FirstUser + int64(u),
				text: spec.Questions[(u*spec.PerUser+k)%len(spec.Questions)],
			})
		}
	}
	sort.SliceStable(asks, func(i, j int) bool { return asks[i].at < asks[j].at })

	sampled := make(chan struct{})
	stopSampling := make(chan struct{})
	var peakHeap, peakTotal uint64
	go func() {
		defer close(sampled)
		samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(samples)
			peakHeap = max(peakHeap, samples[0].Value.Uint64())
			peakTotal = max(peakTotal, samples[1].Value.Uint64())
			select {
			case <-t.C:
			case <-stopSampling:
				return
			}
		}
	}()
	defer func() {
		select {
		case <-stopSampling:
		default:
			close(stopSampling)
		}
		<-sampled
	}()

	base := f.SentCount()
	firstPush := len(f.Pushed())
	start := time.Now()
	for i := 0; i < len(asks); {
		if d := time.Until(start.Add(asks[i].at)); d > 0 {
			t := time.NewTimer(d) // the questions' schedule
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return LoadReport{}, ctx.Err()
			}
		}
		var due []map[string]any
		for ; i < len(asks) && time.Since(start) >= asks[i].at; i++ {
			due = append(due, PrivateMessage(asks[i].user, spec.Lang, asks[i].text))
		}
		f.Push(due...)
	}
	spread := time.Since(start)
	for f.SentCount()-base < len(asks) {
		if ctx.Err() != nil {
			break
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
	close(stopSampling)
	<-sampled

	pushed := f.Pushed()[firstPush:]
	type key struct {
		chat int64
		msg  int
	}
	replies := map[key][]SentMessage{}
	for _, s := range f.Sent() {
		k := key{s.Chat, s.ReplyTo}
		replies[k] = append(replies[k], s)
	}
	r := LoadReport{Asked: len(pushed), Spread: spread, PeakHeap: peakHeap, PeakTotal: peakTotal}
	var lat []time.Duration
	var last time.Time
	for _, p := range pushed {
		rs := replies[key{p.Chat, p.MessageID}]
		switch {
		case len(rs) == 0:
			r.Unanswered++
			continue
		case len(rs) > 1:
			r.Repeated++
		default:
			r.Answered++
		}
		lat = append(lat, rs[0].Call.At.Sub(p.At))
		if rs[0].Call.At.After(last) {
			last = rs[0].Call.At
		}
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		r.P50 = lat[len(lat)*50/100]
		r.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
		r.Max = lat[len(lat)-1]
		r.Took = last.Sub(start)
	}
	if r.Unanswered > 0 {
		return r, fmt.Errorf("load: %d of %d questions unanswered: %w", r.Unanswered, r.Asked, context.Cause(ctx))
	}
	return r, nil
}
