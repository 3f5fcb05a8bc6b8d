package bottest

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// telegramTags are the tags Telegram's HTML parse mode knows, with the
// attributes each may carry (https://core.telegram.org/bots/api#html-style).
var telegramTags = map[string][]string{
	"b": nil, "strong": nil, "i": nil, "em": nil, "u": nil, "ins": nil,
	"s": nil, "strike": nil, "del": nil, "tg-spoiler": nil,
	"span":       {"class"}, // class="tg-spoiler" only
	"a":          {"href"},
	"tg-emoji":   {"emoji-id"},
	"code":       {"class"}, // class="language-…" inside pre
	"pre":        nil,
	"blockquote": {"expandable"},
}

// TelegramHTML reports why s would not parse as a message in Telegram's
// HTML parse mode, or nil: it must be UTF-8, its tags Telegram's own with
// their attributes, properly nested and closed, and every <, > and & not
// part of a tag written as an entity (&lt; &gt; &amp; &quot; or numeric).
// The tags are read by golang.org/x/net/html's tokenizer.
func TelegramHTML(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not UTF-8")
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var open []string
	at := 0 // byte offset of the current token
	for {
		tt := z.Next()
		raw := string(z.Raw())
		switch tt {
		case html.ErrorToken:
			if !errors.Is(z.Err(), io.EOF) {
				return fmt.Errorf("at %d: %w", at, z.Err())
			}
			if len(open) > 0 {
				return fmt.Errorf("<%s> not closed", open[len(open)-1])
			}
			return nil
		case html.TextToken:
			if err := checkText(raw); err != nil {
				return fmt.Errorf("at %d: %w", at, err)
			}
		case html.StartTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			allowed, ok := telegramTags[tag]
			if !ok {
				return fmt.Errorf("at %d: tag %s is not Telegram's", at, raw)
			}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if !contains(allowed, string(k)) {
					return fmt.Errorf("at %d: attribute %q not allowed on <%s>", at, k, tag)
				}
				if tag == "span" && string(v) != "tg-spoiler" {
					return fmt.Errorf("at %d: <span class=%q>", at, v)
				}
			}
			open = append(open, tag)
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(open) == 0 || open[len(open)-1] != string(name) {
				return fmt.Errorf("at %d: %s closes nothing open", at, raw)
			}
			open = open[:len(open)-1]
		default: // self-closing tags, comments, doctypes
			return fmt.Errorf("at %d: %q is not Telegram HTML", at, raw)
		}
		at += len(raw)
	}
}

// checkText checks a run of text between tags, as it was written.
func checkText(raw string) error {
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '<', '>':
			return fmt.Errorf("bare %q", raw[i])
		case '&':
			end := strings.IndexByte(raw[i:], ';')
			if end < 0 || !entity(raw[i+1:i+end]) {
				return fmt.Errorf("bare & or unknown entity in %q", raw[i:min(len(raw), i+12)])
			}
		}
	}
	return nil
}

// entity reports whether name (between & and ;) is an entity Telegram
// reads: lt, gt, amp, quot, or a character number.
func entity(name string) bool {
	switch name {
	case "lt", "gt", "amp", "quot":
		return true
	}
	digits, hex := strings.CutPrefix(name, "#x")
	if !hex {
		var ok bool
		if digits, ok = strings.CutPrefix(name, "#"); !ok {
			return false
		}
	}
	if digits == "" || len(digits) > 8 {
		return false
	}
	for _, c := range digits {
		if !(c >= '0' && c <= '9' || hex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
