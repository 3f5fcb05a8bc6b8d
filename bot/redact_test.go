package bot

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const (
	secretToken = "123456:AAF-secret_Token-XYZ"
	secretHook  = "hook-Secret-0123456789"
)

type leakyValuer struct{}

func (leakyValuer) LogValue() slog.Value { return slog.StringValue("valuer " + secretToken) }

type leakyStruct struct{ URL string }

func TestRedactorHandler(t *testing.T) {
	r := NewRedactor(secretToken, secretHook, "short", "")
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			var h slog.Handler = slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
			if format == "json" {
				h = slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
			}
			log := slog.New(r.Handler(h)).With("bound", "with "+secretHook).WithGroup("g")
			err := fmt.Errorf("post https://api.example/bot%s/sendMessage: %w", secretToken, errors.New("reset"))
			log.Debug("message with "+secretToken,
				"err", err,
				"panic", any("boom "+secretToken),
				"valuer", leakyValuer{},
				"struct", leakyStruct{URL: "/bot" + secretToken},
				slog.Group("inner", "s", secretHook, "n", 3),
				secretHook, "as a key",
				"short", "short stays", // below the minimum length: not a secret
			)
			out := buf.String()
			for _, s := range []string{secretToken, secretHook} {
				if strings.Contains(out, s) {
					t.Errorf("secret %q in %s", s, out)
				}
			}
			for _, want := range []string{Redacted, "reset", "boom", "short stays", "3"} {
				if !strings.Contains(out, want) {
					t.Errorf("%q missing from %s", want, out)
				}
			}
		})
	}
}

func TestRedactorString(t *testing.T) {
	var nilR *Redactor
	if got := nilR.String("x " + secretToken); got != "x "+secretToken {
		t.Errorf("nil redactor changed the text: %q", got)
	}
	if got := NewRedactor().String("plain"); got != "plain" {
		t.Errorf("empty redactor: %q", got)
	}
	if got, want := NewRedactor(secretToken).String("a"+secretToken+"b"+secretToken), "a"+Redacted+"b"+Redacted; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
