package search

import (
	"context"
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/index/scorch"

	"faqbot/knowledge"
)

// Baseline is the setup people usually build first, kept for comparison:
// the guides indexed as they are with Bleve's built-in CJK analyzer
// (bigrams for Chinese, words for English), BM25, and the best hit as the
// answer. No normalisation, synonyms, language handling or decisions.
type Baseline struct {
	base  *knowledge.Base
	index bleve.Index
}

// NewBaseline indexes base with Bleve's cjk analyzer.
func NewBaseline(base *knowledge.Base) (*Baseline, error) {
	im := bleve.NewIndexMapping()
	im.ScoringModel = "bm25"
	im.DefaultAnalyzer = cjk.AnalyzerName
	idx, err := bleve.NewUsing("", im, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	batch := idx.NewBatch()
	for _, en := range base.Entries() {
		doc := map[string]interface{}{"title": en.Title, "questions": en.Questions, "answer": en.AnswerText(), "id": en.ID}
		if err := batch.Index(string(en.Lang)+"/"+en.ID, doc); err != nil {
			idx.Close()
			return nil, err
		}
	}
	if err := idx.Batch(batch); err != nil {
		idx.Close()
		return nil, err
	}
	return &Baseline{base: base, index: idx}, nil
}

// Answer returns the best hit, or None when nothing matches at all. Small
// talk hits count as Chitchat.
func (b *Baseline) Answer(ctx context.Context, question string, _ ...AskOption) (Answer, error) {
	req := bleve.NewSearchRequestOptions(bleve.NewMatchQuery(question), 1, 0, false)
	res, err := b.index.SearchInContext(ctx, req)
	if err != nil {
		return Answer{}, err
	}
	ans := Answer{Query: question, Outcome: None, Alternatives: []Candidate{}}
	if len(res.Hits) == 0 {
		return ans, nil
	}
	h := res.Hits[0]
	for _, en := range b.base.Entries() {
		if string(en.Lang)+"/"+en.ID == h.ID {
			ans.ID, ans.Title, ans.Lang, ans.Score, ans.Blocks = en.ID, en.Title, en.Lang, h.Score, en.Answer
			ans.Outcome = Answered
			if en.Kind == knowledge.Chitchat {
				ans.Outcome = Chitchat
			}
		}
	}
	return ans, nil
}

// Close releases the index.
func (b *Baseline) Close() error { return b.index.Close() }
