// Package bottest holds what tests of the chat adapters share: the inputs
// strangers may send (BadInputs, ForgedPayloads), checks on what the bot
// sends back (TelegramHTML) and on what it must never show (Leaks). It is
// imported only by tests.
package bottest

import (
	"strings"
	"unicode/utf16"
)

// Input is one message a stranger may send.
type Input struct {
	Name string
	Text string
}

// BadInputs are messages meant to break a bot: empty and blank, huge, every
// script and symbol at once, bytes that are not UTF-8, invisible and
// direction-changing characters, markup of every kind, mentions. Each must
// get a clear reply or a clean refusal, never a panic, a hang, a ping or
// broken formatting.
func BadInputs() []Input {
	cjk := []rune(strings.Repeat("网页版怎么退出登录", 500))[:4096]
	return []Input{
		{"empty", ""},
		{"whitespace", " \t\n\u3000\u00a0 "},
		{"100 KB", strings.Repeat("how do I log out of WhatsApp Web? ", 3100)[:100<<10]},
		{"4096 CJK characters", string(cjk)},
		{"emoji only", "😀🔥👍🏽👨‍👩‍👧‍👦🇨🇳"},
		{"invalid UTF-8", "log out \xff\xfe\xc3( of web \xed\xa0\x80 \xf0\x28\x8c\x28"},
		{"NUL", "log\x00out\x00 of WhatsApp\x00"},
		{"zero-width", "log\u200bout\u200c of\u200d Whats\ufeffApp\u2060 Web"},
		{"RTL override", "\u202ebeW ppAstahW fo tuo gol\u202c \u2066\u2067x\u2069"},
		{"control characters", "\x1b[31mlog out\x1b[0m\r\n\x07\x08\x7f web"},
		{"HTML", `<b>log out</b> <a href="javascript:alert(1)">x</a> <script>alert(1)</script> &amp; &lt; &#0; <i>`},
		{"Markdown", "**log out** __u__ _it_ ~~s~~ `code` ```pre``` [link](https://evil.example) ||spoiler|| \n# heading\n> quote\n-# small"},
		{"mentions", "@everyone @here <@123456789012345678> <@!42> <@&123> <#456> how do I log out"},
		{"hidden mention", "@\u200beveryone @ever\u202eyone <@\u200b123>"},
	}
}

// ForgedPayloads are button data no button of the bot carries: garbage,
// unknown actions, languages and entries, ids too long or with markup,
// mentions and bytes that are not UTF-8.
func ForgedPayloads() []string {
	return []string{
		"",
		"garbage",
		"a|en|no-such-entry",
		"y|fr|web-log-out",
		"x|en|web-log-out",
		"a|en|" + strings.Repeat("x", 70),
		"a|en|<b>web</b>",
		"y|en|@everyone",
		"n|zh-Hans|web-log-out\x00",
		"\xff\xfe|en|web",
		"a|en|web-log-out|extra",
		"a||web-log-out",
		strings.Repeat("|", 100),
	}
}

// Leaks returns the secrets that occur in text.
func Leaks(text string, secrets ...string) []string {
	var found []string
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			found = append(found, s)
		}
	}
	return found
}

// UTF16Len is the length of s in UTF-16 code units, the unit of Telegram's
// and Discord's limits.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
