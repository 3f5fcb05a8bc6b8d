package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// Redacted is what a secret is replaced with.
const Redacted = "[redacted]"

// minSecretLen is the shortest secret a Redactor hides: a shorter string
// (a one-letter webhook secret) would turn up in ordinary text, and hiding
// it there would garble every log line without protecting anything.
const minSecretLen = 8

// Redactor replaces secrets (bot tokens, webhook secrets) in text. The zero
// value and a nil *Redactor hide nothing. It is safe for concurrent use.
type Redactor struct {
	r *strings.Replacer
}

// NewRedactor hides each of secrets that is at least 8 bytes long; empty
// and shorter ones are ignored.
func NewRedactor(secrets ...string) *Redactor {
	var pairs []string
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			pairs = append(pairs, s, Redacted)
		}
	}
	if len(pairs) == 0 {
		return &Redactor{}
	}
	return &Redactor{r: strings.NewReplacer(pairs...)}
}

// String returns s with every secret replaced by Redacted.
func (r *Redactor) String(s string) string {
	if r == nil || r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// Handler wraps h so that no record reaching it holds a secret: the
// message, every attribute key and value (strings, errors, and anything
// else once printed) and group names are redacted. Adapters log through
// it, so a token that slips into an error from a library, a panic value or
// a response body never reaches the log.
func (r *Redactor) Handler(h slog.Handler) slog.Handler {
	return &redactHandler{next: h, r: r}
}

type redactHandler struct {
	next slog.Handler
	r    *Redactor
}

var _ slog.Handler = (*redactHandler)(nil)

func (h *redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.attr(a)
	}
	return &redactHandler{next: h.next.WithAttrs(red), r: h.r}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{next: h.next.WithGroup(h.r.String(name)), r: h.r}
}

func (h *redactHandler) attr(a slog.Attr) slog.Attr {
	a.Key = h.r.String(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(h.r.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]slog.Attr, len(g))
		for i, ga := range g {
			red[i] = h.attr(ga)
		}
		a.Value = slog.GroupValue(red...)
	case slog.KindAny:
		// Errors, Stringers, structs: as the handler would print them.
		s := fmt.Sprint(v.Any())
		if red := h.r.String(s); red != s {
			a.Value = slog.StringValue(red)
		} else {
			a.Value = v
		}
	default:
		a.Value = v
	}
	return a
}
