package search

import (
	"context"

	"faqbot/knowledge"
)

// Explanation shows how the engine read a question and why each candidate
// scored as it did.
type Explanation struct {
	Query       string       `json:"query"`
	Normalized  string       `json:"normalized"`
	Tokens      []string     `json:"tokens"`
	Terms       []string     `json:"terms"`
	Corrections []Correction `json:"corrections"`
	OutOfScope  []string     `json:"out_of_scope,omitempty"`
	// Uncovered are the topics the guides do not cover that it names.
	Uncovered  []string               `json:"uncovered,omitempty"`
	Lang       knowledge.Lang         `json:"lang"`
	Candidates []CandidateExplanation `json:"candidates"`
	// ExactMatch: the question is one of the guide's own, answered by
	// its entry without the search deciding.
	ExactMatch bool   `json:"exact_match"`
	Answer     Answer `json:"answer"`
}

// CandidateExplanation is one candidate's figures.
type CandidateExplanation struct {
	ID            string  `json:"id"`
	Score         float64 `json:"score"`
	BM25          float64 `json:"bm25"`
	Coverage      float64 `json:"coverage"`
	Closest       float64 `json:"closest"`
	Unknown       float64 `json:"unknown"`
	Margin        float64 `json:"margin"`
	Confidence    float64 `json:"confidence"`
	OtherPlatform bool    `json:"other_platform,omitempty"`
	// PartPlatform: the entry is for only some of the platforms named.
	PartPlatform bool     `json:"part_platform,omitempty"`
	Matched      []string `json:"matched"`
}

// Explain answers question and tells how.
func (e *Engine) Explain(ctx context.Context, question string, opts ...AskOption) (Explanation, error) {
	var ac askConfig
	for _, o := range opts {
		o(&ac)
	}
	an := e.an.analyze(question, e.cfg.MaxQueryRunes, true)
	cands, err := e.rank(ctx, &an)
	if err != nil {
		return Explanation{}, err
	}
	ex := Explanation{
		Query: question, Normalized: an.normalized, Tokens: an.raw, Terms: an.terms,
		Corrections: an.corrections, OutOfScope: an.outOfScope, Uncovered: e.uncoveredTopics(&an), Lang: e.replyLang(&an, ac.langHint),
	}
	for i, c := range cands {
		m := marginOf(cands, i)
		ex.Candidates = append(ex.Candidates, CandidateExplanation{
			ID: c.id, Score: c.score, BM25: c.bm25, Coverage: c.coverage, Closest: c.closest,
			Unknown: c.unknown, Margin: m, Confidence: e.cfg.Calibration.confidence(c, m),
			OtherPlatform: c.otherPlatform, PartPlatform: c.partPlatform, Matched: c.matched,
		})
	}
	if id, ok := e.exact[e.questionKey(question, &an)]; ok && !ac.searchOnly {
		ex.ExactMatch = true
		ex.Answer, err = e.Lookup(id, ex.Lang)
		ex.Answer.Query = question
		return ex, err
	}
	ex.Answer = e.decide(question, &an, ex.Lang, cands)
	return ex, nil
}

// LintIssue is an alternate question of one entry that the engine answers
// with another: the guides overlap there, and an operator should reword one
// of the two entries.
type LintIssue struct {
	ID       string         `json:"id"`
	Lang     knowledge.Lang `json:"lang"`
	Question string         `json:"question"`
	Pos      knowledge.Pos  `json:"source"`
	Outcome  Outcome        `json:"outcome"`
	GotID    string         `json:"got_id"`
}

// Lint asks every alternate question of every entry, through the search
// (not the exact match, which would always find its own entry), and reports
// those not answered by their own entry.
func (e *Engine) Lint(ctx context.Context) ([]LintIssue, error) {
	var out []LintIssue
	for _, en := range e.base.Entries() {
		for _, q := range en.Questions {
			if len(e.an.analyze(q, e.cfg.MaxQueryRunes, false).terms) == 0 {
				// Only stopwords ("who are you"): the search never sees it;
				// the exact match answers it, so it overlaps nothing.
				continue
			}
			a, err := e.Answer(ctx, q, func(c *askConfig) { c.searchOnly = true })
			if err != nil {
				return nil, err
			}
			if a.ID == en.ID && (a.Outcome == Answered || a.Outcome == Chitchat) {
				continue
			}
			out = append(out, LintIssue{ID: en.ID, Lang: en.Lang, Question: q, Pos: en.Pos, Outcome: a.Outcome, GotID: a.ID})
		}
	}
	return out, nil
}
