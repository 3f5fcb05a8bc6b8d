package knowledge

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadValidGuide(t *testing.T) {
	b, err := LoadDir("testdata/valid")
	if err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	if got, want := b.IDs(), []string{"web-log-out", "two-step"}; !reflect.DeepEqual(got, want) {
		t.Errorf("IDs() = %v, want %v", got, want)
	}
	if got, want := b.Langs(), []Lang{English, SimplifiedChinese}; !reflect.DeepEqual(got, want) {
		t.Errorf("Langs() = %v, want %v", got, want)
	}
	en, ok := b.Entry("web-log-out", English)
	if !ok {
		t.Fatal("no English web-log-out")
	}
	want := Entry{
		ID: "web-log-out", Guide: "demo", Lang: English, Kind: FAQ,
		Title:     "Log out of the web app",
		Questions: []string{"how do I log out of the web version", "sign out of WhatsApp Web"},
		Answer: []Block{
			{Kind: Steps, Items: []string{"Open the menu (⋮).", `Choose "Log out".`}},
			{Kind: Paragraph, Text: "Your phone keeps every chat."},
		},
		Tags: []Tag{{Key: "platform", Values: []string{"web", "desktop"}}},
		Pos:  Pos{"testdata/valid/demo.en.md", 10},
	}
	if !reflect.DeepEqual(*en, want) {
		t.Errorf("entry =\n%+v\nwant\n%+v", *en, want)
	}
	zh, _ := b.Entry("web-log-out", SimplifiedChinese)
	if got, want := zh.AnswerText(), "1. 打开菜单（⋮）。\n2. 选择「登出」。\n\n手机里的聊天记录不受影响。"; got != want {
		t.Errorf("zh AnswerText() = %q, want %q (Chinese lines join without a space)", got, want)
	}
	if got, want := len(zh.Questions), 2; got != want {
		t.Errorf("the 问法： label gave %d questions, want %d", got, want)
	}
	if !en.HasTag("platform", "web") || en.HasTag("platform", "ios") {
		t.Errorf("HasTag wrong for tags %v", en.Tags)
	}
	if b.Hash() == "" {
		t.Error("Hash() is empty")
	}
}

func TestAnswerTextIsWhatMarkdownShows(t *testing.T) {
	src := "---\nlang: en\n---\n\n## T {#a}\n\nQuestions:\n- q\n\nTags:\n- platform: web\n\n  more\n\nPress \\*Log out\\* &amp; confirm; see [the help](https://faq.example/x) or <https://faq.example/y>.\n\n- one\n\n  two\n"
	b, err := Load(fstest.MapFS{"g.md": {Data: []byte(src)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	e, _ := b.Entry("a", English)
	want := []Block{
		{Kind: Paragraph, Text: "Press *Log out* & confirm; see the help (https://faq.example/x) or https://faq.example/y."},
		{Kind: Bullets, Items: []string{"one two"}},
	}
	if !reflect.DeepEqual(e.Answer, want) {
		t.Errorf("answer =\n%+v\nwant\n%+v", e.Answer, want)
	}
	if got := e.Tag("platform"); !reflect.DeepEqual(got, []string{"web more"}) {
		t.Errorf("tag values = %q, want the item's paragraphs joined with a space", got)
	}
}

func TestLoadHashFollowsContent(t *testing.T) {
	a := fstest.MapFS{"g.en.md": {Data: []byte(validEN)}}
	b := fstest.MapFS{"g.en.md": {Data: []byte(strings.Replace(validEN, "Press", "Tap", 1))}}
	ba, err := Load(a, "")
	if err != nil {
		t.Fatal(err)
	}
	bb, err := Load(b, "")
	if err != nil {
		t.Fatal(err)
	}
	ba2, _ := Load(a, "")
	if ba.Hash() == bb.Hash() || ba.Hash() != ba2.Hash() {
		t.Errorf("hashes: a=%s b=%s a again=%s; want a≠b and a=a again", ba.Hash(), bb.Hash(), ba2.Hash())
	}
}

const validEN = `---
lang: en
---

## Log out {#log-out}

Questions:
- how to log out

Press "Log out".
`

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // each must appear in the error, in this order of listing
	}{
		{"empty file", map[string]string{"g.en.md": " \n\n"}, []string{"g.en.md:1: empty file"}},
		{"no front matter", map[string]string{"g.en.md": "## T {#a}\n\nQuestions:\n- q\n\nA.\n"}, []string{"g.en.md:1: missing front matter"}},
		{"no lang", map[string]string{"g.en.md": "---\nguide: g\n---\n## T {#a}\n\nQuestions:\n- q\n\nA.\n"}, []string{"g.en.md:1: front matter has no lang"}},
		{"unknown language", map[string]string{"g.md": "---\nlang: klingon\n---\n## T {#a}\n\nQuestions:\n- q\n\nA.\n"}, []string{`g.md:1: unknown language "klingon": use one of en, zh-Hans, zh-Hant`}},
		{"unsupported language", map[string]string{"g.md": "---\nlang: fr\n---\n## T {#a}\n\nQuestions:\n- q\n\nA.\n"}, []string{`unknown language "fr"`}},
		{"unknown key", map[string]string{"g.md": "---\nlang: en\nlnag: en\n---\n## T {#a}\n\nQuestions:\n- q\n\nA.\n"}, []string{`g.md:1: unknown front matter key "lnag"`}},
		{"bad yaml", map[string]string{"g.md": "---\nlang: [en\n---\n## T {#a}\n"}, []string{"g.md:1: front matter is not valid YAML"}},
		{"missing id", map[string]string{"g.md": "---\nlang: en\n---\n\n## Title only\n\nQuestions:\n- q\n\nA.\n"}, []string{`g.md:5: entry "Title only" has no id`}},
		{"malformed id", map[string]string{"g.md": "---\nlang: en\n---\n\n## T {#Bad_Id}\n\nQuestions:\n- q\n\nA.\n"}, []string{`g.md:5: malformed id "Bad_Id"`}},
		{"missing title", map[string]string{"g.md": "---\nlang: en\n---\n\n## {#a}\n\nQuestions:\n- q\n\nA.\n"}, []string{`g.md:5: entry "a" has no title`}},
		{"missing answer", map[string]string{"g.md": "---\nlang: en\n---\n\n## T {#a}\n\nQuestions:\n- q\n"}, []string{`g.md:5: entry "a" has no answer`}},
		{"no questions", map[string]string{"g.md": "---\nlang: en\n---\n\n## T {#a}\n\nJust an answer.\n"}, []string{`g.md:5: entry "a" has no alternate questions`}},
		{"label without list", map[string]string{"g.md": "---\nlang: en\n---\n\n## T {#a}\n\nQuestions:\n\nNot a list.\n"}, []string{`g.md:7: "questions" must be followed by a bulleted list`}},
		{"duplicate id", map[string]string{"g.md": "---\nlang: en\n---\n\n## T {#a}\n\nQuestions:\n- q\n\nA.\n\n## U {#a}\n\nQuestions:\n- q\n\nB.\n"}, []string{`g.md:12: duplicate id "a": already used at g.md:5`}},
		{"duplicate id across guides", map[string]string{
			"g.md": "---\nlang: en\n---\n\n## T {#a}\n\nQuestions:\n- q\n\nA.\n",
			"h.md": "---\nlang: en\n---\n\n## T {#a}\n\nQuestions:\n- q\n\nA.\n",
		}, []string{`h.md:5: duplicate id "a": already used at g.md:5`}},
		{"translations differ", map[string]string{
			"g.en.md":      "---\nlang: en\n---\n\n## T {#a}\n\nQuestions:\n- q\n\nA.\n\n## U {#b}\n\nQuestions:\n- q\n\nB.\n",
			"g.zh-Hans.md": "---\nlang: zh-Hans\n---\n\n## 甲 {#a}\n\nQuestions:\n- 问\n\n答。\n",
		}, []string{`g.en.md:12: entry "b" has no translation in g.zh-Hans.md (zh-Hans)`}},
		{"two files one language", map[string]string{
			"a/g.en.md": validEN,
			"b/g.en.md": strings.Replace(validEN, "log-out", "other", 1),
		}, []string{`b/g.en.md:1: guide "g" in en is already defined by a/g.en.md`}},
		{"html", map[string]string{"g.md": "---\nlang: en\n---\n\n## T {#a}\n\nQuestions:\n- q\n\n<div>A</div>\n"}, []string{"g.md:10: HTML is not supported"}},
		{"deep heading", map[string]string{"g.md": "---\nlang: en\n---\n\n## T {#a}\n\nQuestions:\n- q\n\n### Steps\n\nA.\n"}, []string{"g.md:10: unexpected ### heading"}},
		{"text before entries", map[string]string{"g.md": "---\nlang: en\n---\n\nStray text.\n\n## T {#a}\n\nQuestions:\n- q\n\nA.\n"}, []string{"g.md:5: text before the first entry"}},
		{"bad tag", map[string]string{"g.md": "---\nlang: en\n---\n\n## T {#a}\n\nQuestions:\n- q\n\nTags:\n- no colon here\n\nA.\n"}, []string{`g.md:11: tag "no colon here" is malformed`}},
		{"guide name from a bad file name", map[string]string{"My Guide.en.md": validEN}, []string{`My Guide.en.md:1: the file name gives the guide name "my guide", which is malformed`}},
		{"invalid utf8", map[string]string{"g.md": "---\nlang: en\n---\n\n## T {#a}\n\nQuestions:\n- q\xff\n\nA.\n"}, []string{"g.md:8: not valid UTF-8"}},
		{"several problems at once", map[string]string{"g.md": "---\nlang: en\n---\n\n## {#A}\n\nA.\n"}, []string{`g.md:5: malformed id "A"`, `g.md:5: entry "A" has no title`, `g.md:5: entry "A" has no alternate questions`}},
		{"no guides", map[string]string{"README.md": "# hi"}, []string{"no guides in"}},
		{"too big", map[string]string{"g.md": "---\nlang: en\n---\n" + strings.Repeat("a", MaxFileSize)}, []string{"g.md:1: file is more than"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, src := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(src)}
			}
			b, err := Load(fsys, "")
			if err == nil {
				t.Fatalf("Load succeeded with %d entries, want an error", len(b.Entries()))
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error\n%s\ndoes not contain %q", msg, w)
				}
			}
		})
	}
}

func TestLoadCapsTotalSize(t *testing.T) {
	fsys := fstest.MapFS{}
	body := validEN + strings.Repeat("\nMore answer text.\n", 50000) // ~950 KB
	for i := 0; i < 10; i++ {
		fsys[fmt.Sprintf("g%d.en.md", i)] = &fstest.MapFile{Data: []byte(strings.Replace(body, "guide: g", "", 1))}
	}
	_, err := Load(fsys, "dir")
	if err == nil || !strings.Contains(err.Error(), "bytes in all") {
		t.Errorf("10 files of ~1 MB: error %v, want the total-size limit", err)
	}
}

func TestLoadFollowsLinkedGuides(t *testing.T) {
	dir := t.TempDir()
	elsewhere := filepath.Join(t.TempDir(), "real.md")
	os.WriteFile(elsewhere, []byte(validEN), 0o644)
	if err := os.Symlink(elsewhere, filepath.Join(dir, "g.en.md")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	b, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Entry("log-out", English); !ok {
		t.Error("the linked guide was not loaded")
	}
}

func TestLoadErrorsAreTyped(t *testing.T) {
	_, err := Load(fstest.MapFS{"g.md": {Data: []byte("---\nlang: en\n---\n\n## T {#a}\n\nA.\n")}}, "dir")
	var ge *Error
	if !errors.As(err, &ge) {
		t.Fatalf("error %v is not a *knowledge.Error", err)
	}
	if got, want := ge.Pos, (Pos{"dir/g.md", 5}); got != want {
		t.Errorf("Pos = %v, want %v", got, want)
	}
}

func TestParseLang(t *testing.T) {
	tests := []struct {
		in   string
		want Lang
	}{
		{"en", English}, {"en-GB", English}, {"zh-Hans", SimplifiedChinese}, {"zh-CN", SimplifiedChinese},
		{"zh", SimplifiedChinese}, {"zh-Hant", TraditionalChinese}, {"zh-TW", TraditionalChinese}, {"zh-HK", TraditionalChinese},
	}
	for _, tt := range tests {
		if got, err := ParseLang(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseLang(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "fr", "x-nonsense", "zh-Latn"} {
		if _, err := ParseLang(bad); err == nil {
			t.Errorf("ParseLang(%q) succeeded, want an error", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(validEN))
	f.Add([]byte("---\nlang: zh-Hans\n---\n# 标题\n## 甲 {#a}\n问法：\n- 问\n标签：\n- platform: ios\n1. 步骤\n"))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("---\nlang: en\n"))
	f.Add([]byte("## {#}\n- \n1.\n> q\n```\ncode\n```\n<b>x</b>"))
	f.Add([]byte("\ufeff---\nlang: en\n---\n## T {#a b c}\nQuestions:\n- [x](y)\n\nA *b* `c` <http://x>\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		g, errs := parseFile("f.md", src)
		if g == nil && len(errs) == 0 {
			t.Fatal("no guide and no error")
		}
		for _, err := range errs {
			var ge *Error
			if !errors.As(err, &ge) || ge.Pos.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
		}
		if g != nil {
			for _, e := range g.entries {
				if e.ID == "" || e.Title == "" || len(e.Questions) == 0 || len(e.Answer) == 0 {
					t.Fatalf("accepted an incomplete entry: %+v", e)
				}
			}
		}
	})
}
