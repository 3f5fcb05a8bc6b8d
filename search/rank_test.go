package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Entries that Bleve scores alike are cut by id, however many tie and in
// whatever order the guide lists them: the search asks for more hits when
// a tie reaches past the ones it fetched.
func TestRankTiesTakenByID(t *testing.T) {
	for _, n := range []int{rerankDepth - 3, rerankDepth + 1, 2 * rerankDepth, 3*rerankDepth + 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ids := make([]string, n)
			for i := range ids {
				ids[i] = fmt.Sprintf("lamp-%02d", i)
			}
			shuffled := append([]string(nil), ids...)
			rand.New(rand.NewPCG(1, uint64(n))).Shuffle(n, func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			var guide strings.Builder
			guide.WriteString("---\nguide: demo\nlang: en\n---\n")
			for _, id := range shuffled {
				fmt.Fprintf(&guide, "\n## Lamp {#%s}\n\nQuestions:\n- switch the lamp on\n\nPress the switch.\n", id)
			}
			// An entry that does not tie, listed last: it must come first.
			guide.WriteString("\n## Lamp switch {#zz-best}\n\nQuestions:\n- switch the lamp on\n- lamp switch\n\nPress the lamp switch.\n")
			e := loadDemo(t, guide.String(), "stopwords: [the, on]\n", DefaultConfig())
			an := e.an.analyze("lamp switch", e.cfg.MaxQueryRunes, true)
			got, err := e.rank(context.Background(), &an)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]string{"zz-best"}, ids[:min(n, rerankDepth-1)]...)
			if len(got) != len(want) {
				t.Fatalf("rank returned %d candidates, want %d", len(got), len(want))
			}
			for i, c := range got {
				if c.id != want[i] {
					t.Errorf("candidate %d = %s, want %s", i, c.id, want[i])
				}
			}
		})
	}
}
