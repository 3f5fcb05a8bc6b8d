package knowledge

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	meta "github.com/yuin/goldmark-meta"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	"golang.org/x/text/language"
)

// MaxFileSize is the largest guide file the loader reads. A guide is prose
// for people; anything larger is a mistake (or an attack on the parser).
const MaxFileSize = 1 << 20

// MaxIDLen bounds an entry id: ids travel in chat button payloads (Telegram
// allows 64 bytes of callback data), so they stay short.
const MaxIDLen = 48

var idPattern = regexp.MustCompile(`^[a-z0-9-]+$`)

// Error is a problem in a guide file, at a line, with what to fix.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// guideFile is one parsed guide file before cross-file validation.
type guideFile struct {
	name    string
	guide   string
	lang    Lang
	kind    Kind
	title   string
	entries []Entry
}

// Label paragraphs that introduce an entry's lists. The Chinese forms are
// accepted so a guide can be written entirely in Chinese.
var (
	questionLabels = []string{"questions", "问法", "問法"}
	tagLabels      = []string{"tags", "标签", "標籤"}
)

// markdown is the one parser every guide goes through: CommonMark, front
// matter (YAML), and heading attributes for ids ("## Title {#id}").
var markdown = goldmark.New(
	goldmark.WithExtensions(meta.Meta),
	goldmark.WithParserOptions(parser.WithAttribute()),
)

// parseFile parses one guide file. It returns every problem it finds rather
// than the first, so an operator can fix a file in one pass.
func parseFile(name string, src []byte) (g *guideFile, errs []error) {
	defer func() {
		// The Markdown parser is well tested, but a guide may come from anyone:
		// whatever happens inside it becomes an error, never a crash.
		if r := recover(); r != nil {
			g, errs = nil, []error{&Error{Pos{name, 1}, fmt.Sprintf("cannot parse this file: %v", r)}}
		}
	}()
	p := &fileParser{name: name, src: src, lines: lineStarts(src)}
	return p.parse()
}

type fileParser struct {
	name  string
	src   []byte
	lines []int // byte offset of the start of each line
	errs  []error
	// consumed is the list a "Questions:" or "Tags:" label took, so it is
	// not read again as part of the answer.
	consumed ast.Node
}

func (p *fileParser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, &Error{Pos{p.name, line}, fmt.Sprintf(format, args...)})
}

func (p *fileParser) parse() (*guideFile, []error) {
	if len(p.src) > MaxFileSize {
		p.errorf(1, "file is %d bytes, more than the %d a guide may have: split it into several guides", len(p.src), MaxFileSize)
		return nil, p.errs
	}
	if !utf8.Valid(p.src) {
		p.errorf(p.lineOf(firstInvalidUTF8(p.src)), "not valid UTF-8: save the file as UTF-8")
		return nil, p.errs
	}
	if len(bytes.TrimSpace(p.src)) == 0 {
		p.errorf(1, "empty file: a guide needs front matter (lang) and at least one entry (## Title {#id})")
		return nil, p.errs
	}
	src := p.src
	if bytes.HasPrefix(src, []byte("\ufeff")) {
		// A byte order mark would hide the front matter from the parser; blank
		// it out in place so byte offsets (and so line numbers) stay the same.
		src = append([]byte("   "), src[3:]...)
		p.src = src
	}
	ctx := parser.NewContext()
	doc := markdown.Parser().Parse(text.NewReader(src), parser.WithContext(ctx))
	g := &guideFile{name: p.name}
	p.frontMatter(ctx, g)
	p.body(doc, g)
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return g, nil
}

func (p *fileParser) frontMatter(ctx parser.Context, g *guideFile) {
	fm, err := meta.TryGet(ctx)
	if err != nil {
		p.errorf(1, "front matter is not valid YAML: %v", err)
		return
	}
	if len(fm) == 0 {
		p.errorf(1, "missing front matter: start the file with a block like\n---\nlang: en\n---")
		return
	}
	keys := make([]string, 0, len(fm))
	for k := range fm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := fm[k]
		s, ok := v.(string)
		if !ok {
			p.errorf(1, "front matter %q must be a plain string, not %v", k, v)
			continue
		}
		s = strings.TrimSpace(s)
		switch k {
		case "lang":
			l, err := ParseLang(s)
			if err != nil {
				p.errorf(1, "%v", err)
			}
			g.lang = l
		case "guide":
			if !validID(s) {
				p.errorf(1, "guide name %q is malformed: use lower-case letters, digits and hyphens", s)
			}
			g.guide = s
		case "kind":
			switch Kind(s) {
			case FAQ, Chitchat:
				g.kind = Kind(s)
			default:
				p.errorf(1, "unknown kind %q: use %q or %q", s, FAQ, Chitchat)
			}
		default:
			p.errorf(1, "unknown front matter key %q: the keys are guide, lang and kind", k)
		}
	}
	if _, ok := fm["lang"]; !ok {
		p.errorf(1, "front matter has no lang: add a line like \"lang: zh-Hans\" (one of %s)", langList())
	}
	if g.kind == "" {
		g.kind = FAQ
	}
	if g.guide == "" {
		g.guide = guideNameFromFile(p.name)
		if !validID(g.guide) {
			p.errorf(1, "the file name gives the guide name %q, which is malformed: rename the file (lower-case letters, digits, hyphens before the first dot) or add \"guide: some-name\" to the front matter", g.guide)
		}
	}
}

// guideNameFromFile derives a guide's name from its file name,
// "whatsapp-logout.zh-Hans.md" → "whatsapp-logout".
func guideNameFromFile(name string) string {
	base := name[strings.LastIndexByte(name, '/')+1:]
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	return strings.ToLower(base)
}

// ParseLang reads a language tag and maps it to a supported language:
// "en", "en-GB" → en; "zh-Hans", "zh-CN", "zh" → zh-Hans; "zh-Hant",
// "zh-TW", "zh-HK" → zh-Hant.
func ParseLang(s string) (Lang, error) {
	tag, err := language.Parse(s)
	if err == nil {
		base, _ := tag.Base()
		switch base.String() {
		case "en":
			return English, nil
		case "zh":
			script, _ := tag.Script()
			switch script.String() {
			case "Hans":
				return SimplifiedChinese, nil
			case "Hant":
				return TraditionalChinese, nil
			}
		}
	}
	return "", fmt.Errorf("unknown language %q: use one of %s", s, langList())
}

func langList() string {
	parts := make([]string, len(Supported))
	for i, l := range Supported {
		parts[i] = string(l)
	}
	return strings.Join(parts, ", ")
}

func validID(s string) bool { return len(s) <= MaxIDLen && idPattern.MatchString(s) }

func (p *fileParser) body(doc ast.Node, g *guideFile) {
	var cur *Entry
	finish := func() {
		if cur != nil {
			p.checkEntry(cur)
			g.entries = append(g.entries, *cur)
			cur = nil
		}
	}
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		line := p.lineOfNode(n)
		switch n := n.(type) {
		case *ast.Heading:
			switch n.Level {
			case 1:
				if cur != nil || len(g.entries) > 0 {
					p.errorf(line, "the guide title (# heading) must come before the first entry")
				} else if g.title != "" {
					p.errorf(line, "a second guide title: a guide has one # heading; entries are ## headings")
				}
				g.title = p.inline(n)
			case 2:
				finish()
				cur = p.entryHeading(n, g, line)
			default:
				p.errorf(line, "unexpected %s heading: entries are ## headings and answers have no headings", strings.Repeat("#", n.Level))
			}
		case *ast.ThematicBreak:
			// A horizontal rule between entries is harmless decoration.
		default:
			if cur == nil {
				if g.title == "" || !isProse(n) {
					p.errorf(line, "text before the first entry: start each entry with a heading like \"## Title {#some-id}\"")
				}
				continue // An introduction under the guide title is allowed and not used.
			}
			p.entryBlock(cur, n, line)
		}
	}
	finish()
	if len(g.entries) == 0 && len(p.errs) == 0 {
		p.errorf(p.lineOf(len(p.src)), "no entries: add at least one entry starting with a heading like \"## Title {#some-id}\"")
	}
}

func isProse(n ast.Node) bool {
	switch n.(type) {
	case *ast.Paragraph, *ast.List, *ast.TextBlock:
		return true
	}
	return false
}

func (p *fileParser) entryHeading(h *ast.Heading, g *guideFile, line int) *Entry {
	e := &Entry{Guide: g.guide, Lang: g.lang, Kind: g.kind, Pos: Pos{p.name, line}}
	e.Title = p.inline(h)
	raw, ok := h.AttributeString("id")
	id := ""
	if b, isBytes := raw.([]byte); ok && isBytes {
		id = string(b)
	} else if s, isString := raw.(string); ok && isString {
		id = s
	}
	switch {
	case !ok:
		if strings.Contains(e.Title, "{#") {
			p.errorf(line, "malformed id in %q: write the id as {#lower-case-words} at the end of the heading", e.Title)
		} else {
			p.errorf(line, "entry %q has no id: end the heading with {#some-id} (lower-case letters, digits, hyphens)", e.Title)
		}
	case !validID(id):
		p.errorf(line, "malformed id %q: use only lower-case letters, digits and hyphens, at most %d characters", id, MaxIDLen)
	}
	e.ID = id
	return e
}

// entryBlock adds one block of an entry's body. The "Questions:" and "Tags:"
// labels take the list that follows them.
func (p *fileParser) entryBlock(e *Entry, n ast.Node, line int) {
	switch n := n.(type) {
	case *ast.Paragraph:
		txt := p.inline(n)
		if label, ok := matchLabel(txt); ok {
			list, isList := n.NextSibling().(*ast.List)
			if !isList {
				p.errorf(line, "%q must be followed by a bulleted list (lines starting with \"- \")", label)
				return
			}
			switch label {
			case "questions":
				if len(e.Questions) > 0 {
					p.errorf(line, "entry %q has a second Questions: list; merge them into one", e.ID)
				}
				for _, q := range p.listItems(list) {
					if q != "" {
						e.Questions = append(e.Questions, q)
					}
				}
			case "tags":
				p.tags(e, list)
			}
			p.consumed = list
			return
		}
		if txt != "" {
			e.Answer = append(e.Answer, Block{Kind: Paragraph, Text: txt})
		}
	case *ast.List:
		if p.consumed == n {
			return
		}
		kind := Bullets
		if n.IsOrdered() {
			kind = Steps
		}
		items := p.listItems(n)
		if len(items) > 0 {
			e.Answer = append(e.Answer, Block{Kind: kind, Items: items})
		}
	case *ast.HTMLBlock:
		p.errorf(line, "HTML is not supported in guides: write plain Markdown paragraphs and lists")
	case *ast.CodeBlock, *ast.FencedCodeBlock:
		p.errorf(line, "code blocks are not supported in answers: write plain paragraphs and lists")
	case *ast.Blockquote:
		p.errorf(line, "quotes (>) are not supported in answers: write plain paragraphs and lists")
	default:
		p.errorf(line, "unsupported Markdown block (%s): write answers as paragraphs and lists", n.Kind())
	}
}

// checkEntry reports what a finished entry lacks.
func (p *fileParser) checkEntry(e *Entry) {
	line := e.Pos.Line
	if e.Title == "" {
		p.errorf(line, "entry %q has no title: write it after ## and before {#%s}", e.ID, e.ID)
	}
	if len(e.Questions) == 0 {
		p.errorf(line, "entry %q has no alternate questions: add a paragraph \"Questions:\" followed by a list of the ways people ask it", e.ID)
	}
	if len(e.Answer) == 0 {
		p.errorf(line, "entry %q has no answer: write paragraphs or numbered steps after its questions", e.ID)
	}
}

// matchLabel reports whether a paragraph is one of the list labels
// ("Questions:", "Tags:", or their Chinese forms), and which.
func matchLabel(s string) (string, bool) {
	s = strings.TrimSpace(s)
	var rest string
	switch {
	case strings.HasSuffix(s, ":"):
		rest = strings.TrimSuffix(s, ":")
	case strings.HasSuffix(s, "："):
		rest = strings.TrimSuffix(s, "：")
	default:
		return "", false
	}
	rest = strings.ToLower(strings.TrimSpace(rest))
	for _, l := range questionLabels {
		if rest == l {
			return "questions", true
		}
	}
	for _, l := range tagLabels {
		if rest == l {
			return "tags", true
		}
	}
	return "", false
}

// listItems returns the plain text of each item of a list. Nested lists are
// flattened into their parent item's text; an answer is a chat bubble, not
// an outline.
func (p *fileParser) listItems(list *ast.List) []string {
	var items []string
	for it := list.FirstChild(); it != nil; it = it.NextSibling() {
		items = append(items, p.itemText(it))
	}
	return items
}

// itemText is the plain text of one list item: its paragraphs (and any
// nested list) joined like the lines of a paragraph.
func (p *fileParser) itemText(it ast.Node) string {
	var parts []string
	for c := it.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.List:
			parts = append(parts, p.listItems(c)...)
		default:
			if t := p.inline(c); t != "" {
				parts = append(parts, t)
			}
		}
	}
	return joinText(parts)
}

// tags reads "key: value, value" items.
func (p *fileParser) tags(e *Entry, list *ast.List) {
	for it := list.FirstChild(); it != nil; it = it.NextSibling() {
		line := p.lineOfNode(it)
		s := p.itemText(it)
		key, vals, ok := strings.Cut(s, ":")
		if !ok {
			key, vals, ok = strings.Cut(s, "：")
		}
		key = strings.ToLower(strings.TrimSpace(key))
		if !ok || !validID(key) {
			p.errorf(line, "tag %q is malformed: write it as \"key: value, value\" with a lower-case key", s)
			continue
		}
		var values []string
		for _, v := range strings.FieldsFunc(vals, func(r rune) bool { return r == ',' || r == '，' || r == '、' }) {
			if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
				values = append(values, v)
			}
		}
		if len(values) == 0 {
			p.errorf(line, "tag %q has no values: write it as \"%s: value, value\"", key, key)
			continue
		}
		e.Tags = append(e.Tags, Tag{Key: key, Values: values})
	}
}

// inline returns the plain text of a node's inline content: emphasis, code
// spans and links keep their text; raw HTML is reported.
func (p *fileParser) inline(n ast.Node) string {
	var parts []string
	var b strings.Builder
	flush := func() {
		parts = append(parts, b.String())
		b.Reset()
	}
	var walk func(ast.Node)
	walk = func(n ast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Text:
				v := c.Value(p.src)
				if !c.IsRaw() {
					// What a Markdown renderer would show: \* is *, &amp; is &.
					v = util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(v)))
				}
				b.Write(v)
				if c.SoftLineBreak() || c.HardLineBreak() {
					flush()
				}
			case *ast.String:
				b.Write(c.Value)
			case *ast.AutoLink:
				b.Write(c.URL(p.src))
			case *ast.Link:
				// A chat bubble has no links: keep the address beside the text.
				walk(c)
				if dest := string(c.Destination); dest != "" {
					fmt.Fprintf(&b, " (%s)", dest)
				}
			case *ast.RawHTML:
				p.errorf(p.lineOfNode(n), "HTML is not supported in guides: write plain text")
			default:
				walk(c)
			}
		}
	}
	if tb, ok := n.(interface{ Lines() *text.Segments }); ok && n.FirstChild() == nil && n.Type() == ast.TypeBlock {
		// A block without inline children (rare): read its raw lines.
		lines := tb.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			parts = append(parts, string(seg.Value(p.src)))
		}
	} else {
		walk(n)
		flush()
	}
	return joinText(parts)
}

// joinText joins lines of one paragraph: with nothing between two Chinese
// characters (a line break inside Chinese text is not a space), with one
// space otherwise. Runs of white space collapse.
func joinText(parts []string) string {
	var b strings.Builder
	for _, part := range parts {
		part = strings.Join(strings.Fields(part), " ")
		if part == "" {
			continue
		}
		if b.Len() > 0 {
			last, _ := utf8.DecodeLastRuneInString(b.String())
			first, _ := utf8.DecodeRuneInString(part)
			if !(isWide(last) && isWide(first)) {
				b.WriteByte(' ')
			}
		}
		b.WriteString(part)
	}
	return b.String()
}

// isWide reports whether r belongs to text written without spaces between
// words: Han characters and CJK punctuation.
func isWide(r rune) bool {
	return unicode.Is(unicode.Han, r) || (r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xffef)
}

func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// lineOf returns the 1-based line of a byte offset.
func (p *fileParser) lineOf(off int) int {
	return sort.Search(len(p.lines), func(i int) bool { return p.lines[i] > off })
}

// lineOfNode returns the line a node starts on, or the line of its first
// descendant that knows its position.
func (p *fileParser) lineOfNode(n ast.Node) int {
	for ; n != nil; n = n.FirstChild() {
		if pos := n.Pos(); pos >= 0 {
			return p.lineOf(pos)
		}
		if n.Type() == ast.TypeBlock {
			if l := n.Lines(); l != nil && l.Len() > 0 {
				return p.lineOf(l.At(0).Start)
			}
		}
	}
	return 1
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return 0
}
