package search

import (
	"fmt"
	"unicode"

	"faqbot/knowledge"
)

// tieRatio is how close the second entry's score must come to the best
// one's for the two to be a near tie (see decide); a best entry with a
// confidence of tieBelow or more is answered all the same. At 0.92 rather
// than 0.95 a few more questions are asked back instead of answered: on the
// development set right answers fall 97.4% → 96.9% and wrong ones 2.1% →
// 1.7% (the guides' own questions, left out: 97.1 → 96.0% right, 1.5 →
// 1.3% wrong), and a choice between two buttons costs a user less than a wrong
// answer given with confidence.
const (
	tieRatio = 0.92
	tieBelow = 0.95
)

// chitchatCoverage is the share of a question a small-talk entry must cover
// for the question to be small talk.
const chitchatCoverage = 0.6

func (e *Engine) decide(question string, an *analysis, lang knowledge.Lang, cands []scored) Answer {
	ans := Answer{Query: question, Lang: lang, Alternatives: []Candidate{}}
	if len(cands) == 0 || e.offTopic(an) {
		e.fillNone(&ans)
		return ans
	}
	for i := range cands {
		cands[i].conf = e.cfg.Calibration.confidence(cands[i], marginOf(cands, i))
	}
	// Small talk only when the question is mostly small talk: "有人吗" is a
	// greeting, "有人一直传验证码给我" is not.
	if cands[0].kind == knowledge.Chitchat && cands[0].coverage < chitchatCoverage {
		faq := cands[:0:0]
		for _, c := range cands {
			if c.kind == knowledge.FAQ {
				faq = append(faq, c)
			}
		}
		if len(faq) == 0 {
			e.fillNone(&ans)
			return ans
		}
		cands = faq
		for i := range cands {
			cands[i].conf = e.cfg.Calibration.confidence(cands[i], marginOf(cands, i))
		}
	}
	top := cands[0]
	if top.kind == knowledge.FAQ && !e.sharesDomainWord(top) {
		// Only words the guides use in passing ("time", "like") in common:
		// the question is about something else.
		e.fillNone(&ans)
		return ans
	}
	ans.Score, ans.Confidence = top.score, top.conf
	var second *scored
	if len(cands) > 1 {
		second = &cands[1]
	}
	nearby := second != nil && second.kind == knowledge.FAQ && second.score >= 0.85*top.score
	// A near tie between two entries that are each plausible on their own:
	// unless the calibration is all but sure, a pick between them is a coin
	// toss, a choice is not.
	tie := nearby && top.conf < tieBelow && second.score >= tieRatio*top.score && e.cfg.Calibration.confidence(*second, 0) >= e.cfg.DeclineBelow
	switch {
	case top.conf < e.cfg.DeclineBelow:
		e.fillNone(&ans)
		ans.Score, ans.Confidence = top.score, top.conf
	case top.kind == knowledge.Chitchat:
		ans.Outcome = Chitchat
	case top.conf < e.cfg.AnswerAt && nearby, tie:
		ans.Outcome = Clarify
	default:
		ans.Outcome = Answered
	}
	if ans.Outcome != None {
		e.fillEntry(&ans, top.id)
	}
	for _, c := range cands[1:] {
		if len(ans.Alternatives) == 3 {
			break
		}
		if c.kind != knowledge.FAQ || c.conf < e.cfg.DeclineBelow/2 {
			continue
		}
		title := c.id
		if en := e.entry(c.id, lang); en != nil {
			title = en.Title
		}
		// The chance that this one is meant instead: its own probability
		// with no lead over the rest, within what the best one leaves.
		alt := e.cfg.Calibration.confidence(c, 0) * (1 - top.conf)
		ans.Alternatives = append(ans.Alternatives, Candidate{ID: c.id, Title: title, Score: c.score, Confidence: alt})
	}
	if ans.Outcome == Clarify && len(ans.Alternatives) == 0 {
		ans.Outcome = Answered
	}
	return ans
}

// sharesDomainWord reports whether the candidate matched one of the
// lexicon's concepts in its title or alternate questions. A knowledge base
// without synonyms has none, and every match counts.
func (e *Engine) sharesDomainWord(c scored) bool {
	if len(e.an.conceptNames) == 0 {
		return true
	}
	info := e.docs[c.id]
	for _, t := range c.matched {
		// A concept the entry's answer mentions in passing ("nothing on
		// your phone changes") is no sign the question is about it.
		if e.an.lexical(t) && info.terms[t] == 1 {
			return true
		}
	}
	return false
}

// offTopic reports a question decided without the search: it names another
// app (and not the guides' subject), or a topic the guides do not cover.
func (e *Engine) offTopic(an *analysis) bool {
	return (len(an.outOfScope) > 0 && !an.subject) || len(e.uncoveredTopics(an)) > 0
}

func (e *Engine) fillEntry(ans *Answer, id string) {
	en := e.entry(id, ans.Lang)
	if en == nil {
		return
	}
	ans.ID, ans.Title, ans.Blocks, ans.Lang = en.ID, en.Title, en.Answer, en.Lang
}

// fillNone makes the default reply: a short apology and what the bot can
// help with (the guides' fallback entry, tagged "role: fallback").
func (e *Engine) fillNone(ans *Answer) {
	ans.Outcome = None
	ans.ID = ""
	ans.Title = message(msgDontKnow, ans.Lang)
	for _, en := range e.base.Entries() {
		if en.HasTag("role", "fallback") {
			if loc := e.entry(en.ID, ans.Lang); loc != nil {
				ans.Blocks, ans.Lang = loc.Answer, loc.Lang
				ans.Title = message(msgDontKnow, loc.Lang)
				return
			}
		}
	}
	// No fallback entry: list a few entries as examples.
	var items []string
	for _, id := range e.base.IDs() {
		if en := e.entry(id, ans.Lang); en != nil && en.Kind == knowledge.FAQ {
			items = append(items, en.Questions[0])
			if len(items) == 3 {
				break
			}
		}
	}
	ans.Blocks = []knowledge.Block{{Kind: knowledge.Paragraph, Text: message(msgTryAsking, ans.Lang)}, {Kind: knowledge.Bullets, Items: items}}
}

// Lookup returns entry id as an answer in lang, for a choice the user made
// (a clarification button). It fails only for an unknown id.
func (e *Engine) Lookup(id string, lang knowledge.Lang) (Answer, error) {
	if _, ok := e.docs[id]; !ok {
		return Answer{}, fmt.Errorf("search: no entry %q", id)
	}
	ans := Answer{Outcome: Answered, Lang: lang, Confidence: 1, Alternatives: []Candidate{}}
	if e.docs[id].kind == knowledge.Chitchat {
		ans.Outcome = Chitchat
	}
	e.fillEntry(&ans, id)
	return ans, nil
}

// entry returns entry id in lang: the guide's own translation when there is
// one; for Traditional Chinese without its own guide, the Simplified entry
// converted; otherwise the first language the entry exists in.
func (e *Engine) entry(id string, lang knowledge.Lang) *knowledge.Entry {
	if en, ok := e.base.Entry(id, lang); ok {
		return en
	}
	if lang == knowledge.TraditionalChinese {
		if en, ok := e.base.Entry(id, knowledge.SimplifiedChinese); ok {
			return e.traditional(en)
		}
	}
	if lang == knowledge.SimplifiedChinese {
		if en, ok := e.base.Entry(id, knowledge.TraditionalChinese); ok {
			return en
		}
	}
	if ts := e.base.Translations(id); len(ts) > 0 {
		return ts[0]
	}
	return nil
}

func (e *Engine) traditional(en *knowledge.Entry) *knowledge.Entry {
	e.tradMu.Lock()
	defer e.tradMu.Unlock()
	if t, ok := e.tradCache[en.ID]; ok {
		return t
	}
	t := *en
	t.Lang = knowledge.TraditionalChinese
	t.Title = toTraditional(en.Title)
	t.Questions = make([]string, len(en.Questions))
	for i, q := range en.Questions {
		t.Questions[i] = toTraditional(q)
	}
	t.Answer = make([]knowledge.Block, len(en.Answer))
	for i, b := range en.Answer {
		nb := knowledge.Block{Kind: b.Kind, Text: toTraditional(b.Text)}
		for _, it := range b.Items {
			nb.Items = append(nb.Items, toTraditional(it))
		}
		t.Answer[i] = nb
	}
	e.tradCache[en.ID] = &t
	return &t
}

// replyLang picks the language to answer in: Chinese when the question has
// at least as many Chinese characters as English words (brand names like
// WhatsApp or Web do not count: "whatsapp web怎么退出" is a Chinese
// question), Traditional when it uses Traditional characters; English when
// it has English words only; else the hint, else the default.
func (e *Engine) replyLang(an *analysis, hint knowledge.Lang) knowledge.Lang {
	switch {
	case an.hanRunes > 0 && an.hanRunes >= an.latinWords:
		if countTraditional(an.normalized, an.simplified) > 0 {
			return knowledge.TraditionalChinese
		}
		return knowledge.SimplifiedChinese
	case an.latinWords > 0 || hasLetter(an.normalized):
		return knowledge.English
	case hint != "":
		return hint
	}
	return e.cfg.DefaultLang
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) && r < 0x250 {
			return true
		}
	}
	return false
}

// countTraditional counts the characters that change when the text s is
// converted to Simplified (simplified, toSimplified(s)): characters only
// Traditional writing uses.
func countTraditional(s, simplified string) int {
	if s == simplified {
		return 0
	}
	simp := []rune(simplified)
	orig := []rune(s)
	if len(simp) != len(orig) {
		return 1 // a phrase conversion changed the length: Traditional
	}
	n := 0
	for i := range orig {
		if orig[i] != simp[i] {
			n++
		}
	}
	return n
}

type msgKey int

const (
	msgDontKnow msgKey = iota
	msgTryAsking
)

var messages = map[msgKey]map[knowledge.Lang]string{
	msgDontKnow: {
		knowledge.English:            "Sorry, I don't have an answer to that.",
		knowledge.SimplifiedChinese:  "抱歉，这个问题我还回答不了。",
		knowledge.TraditionalChinese: "抱歉，這個問題我還回答不了。",
	},
	msgTryAsking: {
		knowledge.English:            "You could ask, for example:",
		knowledge.SimplifiedChinese:  "你可以这样问：",
		knowledge.TraditionalChinese: "你可以這樣問：",
	},
}

func message(k msgKey, l knowledge.Lang) string {
	if s, ok := messages[k][l]; ok {
		return s
	}
	return messages[k][knowledge.English]
}
