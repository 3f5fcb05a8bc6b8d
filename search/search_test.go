package search

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"faqbot/knowledge"
)

var (
	shippedOnce sync.Once
	shippedEng  *Engine
	shippedErr  error
)

func buildShipped() {
	var b *knowledge.Base
	b, shippedErr = knowledge.Shipped()
	if shippedErr == nil {
		shippedEng, shippedErr = New(b, DefaultConfig())
	}
}

// shipped returns one engine over the shipped guides, shared by the tests.
func shipped(tb testing.TB) *Engine {
	tb.Helper()
	shippedOnce.Do(buildShipped)
	if shippedErr != nil {
		tb.Fatalf("engine: %v", shippedErr)
	}
	return shippedEng
}

func TestNormalizeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Ｗｈａｔｓ　Ａｐｐ  ", "whats app"},                                      // full width, ideographic space
		{"log\u200bout\u202e now\u2066", "logout now"},                      // zero-width, bidi
		{"a\x00b\x07c", "abc"},                                              // control characters
		{"登\uFEFF录", "登录"},                                                  // BOM inside
		{"ｱｲｳ ①", "アイウ 1"},                                                  // half-width katakana, circled digit (NFKC)
		{"bad \xff\xfe utf8", "bad utf8"},                                   // invalid UTF-8 dropped
		{"line\r\nbreak\ttab", "line break tab"},                            // white space collapsed
		{"\U000F0000private", "private"},                                    // private use
		{"can't log out of my friend's PC", "cant log out of my friend pc"}, // contraction, possessive
		{"it's 'quoted' o'clock", "it 'quoted' oclock"},
	}
	for _, tt := range tests {
		if got := normalizeText(tt.in, 0); got != tt.want {
			t.Errorf("normalizeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := strings.Repeat("退出", 100000)
	if got := utf8.RuneCountInString(normalizeText(long, 512)); got != 512 {
		t.Errorf("capped text has %d runes, want 512", got)
	}
}

func TestAnalyzerMeetsSynonymsAcrossLanguages(t *testing.T) {
	e := shipped(t)
	same := [][]string{
		{"登出", "退出", "下线", "sign out", "log off", "logging out"},
		{"网页版", "WhatsApp Web", "浏览器", "browser"},
		{"已链接的设备", "已連結的裝置", "linked devices", "关联设备"},
		{"两步验证", "二次驗證", "2FA", "two-step verification", "two step verification"},
		{"删号", "删除我的账户", "delete my account", "刪除帳號", "删掉帐号"},
		{"卸载", "解除安裝", "uninstall", "uninstalling"},
	}
	for _, group := range same {
		want := strings.Join(e.an.analyze(group[0], 0, true).terms, " ")
		if want == "" {
			t.Fatalf("%q has no terms", group[0])
		}
		for _, w := range group[1:] {
			if got := strings.Join(e.an.analyze(w, 0, true).terms, " "); got != want {
				t.Errorf("%q → %q, want %q (as %q)", w, got, want, group[0])
			}
		}
	}
}

func TestSpellingCorrection(t *testing.T) {
	e := shipped(t)
	tests := []struct{ typo, right string }{
		{"登路", "登录"},          // homophone typo, not a word
		{"二唯码", "二维码"},        // homophone typo split into characters
		{"acount", "account"}, // one edit
		{"verfication", "verification"},
		{"uninstal", "uninstall"},
		{"帐好", "帐号"}, // a syllable typed as a one-character stopword (好)
	}
	for _, tt := range tests {
		got := strings.Join(e.an.analyze(tt.typo, 0, true).terms, " ")
		want := strings.Join(e.an.analyze(tt.right, 0, true).terms, " ")
		if got != want {
			t.Errorf("%q → %q, want %q as for %q", tt.typo, got, want, tt.right)
		}
	}
	// Everyday words are not "corrected" into guide words.
	for _, ok := range []string{"banana keyboard", "现在", "send a voice note", "hotel lobby", "most secure", "dark mode", "look", "cost", "怎么回复消息", "加个密码"} {
		if an := e.an.analyze(ok, 0, true); len(an.corrections) > 0 {
			t.Errorf("%q was corrected: %v", ok, an.corrections)
		}
	}
}

func TestAnswerDecisions(t *testing.T) {
	e := shipped(t)
	ctx := context.Background()
	tests := []struct {
		q       string
		outcome Outcome
		id      string
		lang    knowledge.Lang
	}{
		{"网页版怎么退出", Answered, "web-log-out", knowledge.SimplifiedChinese},
		{"how do I log out of WhatsApp Web", Answered, "web-log-out", knowledge.English},
		{"網頁版怎麼登出", Answered, "web-log-out", knowledge.TraditionalChinese},
		{"whatsapp web怎么logout", Answered, "web-log-out", knowledge.SimplifiedChinese},
		{"怎么开启两步验证", Answered, "tip-two-step-verification", knowledge.SimplifiedChinese},
		{"how to delete my whatsapp account", Answered, "phone-delete-account", knowledge.English},
		{"微信怎么退出登录", None, "", knowledge.SimplifiedChinese},
		{"how do I log out of Telegram", None, "", knowledge.English},
		{"你好", Chitchat, "chat-greeting", knowledge.SimplifiedChinese},
		// Small talk made only of stopwords, asked as the guide lists it.
		{"Who are you?", Chitchat, "chat-about", knowledge.English},
		{"你能做什么", Chitchat, "chat-about", knowledge.SimplifiedChinese},
		{"thanks!", Chitchat, "chat-thanks", knowledge.English},
		// Topics next to the guides' that they do not answer (the
		// lexicon's "uncovered"), however many guide words they share.
		{"怎么把聊天记录转到新手机", None, "", knowledge.SimplifiedChinese},
		{"forgot my two-step verification PIN", None, "", knowledge.English},
		{"how do I leave a WhatsApp group", None, "", knowledge.English},
		{"WhatsApp刪除的訊息可以還原嗎", None, "", knowledge.TraditionalChinese},
		// ... unless the question also names what the topic excludes:
		// messages after deleting the account are the guides' topic.
		{"删号了聊天记录还能恢复吗", Answered, "faq-chat-history", knowledge.SimplifiedChinese},
		// Only words the guides use in passing in common.
		{"what time is it", None, "", knowledge.English},
		// Other services, and features next to the guides' (deleting a
		// contact, being logged out without asking).
		{"how do I sign out of my banking app", None, "", knowledge.English},
		{"whatsapp里怎么删掉一个联系人", None, "", knowledge.SimplifiedChinese},
		{"WhatsApp Web keeps logging me out by itself", None, "", knowledge.English},
		// Not deleting, in Cantonese, is keeping the account.
		{"唔想删帐号，只想喺呢部旧手机登出", Answered, "phone-keep-account", knowledge.SimplifiedChinese},
		// The app by its abbreviation or a transliteration; WeChat by its.
		{"ws网页版怎么退出", Answered, "web-log-out", knowledge.SimplifiedChinese},
		{"瓦次艾普电脑版怎么退出", Answered, "web-log-out", knowledge.SimplifiedChinese},
		{"wx怎么退出登录", None, "", knowledge.SimplifiedChinese},
		// Chat particles say nothing; a misspelt syllable may be one.
		{"want to delete my whatsapp account lah", Answered, "phone-delete-account", knowledge.English},
		{"帐好怎么注销", Answered, "phone-delete-account", knowledge.SimplifiedChinese},
		// A computer logged out from the phone.
		{"log out whatsapp web from my phone", Answered, "remote-log-out", knowledge.English},
		// Logging in, a stolen phone: next to the guides, not in them.
		{"how do i log into whatsapp web", None, "", knowledge.English},
		{"怎么用二维码登录网页版", None, "", knowledge.SimplifiedChinese},
		{"部手機畀人偷咗點算", None, "", knowledge.TraditionalChinese},
		// A concept only an entry's answer mentions ("changes"): no match.
		{"how to reset my modem", None, "", knowledge.English},
		// A version or model number says little; numbers alone say nothing.
		{"log out of whatsapp desktop on windows 10", Answered, "web-log-out", knowledge.English},
		{"8888 9999", None, "", knowledge.English},
		// How people tell their story: 遲 (Cantonese: late), finding out
		// whether someone uses it, WhatsApp left open on a computer, "long
		// story" (not the status), 转去另一个号码 (switching, not moving chats).
		{"訊息好遲先收到,登出再登入有冇用", Answered, "why-log-out", knowledge.TraditionalChinese},
		{"怎么知道别人有没有在用我的whatsapp", Answered, "tip-check-linked-devices", knowledge.SimplifiedChinese},
		{"i left whatsapp open at my old office", Answered, "remote-log-out", knowledge.English},
		{"long story short, how do i delete my account", Answered, "phone-delete-account", knowledge.English},
		{"我想轉去另一個號碼用WhatsApp", Answered, "phone-keep-account", knowledge.TraditionalChinese},
	}
	for _, tt := range tests {
		a, err := e.Answer(ctx, tt.q)
		if err != nil {
			t.Fatalf("Answer(%q): %v", tt.q, err)
		}
		if a.Outcome != tt.outcome || a.ID != tt.id || a.Lang != tt.lang {
			t.Errorf("Answer(%q) = %s %q in %s, want %s %q in %s", tt.q, a.Outcome, a.ID, a.Lang, tt.outcome, tt.id, tt.lang)
		}
		if a.Confidence < 0 || a.Confidence > 1 {
			t.Errorf("Answer(%q) confidence %v outside [0,1]", tt.q, a.Confidence)
		}
		if len(a.Alternatives) > 3 {
			t.Errorf("Answer(%q) has %d alternatives, want at most 3", tt.q, len(a.Alternatives))
		}
		if a.Outcome == None && (a.Title == "" || len(a.Blocks) == 0) {
			t.Errorf("Answer(%q) declined without a helpful default reply", tt.q)
		}
	}
}

func TestTraditionalAnswerIsConverted(t *testing.T) {
	e := shipped(t)
	a, err := e.Answer(context.Background(), "如何刪除帳號")
	if err != nil {
		t.Fatal(err)
	}
	if a.Lang != knowledge.TraditionalChinese {
		t.Fatalf("lang = %s, want zh-Hant", a.Lang)
	}
	if strings.Contains(a.Text(), "删除") || !strings.Contains(a.Text(), "刪除") {
		t.Errorf("answer is not in Traditional characters:\n%s", a.Text())
	}
}

func TestLangHintForWordlessQuestions(t *testing.T) {
	e := shipped(t)
	a, _ := e.Answer(context.Background(), "🙂🙂", WithLangHint(knowledge.SimplifiedChinese))
	if a.Outcome != None || a.Lang != knowledge.SimplifiedChinese {
		t.Errorf("emoji with a zh-Hans hint: %s in %s, want none in zh-Hans", a.Outcome, a.Lang)
	}
	a, _ = e.Answer(context.Background(), "🙂🙂")
	if a.Lang != DefaultConfig().DefaultLang {
		t.Errorf("emoji without a hint: lang %s, want the default %s", a.Lang, DefaultConfig().DefaultLang)
	}
}

func TestBadInput(t *testing.T) {
	e := shipped(t)
	inputs := map[string]string{
		"empty":            "",
		"whitespace":       " \t\n\u3000 ",
		"emoji only":       "😀😀🎉",
		"100 KB":           strings.Repeat("how do i log out ", 6000),
		"4096 CJK":         strings.Repeat("退", 4096),
		"invalid utf-8":    "\xff\xfe\xfd 退出",
		"NUL":              "\x00\x00网页版\x00",
		"zero-width":       "\u200b\u200c\u200d\u2060",
		"RTL override":     "\u202eتو logout\u202c",
		"HTML":             "<b>退出</b><script>alert(1)</script>",
		"Markdown":         "**bold** _x_ `code` [a](http://x) # title",
		"@everyone":        "@everyone @here 网页版怎么退出",
		"only punctuation": "？？？!!!...",
	}
	for name, q := range inputs {
		t.Run(name, func(t *testing.T) {
			a, err := e.Answer(context.Background(), q)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if a.Outcome == "" || a.Text() == "" {
				t.Errorf("no reply: %+v", a)
			}
		})
	}
}

func TestAnswerHonoursContext(t *testing.T) {
	e := shipped(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Answer(ctx, "网页版怎么退出"); err == nil {
		t.Error("Answer with a cancelled context succeeded")
	}
}

func TestLookup(t *testing.T) {
	e := shipped(t)
	a, err := e.Lookup("remote-log-out", knowledge.English)
	if err != nil || a.ID != "remote-log-out" || a.Lang != knowledge.English || a.Outcome != Answered {
		t.Errorf("Lookup = %+v, %v", a, err)
	}
	a, err = e.Lookup("remote-log-out", knowledge.TraditionalChinese)
	if err != nil || a.Lang != knowledge.TraditionalChinese || !strings.Contains(a.Title, "遠端") && !strings.Contains(a.Title, "電腦") {
		t.Errorf("Lookup zh-Hant = %q in %s, %v", a.Title, a.Lang, err)
	}
	if _, err := e.Lookup("no-such-entry", knowledge.English); err == nil {
		t.Error("Lookup of an unknown id succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []func(*Config){
		func(c *Config) { c.TitleBoost = -1 },
		func(c *Config) { c.AnswerAt = 0.2; c.DeclineBelow = 0.5 },
		func(c *Config) { c.DefaultLang = "fr" },
		func(c *Config) { c.MaxQueryRunes = 0 },
	}
	for i, mut := range bad {
		c := DefaultConfig()
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("case %d: Validate accepted %+v", i, c)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig invalid: %v", err)
	}
}

// The lean dictionary must give the answers the full one gives.
func TestLeanDictionaryAnswersLikeFull(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the full dictionary")
	}
	lean := shipped(t)
	cfg := DefaultConfig()
	cfg.FullDictionary = true
	full, err := New(lean.Base(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	cases := devCases(t)
	var differ int
	for _, c := range cases {
		a, _ := lean.Answer(context.Background(), c.Q)
		b, _ := full.Answer(context.Background(), c.Q)
		if a.Outcome != b.Outcome || a.ID != b.ID {
			differ++
			t.Logf("%q: lean %s %s, full %s %s", c.Q, a.Outcome, a.ID, b.Outcome, b.ID)
		}
	}
	lr, _ := Evaluate(context.Background(), lean, cases)
	fr, _ := Evaluate(context.Background(), full, cases)
	if lr.AnsweredRight != fr.AnsweredRight || lr.WrongRate != fr.WrongRate || lr.DeclinedCorrectly != fr.DeclinedCorrectly {
		t.Errorf("lean dictionary: right %.3f wrong %.3f declined %.3f; full: %.3f %.3f %.3f",
			lr.AnsweredRight, lr.WrongRate, lr.DeclinedCorrectly, fr.AnsweredRight, fr.WrongRate, fr.DeclinedCorrectly)
	}
	t.Logf("%d of %d questions answered differently", differ, len(cases))
}

func TestUncoveredTopics(t *testing.T) {
	const guide = `---
guide: demo
lang: en
---

## Log out of the web app {#web-log-out}

Questions:
- how do I log out of the web version
- log out of web on a borrowed laptop

Click "Log out".

## Turn on two-step verification {#two-step}

Questions:
- how do I set a PIN for my account
- how do I set a PIN for my account on a laptop

Go to "Settings" > "Account".
`
	const lexicon = `synonyms:
  - [log out, sign out]
  - [laptop, computer]
  - [pin, passcode]
  - [group, groups]
  - [forgot, forgotten]
uncovered:
  - [group, -laptop]
  - [forgot, pin]
  - [borrowed]
`
	base, err := knowledge.Load(fstest.MapFS{"demo.en.md": {Data: []byte(guide)}, knowledge.LexiconFile: {Data: []byte(lexicon)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(base, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tests := []struct {
		q       string
		outcome Outcome
	}{
		{"how do I log out of a group", None},                    // a topic the guides do not cover
		{"how do I log out of a group on my computer", Answered}, // ... unless it names "laptop"
		{"I forgot my passcode", None},                           // every term of a topic, in any order
		{"how do I set a passcode", Answered},                    // only some of them
		{"log out of web on a borrowed computer", Answered},      // an alternate question asks about it: covered
	}
	for _, tt := range tests {
		a, err := e.Answer(context.Background(), tt.q)
		if err != nil {
			t.Fatalf("Answer(%q): %v", tt.q, err)
		}
		if a.Outcome != tt.outcome {
			t.Errorf("Answer(%q) = %s %q, want %s", tt.q, a.Outcome, a.ID, tt.outcome)
		}
	}
}

// Small-talk answers describe what the guides cover ("I answer questions
// about logging out…"); searched, they would make a question about logging
// out small talk.
func TestSmallTalkAnswersAreNotSearched(t *testing.T) {
	e := shipped(t)
	for _, q := range []string{"can u help me log out", "你能帮我退出登录吗"} {
		a, err := e.Answer(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if a.Outcome == Chitchat || a.Outcome == None {
			t.Errorf("Answer(%q) = %s %q, want an entry about logging out", q, a.Outcome, a.ID)
		}
	}
}
