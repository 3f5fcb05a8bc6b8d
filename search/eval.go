package search

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"faqbot/knowledge"
)

// EvalCase is one line of an evaluation file: a question and the entries
// that answer it. An empty Expect means the question must be declined
// (outcome none or chitchat).
type EvalCase struct {
	Q      string   `json:"q"`
	Expect []string `json:"expect"`
	// Lang is the language the question is written in, for the
	// per-language table; questions without one are counted apart.
	Lang string `json:"lang,omitempty"`
}

// ReadEvalCases reads JSON Lines of EvalCase. Blank lines are skipped; a
// bad line is an error naming its line number.
func ReadEvalCases(r io.Reader) ([]EvalCase, error) {
	var out []EvalCase
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		var c EvalCase
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if c.Expect == nil {
			return nil, fmt.Errorf("line %d: no \"expect\" (use [] for a question that must be declined)", line)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// EvalResult is how the engine did on one case.
type EvalResult struct {
	Case    EvalCase
	Answer  Answer
	Top1    bool // the best entry is expected (answered or clarify)
	Top3    bool // an expected entry is among the best and alternatives
	Right   bool // answered with an expected entry, or declined as it should
	Wrong   bool // answered with an entry that does not answer it
	Unsure  bool // in scope but asked to clarify or declined
	InScope bool
}

// LangStats are the figures of one language.
type LangStats struct {
	Lang     string
	Total    int
	Right    int
	Wrong    int
	InScope  int
	Answered int // in scope and answered right
	Declines int
	Declined int // out of scope and declined
}

// EvalReport sums up an evaluation.
type EvalReport struct {
	Results                    []EvalResult
	Total, InScope, OutOfScope int
	// Rates in [0,1].
	Top1, Top3        float64 // over in-scope questions
	AnsweredRight     float64 // in-scope questions answered with an expected entry
	WrongRate         float64 // over all questions: an answer that is not right
	DeclinedCorrectly float64 // over out-of-scope questions
	ClarifyRate       float64 // over in-scope questions
	PerLang           []LangStats
	Misses            []EvalResult
}

// Asker answers questions: the Engine, or the Baseline it is compared with.
type Asker interface {
	Answer(ctx context.Context, question string, opts ...AskOption) (Answer, error)
}

var (
	_ Asker = (*Engine)(nil)
	_ Asker = (*Baseline)(nil)
)

// Evaluate asks every question and scores the answers.
func Evaluate(ctx context.Context, e Asker, cases []EvalCase) (EvalReport, error) {
	return evaluate(cases, func(c EvalCase) (Answer, error) { return e.Answer(ctx, c.Q) })
}

// EvaluateGuides scores the engine on the guides' own alternate questions,
// each asked with itself taken out of its entry (and a question that reads
// the same, usually its translation: see leaveOut), the way a user asking
// it in other words would meet the entry. All of them are in scope. It
// changes the engine while it runs: use an engine that answers nothing else
// meanwhile.
func EvaluateGuides(ctx context.Context, e *Engine) (EvalReport, error) {
	var cases []EvalCase
	for _, en := range e.base.Entries() {
		if en.Kind != knowledge.FAQ {
			continue
		}
		for _, q := range en.Questions {
			cases = append(cases, EvalCase{Q: q, Expect: []string{en.ID}, Lang: string(en.Lang)})
		}
	}
	return evaluate(cases, func(c EvalCase) (Answer, error) {
		defer e.leaveOut(c.Expect[0], c.Q)()
		return e.Answer(ctx, c.Q, func(ac *askConfig) { ac.searchOnly = true })
	})
}

func evaluate(cases []EvalCase, ask func(EvalCase) (Answer, error)) (EvalReport, error) {
	var r EvalReport
	var top1, top3, wrong, declined, clarify int
	per := map[string]*LangStats{}
	for _, c := range cases {
		a, err := ask(c)
		if err != nil {
			return r, err
		}
		res := EvalResult{Case: c, Answer: a, InScope: len(c.Expect) > 0}
		lang := c.Lang
		if lang == "" {
			// Unlabelled: not by the reply's language, which differs between
			// the engines compared.
			lang = "unlabelled"
		}
		ls := per[lang]
		if ls == nil {
			ls = &LangStats{Lang: lang}
			per[lang] = ls
		}
		ls.Total++
		declinedOutcome := a.Outcome == None || a.Outcome == Chitchat
		if res.InScope {
			r.InScope++
			ls.InScope++
			if a.Outcome != None && slices.Contains(c.Expect, a.ID) {
				res.Top1 = true
				top1++
			}
			res.Top3 = res.Top1
			for _, alt := range a.Alternatives {
				if slices.Contains(c.Expect, alt.ID) {
					res.Top3 = true
				}
			}
			if res.Top3 {
				top3++
			}
			switch {
			case a.Outcome == Answered && slices.Contains(c.Expect, a.ID):
				res.Right = true
				ls.Answered++
			case a.Outcome == Answered || a.Outcome == Chitchat:
				res.Wrong = true
			default:
				res.Unsure = true
				if a.Outcome == Clarify {
					clarify++
				}
			}
		} else {
			r.OutOfScope++
			ls.Declines++
			if declinedOutcome {
				res.Right = true
				declined++
				ls.Declined++
			} else {
				res.Wrong = true
			}
		}
		if res.Right {
			ls.Right++
		}
		if res.Wrong {
			wrong++
			ls.Wrong++
		}
		if !res.Right {
			r.Misses = append(r.Misses, res)
		}
		r.Results = append(r.Results, res)
	}
	r.Total = len(cases)
	r.Top1 = ratio(top1, r.InScope)
	r.Top3 = ratio(top3, r.InScope)
	r.AnsweredRight = ratio(countAnswered(per), r.InScope)
	r.WrongRate = ratio(wrong, r.Total)
	r.DeclinedCorrectly = ratio(declined, r.OutOfScope)
	r.ClarifyRate = ratio(clarify, r.InScope)
	for _, ls := range per {
		r.PerLang = append(r.PerLang, *ls)
	}
	order := map[string]int{string(knowledge.SimplifiedChinese): 0, string(knowledge.TraditionalChinese): 1, string(knowledge.English): 2}
	sort.Slice(r.PerLang, func(i, j int) bool {
		oi, iok := order[r.PerLang[i].Lang]
		oj, jok := order[r.PerLang[j].Lang]
		if iok != jok {
			return iok
		}
		if oi != oj {
			return oi < oj
		}
		return r.PerLang[i].Lang < r.PerLang[j].Lang
	})
	return r, nil
}

func countAnswered(per map[string]*LangStats) int {
	n := 0
	for _, ls := range per {
		n += ls.Answered
	}
	return n
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// Accuracy is the share of a language's questions handled right: in-scope
// ones answered with an expected entry, out-of-scope ones declined.
func (l LangStats) Accuracy() float64 { return ratio(l.Right, l.Total) }
