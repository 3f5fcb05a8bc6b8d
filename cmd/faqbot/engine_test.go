package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"faqbot/knowledge"
	"faqbot/search"
)

func shippedEngine(t *testing.T) *search.Engine {
	t.Helper()
	base, err := knowledge.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := search.New(base, search.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// webQuestion is not one of the guide's own questions, so the engine
// searches its index for it (an exact match needs no index).
const webQuestion = "pls how to logout whatsapp web on my laptop"

// TestSwapWaitsForQuestionsInFlight: a question in flight keeps its engine
// open across a swap; new questions go to the new engine at once; the old
// engine is closed when the last question on it finishes.
func TestSwapWaitsForQuestionsInFlight(t *testing.T) {
	old, next := shippedEngine(t), shippedEngine(t)
	live := newLiveEngine(old)
	defer live.close()

	inFlight, err := live.acquire() // a question has started on old
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	finish := func() { once.Do(inFlight.mu.RUnlock) } // the question finishes
	defer finish()                                    // also when the test fails early
	swapped := make(chan error, 1)
	go func() { swapped <- live.swap(next) }()
	waitFor(t, "the new engine to be current", func() bool { return live.cur.Load().eng == next })

	// New questions are answered by the new engine, without waiting.
	g, err := live.acquire()
	if err != nil || g.eng != next {
		t.Fatalf("acquire after the swap: %v, %v; want the new engine", g, err)
	}
	g.mu.RUnlock()
	// The question in flight finishes on its own engine, still open.
	if ans, err := inFlight.eng.Answer(context.Background(), webQuestion); err != nil || ans.ID != "web-log-out" {
		t.Fatalf("the engine in flight: %v, %v", ans.ID, err)
	}
	select {
	case err := <-swapped:
		t.Fatalf("swap returned (%v) with a question in flight on the old engine", err)
	default:
	}
	finish()

	select {
	case err := <-swapped:
		if err != nil {
			t.Fatalf("swap: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("swap did not finish after the last question on the old engine")
	}
	if _, err := old.Answer(context.Background(), webQuestion); err == nil {
		t.Error("the old engine still answers after the swap finished: not closed")
	}
	if ans, err := live.Answer(context.Background(), webQuestion); err != nil || ans.ID != "web-log-out" {
		t.Errorf("live engine after the swap: %v, %v", ans.ID, err)
	}
}

// TestSwapUnderLoad: questions asked while engines are swapped in and out
// all get answers.
func TestSwapUnderLoad(t *testing.T) {
	live := newLiveEngine(shippedEngine(t))
	engines := []*search.Engine{shippedEngine(t), shippedEngine(t), shippedEngine(t)}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	var answered atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ans, err := live.Answer(context.Background(), webQuestion)
				if err == nil && ans.ID != "web-log-out" {
					err = errors.New("answered " + ans.ID)
				}
				if err == nil {
					_, err = live.Lookup(context.Background(), "web-log-out", knowledge.English)
				}
				if err != nil {
					errs <- err
					return
				}
				answered.Add(1)
			}
		}()
	}
	for _, e := range engines {
		// Each engine serves some questions before the next swap.
		n := answered.Load()
		waitFor(t, "questions answered between swaps", func() bool { return answered.Load() > n+8 || len(errs) > 0 })
		if err := live.swap(e); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a question during the swaps: %v", err)
	}
	if err := live.close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if _, err := live.Answer(context.Background(), webQuestion); !errors.Is(err, errEngineClosed) {
		t.Errorf("Answer after close: %v, want errEngineClosed", err)
	}
	if _, err := live.Lookup(context.Background(), "web-log-out", knowledge.English); !errors.Is(err, errEngineClosed) {
		t.Errorf("Lookup after close: %v, want errEngineClosed", err)
	}
	late := shippedEngine(t)
	if err := live.swap(late); !errors.Is(err, errEngineClosed) {
		t.Errorf("swap after close: %v, want errEngineClosed", err)
	}
	if _, err := late.Answer(context.Background(), webQuestion); err == nil {
		t.Error("an engine swapped in after close was left open")
	}
	if answered.Load() == 0 {
		t.Error("no question was answered during the swaps")
	}
}
