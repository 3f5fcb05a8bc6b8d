package search

import "math"

// Entries that sit next to each other (uninstalling vs deleting the
// account, a computer in front of the user vs one left behind) share most
// of their words; what tells them apart is which words their own alternate
// questions use often and their neighbours' rarely ("卸载" in one, "删号" in
// the other; "忘了", "远程" in one, "我就在电脑前" in the other). A
// multinomial naive Bayes model over the terms of every entry's titles and
// alternate questions learns exactly that from the guides, with no list
// kept by hand: a question's terms are weighed by how typical each is of
// each entry's questions, and the model's posterior over the candidates
// takes part in the re-ranking (see rerankQuestions).

// questionsModel holds, for every entry, the denominator of its term
// probabilities; the counts themselves are the lengths of
// docInfo.inQuestions.
type questionsModel struct {
	// vocab: the terms of any entry's titles or alternate questions.
	vocab map[string]bool
	// logDenom is log(terms in the entry's questions + smoothing·|vocab|).
	logDenom map[string]float64
	// defining are, for each entry, the terms nearly all its questions hold.
	defining map[string][]string
}

// questionsSmoothing is the additive (Lidstone) smoothing of the term
// counts: small, so a term an entry's questions never use counts clearly
// against it, but not zero, so one such term does not rule the entry out.
const questionsSmoothing = 0.2

// questionsTemperature divides the model's log-likelihoods before they are
// turned into a posterior. Naive Bayes multiplies the terms' probabilities
// as if each were independent evidence, but a question's terms come
// together ("删除" with "账户", "log out" with "web"), and the raw posterior
// is all but 0 or 1; tempered, it is a vote the re-ranking can weigh.
const questionsTemperature = 3

// buildQuestionsModel counts the terms of the entries' questions. It runs
// once the index is built (docInfo.questions and inQuestions are filled).
func (e *Engine) buildQuestionsModel() {
	m := questionsModel{vocab: map[string]bool{}, logDenom: make(map[string]float64, len(e.docs))}
	totals := make(map[string]float64, len(e.docs))
	for id, info := range e.docs {
		for t, qs := range info.inQuestions {
			m.vocab[t] = true
			totals[id] += float64(len(qs))
		}
	}
	m.defining = map[string][]string{}
	for id, info := range e.docs {
		for t, qs := range info.inQuestions {
			if float64(len(qs)) >= definingShare*float64(len(info.questions)) {
				m.defining[id] = append(m.defining[id], t)
			}
		}
	}
	v := float64(len(m.vocab))
	for id := range e.docs {
		m.logDenom[id] = math.Log(totals[id] + questionsSmoothing*v)
	}
	e.qmodel = m
}

// questionsPosterior sets each candidate's posterior: the probability,
// under the questions model, that the question was drawn from its entry's
// questions rather than another candidate's. Terms no entry's questions
// use say nothing about which one it is and are left out.
func (e *Engine) questionsPosterior(terms []string, cands []scored) {
	if len(cands) == 0 {
		return
	}
	var small [rerankDepth]float64
	logp := small[:0]
	best := math.Inf(-1)
	for _, c := range cands {
		info := e.docs[c.id]
		lp := 0.0
		for _, t := range terms {
			if !e.qmodel.vocab[t] {
				continue
			}
			lp += math.Log(float64(len(info.inQuestions[t]))+questionsSmoothing) - e.qmodel.logDenom[c.id]
		}
		lp /= questionsTemperature
		logp = append(logp, lp)
		best = math.Max(best, lp) // the softmax's shift: no exp overflows
	}
	z := 0.0
	for _, lp := range logp {
		z += math.Exp(lp - best)
	}
	for i := range cands {
		cands[i].posterior = math.Exp(logp[i]-best) / z
	}
}

// An entry nearly all of whose own questions hold a term is about that
// term: "deleting the account logs you out everywhere" is asked with 删除账户
// (delete the account) every time, however it is put. A question without
// the term is less likely to ask for the entry, whatever else it shares
// with it ("log out of all my devices" is not about deleting anything).
// definingShare is the share of an entry's questions that makes a term
// defining; the score of an entry is multiplied by definingMissing for each
// of its defining terms the question lacks.
const (
	definingShare   = 0.9
	definingMissing = 0.85
)
