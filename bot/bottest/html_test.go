package bottest

import (
	"strings"
	"testing"
)

func TestTelegramHTML(t *testing.T) {
	valid := []string{
		"plain text",
		"<b>Title</b>\n\n1. Open &lt;Settings&gt; &amp; tap &#34;Log out&#34; &#39;x&#39; &quot; &#x1F600;",
		`<a href="https://faq.whatsapp.com">link</a> <i><u>nested</u></i>`,
		`<span class="tg-spoiler">s</span> <tg-spoiler>t</tg-spoiler> <pre><code class="language-go">x</code></pre>`,
		"",
	}
	for _, s := range valid {
		if err := TelegramHTML(s); err != nil {
			t.Errorf("TelegramHTML(%q) = %v, want nil", s, err)
		}
	}
	invalid := []string{
		"<b>unclosed",
		"</b>",
		"<b><i>crossed</b></i>",
		"<script>alert(1)</script>",
		"<br/>",
		"<!-- comment -->",
		"a < b",
		"a > b",
		"fish & chips",
		"&nbsp;",
		"&#xZZ;",
		"&#;",
		`<span class="red">x</span>`,
		`<b onclick="x">x</b>`,
		"bad \xff byte",
	}
	for _, s := range invalid {
		if err := TelegramHTML(s); err == nil {
			t.Errorf("TelegramHTML(%q) = nil, want an error", s)
		}
	}
}

func TestBadInputs(t *testing.T) {
	names := map[string]bool{}
	for _, in := range BadInputs() {
		if names[in.Name] {
			t.Errorf("two inputs named %q", in.Name)
		}
		names[in.Name] = true
	}
	for _, want := range []string{"empty", "whitespace", "100 KB", "4096 CJK characters", "emoji only", "invalid UTF-8", "NUL", "zero-width", "RTL override", "HTML", "Markdown", "mentions"} {
		if !names[want] {
			t.Errorf("no %q input", want)
		}
	}
	for _, in := range BadInputs() {
		switch in.Name {
		case "100 KB":
			if len(in.Text) != 100<<10 {
				t.Errorf("100 KB is %d bytes", len(in.Text))
			}
		case "4096 CJK characters":
			if n := len([]rune(in.Text)); n != 4096 {
				t.Errorf("%d CJK characters", n)
			}
		}
	}
	if got := Leaks("a secret-token here", "secret-token", "other", ""); len(got) != 1 || got[0] != "secret-token" {
		t.Errorf("Leaks = %q", got)
	}
	if n := UTF16Len("a😀" + strings.Repeat("网", 2)); n != 5 {
		t.Errorf("UTF16Len = %d, want 5", n)
	}
}
