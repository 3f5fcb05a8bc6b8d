package search

import (
	"context"
	"testing"

	"faqbot/knowledge"
)

// BenchmarkNew measures building an engine over the shipped guides: the
// lean dictionary, the analyzer and the index (what every start costs).
func BenchmarkNew(b *testing.B) {
	base, err := knowledge.Shipped()
	if err != nil {
		b.Fatal(err)
	}
	for _, full := range []bool{false, true} {
		name := "lean"
		if full {
			name = "full"
		}
		b.Run(name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.FullDictionary = full
			b.ReportAllocs()
			for b.Loop() {
				e, err := New(base, cfg)
				if err != nil {
					b.Fatal(err)
				}
				e.Close()
			}
		})
	}
}

// BenchmarkAnswer measures one answer, cycling through the development
// questions.
func BenchmarkAnswer(b *testing.B) {
	e := shipped(b)
	cases := devCases(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := e.Answer(ctx, cases[i%len(cases)].Q); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkAnswerParallel measures answers per second with every core busy.
func BenchmarkAnswerParallel(b *testing.B) {
	e := shipped(b)
	cases := devCases(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := e.Answer(ctx, cases[i%len(cases)].Q); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
