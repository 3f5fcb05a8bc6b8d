package main

import (
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"faqbot/bot"
	"faqbot/bot/qlog"
	"faqbot/search"
)

// metrics are faqbot's Prometheus metrics, on a registry of its own (not
// the process-wide default, so tests and embedders get fresh counters).
type metrics struct {
	reg *prometheus.Registry

	questions  *prometheus.CounterVec   // adapter, outcome
	latency    *prometheus.HistogramVec // adapter
	confidence *prometheus.HistogramVec // adapter
	feedback   *prometheus.CounterVec   // adapter, helpful
	choices    *prometheus.CounterVec   // adapter
	flood      *prometheus.CounterVec   // adapter
	errors     *prometheus.CounterVec   // adapter, op
	connected  *prometheus.GaugeVec     // adapter
	entries    prometheus.Gauge
	reloads    *prometheus.CounterVec // result
	loadedAt   prometheus.Gauge

	mu    sync.Mutex
	conns map[string]bool // adapter → connected, for /readyz
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		questions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faqbot_questions_total",
			Help: "Questions answered, by adapter and outcome (answered, clarify, none, chitchat, error).",
		}, []string{"adapter", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "faqbot_answer_duration_seconds",
			Help: "Time the answer engine took per question (sending not included).",
			// 50 µs to about 0.8 s: a question usually takes well under a
			// millisecond.
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 15),
		}, []string{"adapter"}),
		confidence: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "faqbot_answer_confidence",
			Help:    "The engine's calibrated confidence in its best entry, per question.",
			Buckets: prometheus.LinearBuckets(0.1, 0.1, 10),
		}, []string{"adapter"}),
		feedback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faqbot_feedback_total",
			Help: "Feedback button presses recorded, by adapter and verdict (helpful=true: 👍). A user who presses again counts again; faqbot report counts one vote per user and answer.",
		}, []string{"adapter", "helpful"}),
		choices: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faqbot_choices_total",
			Help: "Choices made after a clarification (a button of \"Which of these do you mean?\" pressed and answered), by adapter. Compare with faqbot_questions_total{outcome=\"clarify\"}.",
		}, []string{"adapter"}),
		flood: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faqbot_flood_dropped_total",
			Help: "Messages not answered because their sender was over the flood limit.",
		}, []string{"adapter"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faqbot_adapter_errors_total",
			Help: "Calls to a chat service that failed for good (after retries), by adapter and operation.",
		}, []string{"adapter", "op"}),
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "faqbot_adapter_connected",
			Help: "1 while the adapter is connected and taking questions.",
		}, []string{"adapter"}),
		entries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "faqbot_guide_entries",
			Help: "Entries in the guides the engine answers from.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faqbot_reloads_total",
			Help: "Guide reloads (SIGHUP), by result (ok, failed: the previous guides keep serving).",
		}, []string{"result"}),
		loadedAt: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "faqbot_guides_loaded_timestamp_seconds",
			Help: "When the guides serving now were loaded (Unix time).",
		}),
		conns: map[string]bool{},
	}
	version, revision := buildVersion()
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "faqbot_build_info",
		Help:        "Always 1; the labels say which faqbot this is.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": runtime.Version()},
	})
	info.Set(1)
	m.reg.MustRegister(m.questions, m.latency, m.confidence, m.feedback, m.choices, m.flood, m.errors, m.connected,
		m.entries, m.reloads, m.loadedAt, info,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Both results show from the start, so a rate() sees the first one.
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("failed")
	return m
}

func buildVersion() (version, revision string) {
	version, revision = "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	return version, revision
}

// observeQuestionLog exports the question log's counters.
func (m *metrics) observeQuestionLog(l *qlog.Log) {
	counter := func(name, help string, labels prometheus.Labels, f func(qlog.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(f(l.Stats())) })
	}
	m.reg.MustRegister(
		counter("faqbot_question_log_rows_total", "Rows written to the question log.", prometheus.Labels{"table": "questions"},
			func(s qlog.Stats) uint64 { return s.Questions }),
		counter("faqbot_question_log_rows_total", "Rows written to the question log.", prometheus.Labels{"table": "feedback"},
			func(s qlog.Stats) uint64 { return s.Feedback }),
		counter("faqbot_question_log_choices_total", "Choices after a clarification written to the question log: linked=true set on the clarification they were made from, linked=false with none to link to (not stored).", prometheus.Labels{"linked": "true"},
			func(s qlog.Stats) uint64 { return s.Choices }),
		counter("faqbot_question_log_choices_total", "Choices after a clarification written to the question log: linked=true set on the clarification they were made from, linked=false with none to link to (not stored).", prometheus.Labels{"linked": "false"},
			func(s qlog.Stats) uint64 { return s.UnlinkedChoices }),
		counter("faqbot_question_log_dropped_total", "Rows not logged because the log's buffer was full (answers are never held up).", nil,
			func(s qlog.Stats) uint64 { return s.Dropped }),
		counter("faqbot_question_log_unwritten_total", "Rows not logged because the log was closing: recorded during the stop, or still buffered at its deadline.", nil,
			func(s qlog.Stats) uint64 { return s.Unwritten }),
		counter("faqbot_question_log_failed_total", "Rows lost to a failed database write.", nil,
			func(s qlog.Stats) uint64 { return s.Failed }),
	)
}

// observer is the bot.Observer the adapters report to.
type observer struct{ m *metrics }

var _ bot.Observer = observer{}

func (o observer) FloodDropped(adapter string) { o.m.flood.WithLabelValues(adapter).Inc() }

func (o observer) AdapterError(adapter, op string) { o.m.errors.WithLabelValues(adapter, op).Inc() }

func (o observer) Connected(adapter string, up bool) {
	o.m.mu.Lock()
	o.m.conns[adapter] = up
	o.m.mu.Unlock()
	v := 0.0
	if up {
		v = 1
	}
	o.m.connected.WithLabelValues(adapter).Set(v)
}

// outcomes are the values of faqbot_questions_total's outcome label.
var outcomes = []search.Outcome{search.Answered, search.Clarify, search.None, search.Chitchat, qlog.OutcomeError}

// expect declares the adapters that must connect before faqbot is ready,
// and pre-creates their series so dashboards see zeros, not gaps.
func (m *metrics) expect(adapter string) {
	m.mu.Lock()
	m.conns[adapter] = false
	m.mu.Unlock()
	m.connected.WithLabelValues(adapter).Set(0)
	m.flood.WithLabelValues(adapter)
	m.choices.WithLabelValues(adapter)
	m.latency.WithLabelValues(adapter)
	m.confidence.WithLabelValues(adapter)
	for _, o := range outcomes {
		m.questions.WithLabelValues(adapter, string(o))
	}
	for _, h := range []bool{true, false} {
		m.feedback.WithLabelValues(adapter, strconv.FormatBool(h))
	}
}

// disconnected lists the expected adapters not connected now.
func (m *metrics) disconnected() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for a, up := range m.conns {
		if !up {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}
