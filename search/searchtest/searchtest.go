// Package searchtest gives tests of other packages the answer engine over
// the shipped guides, built once per test binary.
package searchtest

import (
	"sync"
	"testing"

	"faqbot/knowledge"
	"faqbot/search"
)

var (
	once   sync.Once
	engine *search.Engine
	err    error
)

// Engine returns the shared engine over the shipped guides; it fails tb if
// the engine cannot be built.
func Engine(tb testing.TB) *search.Engine {
	tb.Helper()
	once.Do(func() {
		var base *knowledge.Base
		base, err = knowledge.Shipped()
		if err == nil {
			engine, err = search.New(base, search.DefaultConfig())
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	return engine
}
