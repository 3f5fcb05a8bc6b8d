package search

import (
	"math"
	"testing"
)

// However many of the questions model's terms a question holds, the
// posterior stays a distribution (it overflowed to NaN with every term).
func TestQuestionsPosteriorStaysFinite(t *testing.T) {
	e := shipped(t)
	var terms []string
	for term := range e.qmodel.vocab {
		terms = append(terms, term)
	}
	var cands []scored
	for id := range e.docs {
		if len(cands) == rerankDepth {
			break
		}
		cands = append(cands, scored{id: id})
	}
	for _, n := range []int{1, len(terms) / 2, len(terms)} {
		e.questionsPosterior(terms[:n], cands)
		sum := 0.0
		for _, c := range cands {
			if math.IsNaN(c.posterior) || math.IsInf(c.posterior, 0) {
				t.Fatalf("%d terms: posterior of %s is %v", n, c.id, c.posterior)
			}
			sum += c.posterior
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("%d terms: posteriors sum to %v", n, sum)
		}
	}
}
