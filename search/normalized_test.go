package search

import "testing"

func TestNormalizeExported(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"  How do I  LOG OUT?\u200b ", "how do i log out?"},
		{"ＷｈａｔｓＡｐｐ　網頁版", "whatsapp 網頁版"},
		{"can't\tlog\nout", "cant log out"},
	} {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
