package search

import (
	"math/rand/v2"
	"testing"
)

// The memo that keeps phrase matching linear in runs of marks finds what
// trying every way through them finds, from every start.
func TestPhraseMemoFindsTheSame(t *testing.T) {
	root := &phraseTrie{platforms: map[string]bool{"web": true}}
	for _, p := range []struct {
		seq     []string
		concept string
	}{
		{[]string{"<from>", "phone"}, "from_phone"},
		{[]string{"delete", subjectMark}, "uninstall"},
		{[]string{"delete", "account"}, "delete_account"},
		{[]string{"log", "out"}, "log_out"},
		{[]string{"<be>", "<can>", "log"}, "able"},
		{[]string{"<can>", "<be>", "<be>", "out"}, "odd"},
	} {
		root.add(p.seq, p.concept)
	}
	words := []string{"<from>", "<be>", "<can>", subjectMark, "phone", "delete", "account", "log", "out", "web", "x"}
	r := rand.New(rand.NewPCG(7, 11))
	for range 2000 {
		seq := make([]string, 1+r.IntN(14))
		for i := range seq {
			seq[i] = words[r.IntN(len(words))]
		}
		memo := map[fromKey]fromResult{}
		for i := range seq {
			wantN, wantC := root.longest(seq, i, nil)
			gotN, gotC := root.longest(seq, i, memo)
			if gotN != wantN || gotC != wantC {
				t.Fatalf("%q from %d: memo gives (%d, %q), without (%d, %q)", seq, i, gotN, gotC, wantN, wantC)
			}
		}
	}
}
