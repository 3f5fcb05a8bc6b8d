package telegram

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/go-telegram/bot/models"
)

// secretHeader carries the webhook secret on Telegram's requests.
const secretHeader = "X-Telegram-Bot-Api-Secret-Token"

// maxUpdateBytes bounds a webhook request body. Updates are a few KB.
const maxUpdateBytes = 1 << 20

// Handler is the webhook endpoint, for a runtime that mounts it on its own
// server (Config.ListenAddr empty); Run serves it itself otherwise. It
// answers 401 to a missing or wrong secret without reading the update,
// 413 to a body over 1 MiB, 400 to one that is not an update, 405 to
// anything but POST, and 503 while the bot is not running or is full (so
// Telegram delivers the update again later). The library's own
// WebhookHandler answers 200 even to a wrong secret, so it is not used.
func (b *Bot) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(secretHeader)), []byte(b.cfg.WebhookSecret)) != 1 {
			b.log.Warn("webhook request with a missing or wrong secret refused", "remote", r.RemoteAddr)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if b.cfg.polling() {
			http.NotFound(w, r) // polling and webhook at once would answer twice
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpdateBytes))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				http.Error(w, "update too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "could not read the update", http.StatusBadRequest)
			return
		}
		var upd models.Update
		if err := json.Unmarshal(body, &upd); err != nil {
			http.Error(w, "not a Telegram update", http.StatusBadRequest)
			return
		}
		if !b.dispatch(r.Context(), &upd, nil) {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
