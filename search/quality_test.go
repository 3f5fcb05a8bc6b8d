package search

import (
	"context"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"faqbot/knowledge"
)

// loadDemo builds an engine over one English guide and its lexicon.
func loadDemo(t *testing.T, guide, lexicon string, cfg Config) *Engine {
	t.Helper()
	base, err := knowledge.Load(fstest.MapFS{"demo.en.md": {Data: []byte(guide)}, knowledge.LexiconFile: {Data: []byte(lexicon)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(base, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

const demoAppGuide = `---
guide: demo
lang: en
---

## Remove the app {#uninstall}

Questions:
- how do I uninstall Acme
- remove Acme from my phone

Hold the icon and choose "Remove".

## Close your account {#close-account}

Questions:
- how do I delete my Acme account
- close my account for good

Go to "Settings" > "Account" > "Delete".

## Delete a contact {#contacts}

Questions:
- how do I delete a contact
- remove someone from my contacts

Open the contact and choose "Delete".
`

const demoAppLexicon = `synonyms:
  - [uninstall, delete acme, remove acme]
  - [delete account, close account, delete my account]
  - [delete, remove]
  - [contact, contacts]
  - [phone, mobile]
stopwords: [how, do, i, my, your, a, the, from, acme, for, good, someone, should, if, what, happens]
subject: [acme]
platforms:
  phone: [ios, android]
`

// The app's name is dropped like a stopword, but phrases may name it:
// deleting the app is uninstalling it, unless another word follows that
// the name qualifies.
func TestAppNameInPhrases(t *testing.T) {
	e := loadDemo(t, demoAppGuide, demoAppLexicon, DefaultConfig())
	tests := []struct {
		q    string
		want []string
	}{
		{"should I delete Acme", []string{"uninstall"}},
		{"remove Acme from my phone", []string{"uninstall", "phone"}}, // a platform may follow
		{"delete my Acme account", []string{"delete_account"}},        // passed over inside a phrase
		{"Acme delete account", []string{"delete_account"}},           // ... or before one
		{"delete Acme contacts", []string{"delete", "contact"}},       // the name qualifies the next word
		{"delete a contact", []string{"delete", "contact"}},
		{"acme", nil}, // nothing else: no terms, not the mark
	}
	for _, tt := range tests {
		if got := e.an.analyze(tt.q, 0, true).terms; !slices.Equal(got, tt.want) {
			t.Errorf("terms of %q = %q, want %q", tt.q, got, tt.want)
		}
	}
	a, err := e.Answer(context.Background(), "if I delete Acme what happens")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "uninstall" {
		t.Errorf("Answer(delete Acme) = %s %q, want uninstall", a.Outcome, a.ID)
	}
}

// A stopword that begins a lexicon phrase keeps its place until phrases
// are rewritten: "from my phone" is a phrase of its own, while "from"
// elsewhere is dropped like any stopword and phrases pass over it.
func TestStopwordsBeginningPhrases(t *testing.T) {
	lexicon := strings.Replace(demoAppLexicon, "  - [phone, mobile]\n", "  - [phone, mobile]\n  - [from phone, via phone]\n", 1)
	lexicon = strings.Replace(lexicon, "  phone: [ios, android]\n", "  phone: [ios, android]\n  from phone: [ios, android]\n", 1)
	e := loadDemo(t, demoAppGuide, lexicon, DefaultConfig())
	if got := e.an.marks; len(got) != 1 || got["from"] == "" {
		t.Fatalf("marks = %v, want one for \"from\"", got)
	}
	tests := []struct {
		q    string
		want []string
	}{
		{"delete my account from my phone", []string{"delete_account", "from_phone"}},
		{"delete my account from my mobile", []string{"delete_account", "from_phone"}}, // a synonym of the phrase's word
		{"delete my account for my phone", []string{"delete_account", "phone"}},
		{"remove Acme from my phone", []string{"uninstall", "from_phone"}}, // still followed by a platform
		{"from good contacts", []string{"contact"}},                        // a mark no phrase takes is dropped
		{"from", nil},
	}
	for _, tt := range tests {
		if got := e.an.analyze(tt.q, 0, true).terms; !slices.Equal(got, tt.want) {
			t.Errorf("terms of %q = %q, want %q", tt.q, got, tt.want)
		}
	}
}

// A question naming two platforms (the phone and the web version) prefers
// an entry for both to one for only the web version, when their questions
// read alike.
func TestEntryForSomePlatforms(t *testing.T) {
	const guide = `---
guide: demo
lang: en
---

## Log out of the web version {#web}

Questions:
- log out of the web version
- sign out of the web version at the office

Tags:
- platform: web

Choose "Log out".

## Log out of the web version from anywhere {#anywhere}

Questions:
- log out of the web version
- sign out of the web version at the office

Tags:
- platform: web, phone

Choose "Log out".
`
	const lexicon = `synonyms:
  - [log out, sign out]
  - [web, web version]
  - [phone, mobile]
  - [office, work]
stopwords: [the, of, at, with, my]
platforms:
  web: [web]
  phone: [phone]
`
	e := loadDemo(t, guide, lexicon, DefaultConfig())
	ex, err := e.Explain(context.Background(), "sign out of the web version at the office with my phone")
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Candidates) != 2 || ex.Candidates[0].ID != "anywhere" {
		t.Fatalf("candidates = %+v, want anywhere first", ex.Candidates)
	}
	if c := ex.Candidates[1]; c.ID != "web" || !c.PartPlatform || c.OtherPlatform {
		t.Errorf("web: part platform %v, other platform %v, want true, false", c.PartPlatform, c.OtherPlatform)
	}
	if ex.Candidates[0].PartPlatform {
		t.Errorf("anywhere is for every platform named, but marked as for some")
	}
	ex, err = e.Explain(context.Background(), "sign out of the web version at the office")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ex.Candidates {
		if c.PartPlatform {
			t.Errorf("%s marked as for some platforms of a question naming one", c.ID)
		}
	}
}

// Two entries asked the same way: a near tie of plausible entries is a
// question back to the user, not a coin toss.
func TestNearTieAsksToClarify(t *testing.T) {
	const guide = `---
guide: demo
lang: en
---

## Reset the router {#router}

Questions:
- how do I reset it
- reset the router

Hold the button down for ten seconds.

## Reset the modem {#modem}

Questions:
- how do I reset it
- reset the modem

Unplug it for a minute.
`
	const lexicon = `synonyms:
  - [reset, restart]
  - [router, routers]
  - [modem, modems]
stopwords: [how, do, i, it, the]
`
	cfg := DefaultConfig()
	// Confidence follows the closest question alone: at least AnswerAt
	// (0.7) once the closest question is two thirds of the way there, and
	// never tieBelow (0.95), which would answer a tie all the same.
	cfg.Calibration = Calibration{Closest: 2}
	e := loadDemo(t, guide, lexicon, cfg)
	tests := []struct {
		q       string
		outcome Outcome
		id      string
	}{
		{"restart please", Clarify, ""},
		{"restart the router", Answered, "router"},
	}
	for _, tt := range tests {
		a, err := e.Answer(context.Background(), tt.q)
		if err != nil {
			t.Fatal(err)
		}
		if a.Outcome != tt.outcome || (tt.id != "" && a.ID != tt.id) {
			t.Errorf("Answer(%q) = %s %q, want %s %q", tt.q, a.Outcome, a.ID, tt.outcome, tt.id)
		}
		if a.Outcome == Clarify && len(a.Alternatives) == 0 {
			t.Errorf("Answer(%q) asks to clarify with no other choice", tt.q)
		}
	}
}

// The questions model favours the entry whose own questions use a
// question's words, and a term all of an entry's questions hold defines it.
func TestQuestionsModel(t *testing.T) {
	e := loadDemo(t, demoAppGuide, demoAppLexicon, DefaultConfig())
	an := e.an.analyze("uninstall on my phone", 0, true)
	cands, err := e.rank(context.Background(), &an)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	post := map[string]float64{}
	for _, c := range cands {
		sum += c.posterior
		post[c.id] = c.posterior
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("posteriors sum to %v, want 1", sum)
	}
	if post["uninstall"] <= post["close-account"] {
		t.Errorf("posterior of uninstall %v ≤ close-account %v, want it higher", post["uninstall"], post["close-account"])
	}
	if got := e.qmodel.defining["close-account"]; !slices.Contains(got, "delete_account") {
		t.Errorf("close-account is defined by %q, want delete_account among them", got)
	}
	if got := e.qmodel.defining["uninstall"]; slices.Contains(got, "phone") {
		t.Errorf("uninstall is defined by %q: phone is in one of its questions only", got)
	}
}

// Fitting with the guides asks every alternate question with itself left
// out of its entry, and leaves the engine as it was.
func TestFitCalibrationWithGuides(t *testing.T) {
	b, err := knowledge.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(b, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	before := map[string]map[string][]int{}
	for id, info := range e.docs {
		before[id] = maps.Clone(info.inQuestions)
	}
	cases := []EvalCase{
		{Q: "how do I log out of whatsapp web", Expect: []string{"web-log-out"}},
		{Q: "how do I delete my account", Expect: []string{"phone-delete-account"}},
		{Q: "how do I leave a telegram group", Expect: []string{}},
	}
	_, onlyCases, err := FitCalibration(context.Background(), e, cases, false)
	if err != nil {
		t.Fatal(err)
	}
	c, n, err := FitCalibration(context.Background(), e, cases, true)
	if err != nil {
		t.Fatal(err)
	}
	questions := 0
	for _, en := range b.Entries() {
		if en.Kind == knowledge.FAQ {
			questions += len(en.Questions)
		}
	}
	if n < onlyCases+questions*9/10 {
		t.Errorf("fitted on %d questions, want the %d cases and most of the %d alternate questions", n, onlyCases, questions)
	}
	if !(c.Closest > 0) {
		t.Errorf("fitted %+v: a closer alternate question should make an answer likelier", c)
	}
	for id, info := range e.docs {
		if !maps.EqualFunc(before[id], info.inQuestions, slices.Equal[[]int]) {
			t.Errorf("entry %s: alternate questions not restored after the fit", id)
		}
	}
}

// The guides' own questions, each left out of its entry, are all asked and
// the engine is left as it was.
func TestEvaluateGuides(t *testing.T) {
	e := loadDemo(t, demoAppGuide, demoAppLexicon, DefaultConfig())
	before := map[string]map[string][]int{}
	for id, info := range e.docs {
		before[id] = maps.Clone(info.inQuestions)
	}
	r, err := EvaluateGuides(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 6 || r.InScope != 6 {
		t.Errorf("evaluated %d questions, %d in scope; want the guide's 6, all in scope", r.Total, r.InScope)
	}
	for _, res := range r.Results {
		if res.Answer.Outcome == Answered && res.Answer.ID == "" {
			t.Errorf("%q answered with no entry", res.Case.Q)
		}
	}
	for id, info := range e.docs {
		if !maps.EqualFunc(before[id], info.inQuestions, slices.Equal[[]int]) {
			t.Errorf("entry %s: alternate questions not restored", id)
		}
	}
}
