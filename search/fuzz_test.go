package search

import (
	"context"
	"fmt"
	"os"
	"testing"
	"unicode/utf8"
)

func devCases(tb testing.TB) []EvalCase {
	tb.Helper()
	f, err := os.Open("testdata/eval/dev.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	cases, err := ReadEvalCases(f)
	if err != nil {
		tb.Fatal(err)
	}
	return cases
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "Ｗｈａｔｓ　Ａｐｐ", "\u202e退出\u200b", "\xff\xfe", "登陆 acount", "🙂"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := normalizeText(s, 64)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		if n := utf8.RuneCountInString(out); n > 64 {
			t.Fatalf("%d runes out, cap is 64", n)
		}
		if again := normalizeText(out, 64); again != out {
			t.Fatalf("not idempotent: %q → %q → %q", s, out, again)
		}
	})
}

func FuzzAnswer(f *testing.F) {
	for _, s := range []string{"网页版怎么退出", "how to log out", "", "\x00", "微信怎么退出", "刪除帳號", "@everyone <b>x</b>", "😀"} {
		f.Add(s)
	}
	e := shipped(f)
	f.Fuzz(func(t *testing.T, q string) {
		a, err := e.Answer(context.Background(), q)
		if err != nil {
			t.Fatalf("Answer(%q): %v", q, err)
		}
		switch a.Outcome {
		case Answered, Clarify, None, Chitchat:
		default:
			t.Fatalf("Answer(%q): outcome %q", q, a.Outcome)
		}
		if a.Confidence < 0 || a.Confidence > 1 || a.Text() == "" || len(a.Alternatives) > 3 {
			t.Fatalf("Answer(%q) = %+v", q, a)
		}
	})
}

func ExampleEngine_Answer() {
	e := shippedForExample()
	a, _ := e.Answer(context.Background(), "WhatsApp 网页版怎么登出？")
	fmt.Println(a.Outcome, a.ID, a.Lang)
	a, _ = e.Answer(context.Background(), "微信怎么退出登录")
	fmt.Println(a.Outcome, a.Lang)
	// Output:
	// answered web-log-out zh-Hans
	// none zh-Hans
}

func shippedForExample() *Engine {
	shippedOnce.Do(buildShipped)
	if shippedErr != nil {
		panic(shippedErr)
	}
	return shippedEng
}
