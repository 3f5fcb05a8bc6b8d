package search

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"faqbot/knowledge"
)

var update = flag.Bool("update", false, "rewrite the files made ahead of time in dict/ (with -run naming the test that checks them)")

// TestShippedLeanDictionary checks that the embedded lean dictionary is the
// one the shipped guides derive today; -update rewrites it.
func TestShippedLeanDictionary(t *testing.T) {
	base, err := knowledge.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	texts, terms := dictionaryInputs(base)
	want, err := leanDictionary(texts, terms)
	if err != nil {
		t.Fatal(err)
	}
	file := "# key " + dictKey(base.Hash()) + "\n" + want
	if *update {
		if err := os.WriteFile("dict/shipped-lean.txt", []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if shippedLean != file {
		t.Fatal("dict/shipped-lean.txt is stale: the guides, the lexicon or the derivation changed; run go generate ./search")
	}
	e, err := New(base, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got := e.DictionarySource(); got != "embedded" {
		t.Errorf("shipped guides use the %s dictionary, want the embedded one", got)
	}
}

func TestLeanDictionaryCache(t *testing.T) {
	dir := t.TempDir()
	guides := filepath.Join(dir, "guides")
	os.MkdirAll(guides, 0o755)
	os.WriteFile(filepath.Join(guides, "g.zh-Hans.md"), []byte("---\nlang: zh-Hans\n---\n\n## 重启路由器 {#reset}\n\n问法：\n- 路由器怎么重启\n\n按住复位键十秒钟。\n"), 0o644)
	base, err := knowledge.LoadDir(guides)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.CacheDir = filepath.Join(dir, "cache")
	first, err := New(base, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := first.DictionarySource(); !strings.HasPrefix(got, "derived, cached in ") {
		t.Errorf("first start: dictionary %q, want derived and cached", got)
	}
	second, err := New(base, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := second.DictionarySource(); !strings.HasPrefix(got, "cache ") {
		t.Errorf("second start: dictionary %q, want the cache", got)
	}
	// A damaged cache file is noticed and replaced.
	files, _ := filepath.Glob(filepath.Join(cfg.CacheDir, "lean-*.dict"))
	if len(files) != 1 {
		t.Fatalf("cache files %v, want one", files)
	}
	os.WriteFile(files[0], []byte("# sha256 0000\n"), 0o644)
	third, err := New(base, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := third.DictionarySource(); !strings.HasPrefix(got, "derived, cached in ") {
		t.Errorf("after damage: dictionary %q, want derived again", got)
	}
	cfg.CacheDir = ""
	fourth, err := New(base, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := fourth.DictionarySource(); got != "derived" {
		t.Errorf("without a cache dir: %q, want derived", got)
	}
	for _, e := range []*Engine{first, second, third, fourth} {
		e.Close()
	}
}
