package bot

import (
	"fmt"
	"strings"

	"faqbot/knowledge"
)

// Action is what a button asks for.
type Action byte

// The button actions.
const (
	// Choose: show entry ID (a clarification choice).
	Choose Action = 'a'
	// Helpful / Unhelpful: feedback on the answer with entry ID.
	Helpful   Action = 'y'
	Unhelpful Action = 'n'
)

// Payload is the data a button carries: short enough for Telegram's 64
// bytes of callback data and Discord's 100-character custom ids.
type Payload struct {
	Action Action
	ID     string
	Lang   knowledge.Lang
}

// Encode returns the payload as "a|zh-Hant|entry-id".
func (p Payload) Encode() string {
	return string(p.Action) + "|" + string(p.Lang) + "|" + p.ID
}

// ParsePayload reads a button payload. Data from a client is untrusted: it
// may be forged, truncated or from an older version of the bot.
func ParsePayload(s string) (Payload, error) {
	if len(s) > 64 {
		return Payload{}, fmt.Errorf("payload too long")
	}
	parts := strings.SplitN(s, "|", 3)
	if len(parts) != 3 || len(parts[0]) != 1 {
		return Payload{}, fmt.Errorf("malformed payload %q", s)
	}
	p := Payload{Action: Action(parts[0][0]), ID: parts[2]}
	switch p.Action {
	case Choose, Helpful, Unhelpful:
	default:
		return Payload{}, fmt.Errorf("unknown action in %q", s)
	}
	lang, err := knowledge.ParseLang(parts[1])
	if err != nil {
		return Payload{}, err
	}
	p.Lang = lang
	if p.ID == "" || len(p.ID) > knowledge.MaxIDLen || strings.Trim(p.ID, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return Payload{}, fmt.Errorf("malformed id in %q", s)
	}
	return p, nil
}
