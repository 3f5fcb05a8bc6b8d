package main

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"faqbot/bot"
	"faqbot/bot/qlog"
	"faqbot/knowledge"
	"faqbot/search"
)

// liveEngine is the answer engine as the adapters see it: it holds the
// current engine and swaps in a new one when the guides are reloaded,
// without the engine or the adapters knowing. A question finishes on the
// engine it started on; an engine swapped out is closed once the last
// question on it finishes.
type liveEngine struct {
	cur atomic.Pointer[generation]
	// closeErr is told when an engine swapped out fails to close (nil:
	// nobody is): the swap has succeeded by then.
	closeErr func(error)

	mu     sync.Mutex // serialises swap and close
	closed bool
}

var _ bot.Answerer = (*liveEngine)(nil)

// answerEngine is what a liveEngine serves: the answer engine
// (*search.Engine), or in tests an engine that fails on purpose. Its
// Lookup takes no context: the liveEngine adapts it to bot.Answerer's.
type answerEngine interface {
	Answer(ctx context.Context, question string, opts ...search.AskOption) (search.Answer, error)
	Lookup(id string, lang knowledge.Lang) (search.Answer, error)
	Close() error
}

var _ answerEngine = (*search.Engine)(nil)

// generation is one engine; mu is read-held by every call on it.
type generation struct {
	eng     answerEngine
	mu      sync.RWMutex
	retired bool
}

// errEngineClosed: faqbot is stopping.
var errEngineClosed = errors.New("answer engine closed")

func newLiveEngine(eng answerEngine) *liveEngine {
	l := &liveEngine{}
	l.cur.Store(&generation{eng: eng})
	return l
}

// acquire returns the current generation, read-locked: the caller must
// RUnlock it.
func (l *liveEngine) acquire() (*generation, error) {
	for {
		g := l.cur.Load()
		if g == nil {
			return nil, errEngineClosed
		}
		g.mu.RLock()
		if !g.retired {
			return g, nil
		}
		// Swapped out meanwhile: the current one is newer.
		g.mu.RUnlock()
	}
}

// Answer implements bot.Answerer.
func (l *liveEngine) Answer(ctx context.Context, question string, opts ...search.AskOption) (search.Answer, error) {
	g, err := l.acquire()
	if err != nil {
		return search.Answer{}, err
	}
	defer g.mu.RUnlock()
	return g.eng.Answer(ctx, question, opts...)
}

// Lookup implements bot.Answerer. The engine needs no context: who chose
// is recorded by observedAnswerer, around it.
func (l *liveEngine) Lookup(_ context.Context, id string, lang knowledge.Lang) (search.Answer, error) {
	g, err := l.acquire()
	if err != nil {
		return search.Answer{}, err
	}
	defer g.mu.RUnlock()
	return g.eng.Lookup(id, lang)
}

// swap makes eng the engine and closes the previous one once the
// questions in flight on it finish; it succeeds once eng serves (an error
// closing the previous one goes to closeErr). After close it closes eng
// instead and fails.
func (l *liveEngine) swap(eng answerEngine) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		eng.Close()
		return errEngineClosed
	}
	old := l.cur.Swap(&generation{eng: eng})
	if err := old.retire(); err != nil && l.closeErr != nil {
		l.closeErr(err)
	}
	return nil
}

// close closes the engine once the questions in flight finish; later
// questions fail.
func (l *liveEngine) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return l.cur.Swap(nil).retire()
}

// retire waits for the calls in flight on g, then closes its engine.
func (g *generation) retire() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.retired = true
	return g.eng.Close()
}

// observedAnswerer is what one adapter answers with: the live engine,
// with every question, and every choice after a clarification, counted in
// the metrics and written to the question log.
type observedAnswerer struct {
	adapter string
	eng     bot.Answerer
	m       *metrics
	log     *qlog.Log // nil: no question log
}

var _ bot.Answerer = observedAnswerer{}

// Answer implements bot.Answerer.
func (a observedAnswerer) Answer(ctx context.Context, question string, opts ...search.AskOption) (search.Answer, error) {
	start := time.Now()
	ans, err := a.eng.Answer(ctx, question, opts...)
	took := time.Since(start)
	outcome := ans.Outcome
	if err != nil {
		outcome = qlog.OutcomeError
	}
	a.m.questions.WithLabelValues(a.adapter, string(outcome)).Inc()
	a.m.latency.WithLabelValues(a.adapter).Observe(took.Seconds())
	if err == nil {
		a.m.confidence.WithLabelValues(a.adapter).Observe(ans.Confidence)
	}
	if a.log != nil {
		q := qlog.Question{
			Time: start, Adapter: a.adapter, Question: question, Lang: ans.Lang, Outcome: outcome,
			EntryID: ans.ID, Confidence: ans.Confidence, Latency: took,
		}
		if asker, ok := bot.AskerFrom(ctx); ok {
			q.User = asker.User
		}
		if ans.Outcome == search.Clarify {
			for _, c := range ans.Alternatives {
				q.Choices = append(q.Choices, c.ID)
			}
		}
		a.log.Record(q) // a full buffer drops the row (counted), never the answer
	}
	return ans, err
}

// Lookup implements bot.Answerer: a user picked entry id from a
// clarification's choices. The choice is counted, and recorded in the
// question log for the clarification it was made from (ctx's asker tells
// whose). A button for an entry that is gone (the guides were reloaded)
// fails, and is neither counted nor recorded.
func (a observedAnswerer) Lookup(ctx context.Context, id string, lang knowledge.Lang) (search.Answer, error) {
	ans, err := a.eng.Lookup(ctx, id, lang)
	if err != nil {
		return ans, err
	}
	a.m.choices.WithLabelValues(a.adapter).Inc()
	if a.log != nil {
		c := qlog.Choice{Time: time.Now(), Adapter: a.adapter, EntryID: id}
		if asker, ok := bot.AskerFrom(ctx); ok {
			c.User = asker.User
		}
		a.log.RecordChoice(c) // a full buffer drops it (counted), never the answer
	}
	return ans, nil
}

// feedbackSink counts feedback and hands it to the question log.
type feedbackSink struct {
	m    *metrics
	next bot.FeedbackSink
}

var _ bot.FeedbackSink = feedbackSink{}

// RecordFeedback implements bot.FeedbackSink.
func (s feedbackSink) RecordFeedback(ctx context.Context, f bot.Feedback) error {
	if err := s.next.RecordFeedback(ctx, f); err != nil {
		return err
	}
	s.m.feedback.WithLabelValues(f.Adapter, strconv.FormatBool(f.Helpful)).Inc()
	return nil
}
