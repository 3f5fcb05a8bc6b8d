package search

import (
	"context"
	"maps"
	"math"
	"slices"

	"faqbot/knowledge"
)

// Calibration turns the figures of a question's best entry into the
// probability that it is the right one (a logistic model):
//
//	confidence = 1 / (1 + exp(-(Bias + Margin·margin + Closest·closest
//	                              + Unknown·unknown + Matched·matched
//	                              + Posterior·posterior)))
//
// margin: how far the best re-ranked score stands above the second,
// relative to it; closest: similarity to the entry's closest alternate
// question; unknown: the share of the question's weight in words no entry
// uses; matched: how many of the question's terms the entry holds (capped
// at 4, over 4); posterior: the questions model's probability for the
// entry (see discriminate.go), low when the question's words are typical
// of another candidate's questions. One generic word in common (删除,
// security) is weak evidence; three concepts in common are strong.
type Calibration struct {
	Bias, Margin, Closest, Unknown, Matched, Posterior float64
}

// DefaultCalibration was fitted with FitCalibration ("askcli calibrate
// search/testdata/eval/{dev,fresh,paraphrase,situations}.jsonl", which
// adds the guides' own alternate questions, each left out of its entry) on
// 1,322 questions, with the shipped guides and the features as they are
// now: the four readable question sets bring the questions to decline and
// the guides' questions, the phrasing of every entry. The held-out and
// unseen sets are never fitted on. Refit after changing the features, the
// re-ranking or the guides. With the questions model in the re-ranking,
// its posterior adds next to nothing here (its weight fits near 0).
var DefaultCalibration = Calibration{Bias: -2.490, Margin: 2.951, Closest: 4.199, Unknown: -1.946, Matched: 2.479, Posterior: 0.108}

func (c Calibration) confidence(s scored, margin float64) float64 {
	z := c.Bias + c.Margin*margin + c.Closest*s.closest + c.Unknown*s.unknown + c.Matched*matchedShare(s) + c.Posterior*s.posterior
	return 1 / (1 + math.Exp(-z))
}

func matchedShare(s scored) float64 { return float64(min(len(s.matched), 4)) / 4 }

// features are the inputs of the calibration for one question.
type features struct{ margin, closest, unknown, matched, posterior float64 }

// FitCalibration fits the calibration to labelled questions: a question
// counts as right when its best entry is one it expects. Questions decided
// by rule (no candidate, another app named, small talk) are left out, as
// the engine never asks the calibration about them.
//
// With withGuides, the guides' own alternate questions count too, each
// asked with itself taken out of its entry (see leaveOut): hundreds of
// questions phrased the way people ask, in every language of the guides,
// which keep the fit from following the few hundred of cases alone. They
// are all in scope; the cases bring the questions to decline. Taking
// questions out changes the engine while the fit runs: fit on an engine
// that answers nothing else meanwhile.
func FitCalibration(ctx context.Context, e *Engine, cases []EvalCase, withGuides bool) (Calibration, int, error) {
	var xs []features
	var ys []float64
	add := func(q string, expect []string) error {
		an := e.an.analyze(q, e.cfg.MaxQueryRunes, true)
		cands, err := e.rank(ctx, &an)
		if err != nil {
			return err
		}
		if len(cands) == 0 || e.offTopic(&an) || cands[0].kind != knowledge.FAQ {
			return nil
		}
		top := cands[0]
		y := 0.0
		if slices.Contains(expect, top.id) {
			y = 1
		}
		xs = append(xs, features{marginOf(cands, 0), top.closest, top.unknown, matchedShare(top), top.posterior})
		ys = append(ys, y)
		return nil
	}
	for _, c := range cases {
		if err := ctx.Err(); err != nil {
			return Calibration{}, 0, err
		}
		if err := add(c.Q, c.Expect); err != nil {
			return Calibration{}, 0, err
		}
	}
	if withGuides {
		for _, en := range e.base.Entries() {
			if en.Kind != knowledge.FAQ {
				continue
			}
			for _, q := range en.Questions {
				if err := ctx.Err(); err != nil {
					return Calibration{}, 0, err
				}
				restore := e.leaveOut(en.ID, q)
				err := add(q, []string{en.ID})
				restore()
				if err != nil {
					return Calibration{}, 0, err
				}
			}
		}
	}
	// Plain batch gradient descent on the log loss with a little L2
	// regularisation: six weights, a thousand questions or so.
	var w [6]float64
	const (
		rate  = 1.0
		l2    = 0.0005
		steps = 8000
	)
	n := float64(len(xs))
	for step := 0; step < steps && n > 0; step++ {
		var g [6]float64
		for i, x := range xs {
			v := [6]float64{1, x.margin, x.closest, x.unknown, x.matched, x.posterior}
			z := 0.0
			for k := range w {
				z += w[k] * v[k]
			}
			d := 1/(1+math.Exp(-z)) - ys[i]
			for k := range g {
				g[k] += d * v[k]
			}
		}
		for k := range w {
			reg := l2 * w[k]
			if k == 0 {
				reg = 0
			}
			w[k] -= rate * (g[k]/n + reg)
		}
		// Words no entry uses never make an answer more likely: questions
		// about something else are full of them, and the development set
		// has too few of those to learn it alone.
		w[3] = math.Min(w[3], 0)
	}
	return Calibration{Bias: w[0], Margin: w[1], Closest: w[2], Unknown: w[3], Matched: w[4], Posterior: w[5]}, len(xs), nil
}

// leaveOut takes question q out of entry id's alternate questions as the
// closest-question figure and the questions model's counts see them, until
// the returned function puts it back. A question another of the entry's
// questions reads the same as (the same terms: usually its translation)
// goes with it, two at the most. The Bleve index, the entry's term
// coverage and the term weights still hold it, so figures measured this
// way are a little optimistic next to a guide written without it. Not
// safe while the engine answers.
func (e *Engine) leaveOut(id, q string) (restore func()) {
	info := e.docs[id]
	want := map[string]bool{}
	for _, t := range e.an.analyze(q, e.cfg.MaxQueryRunes, false).terms {
		want[t] = true
	}
	drop := map[int]bool{}
	for i, qt := range info.questions {
		if len(drop) == 2 {
			break
		}
		if maps.Equal(qt.terms, want) {
			drop[i] = true
		}
	}
	saved := map[string][]int{}
	for t, list := range info.inQuestions {
		keep := make([]int, 0, len(list))
		for _, i := range list {
			if !drop[i] {
				keep = append(keep, i)
			}
		}
		if len(keep) != len(list) {
			saved[t] = list
			info.inQuestions[t] = keep
		}
	}
	return func() {
		for t, list := range saved {
			info.inQuestions[t] = list
		}
	}
}

// marginOf is how far candidate i's score stands above the next one's,
// relative to its own.
func marginOf(cands []scored, i int) float64 {
	if cands[i].score <= 0 {
		return 0
	}
	next := 0.0
	if i+1 < len(cands) {
		next = cands[i+1].score
	}
	return (cands[i].score - next) / cands[i].score
}
