// Package bot holds what every chat transport shares: the answer engine as
// the transports see it, feedback, flood control, button payloads and the
// bot's own messages. Transports (bot/telegram, bot/discord) depend on this
// package and on search's types, never on each other.
package bot

import (
	"context"
	"time"

	"faqbot/knowledge"
	"faqbot/search"
)

// Answerer is the answer engine as transports use it: answer a question,
// and look up the entry a user picked from a clarification.
type Answerer interface {
	// Answer answers question. ctx carries the asker (WithAsker).
	Answer(ctx context.Context, question string, opts ...search.AskOption) (search.Answer, error)
	// Lookup returns entry id in lang: the choice a user made by pressing
	// one of a clarification's buttons. ctx carries the asker (WithAsker),
	// so that a runtime can record which entry they meant; transports call
	// Lookup for nothing else, as a runtime counts every call as a choice.
	// It fails for an entry that does not exist (a stale or forged button).
	Lookup(ctx context.Context, id string, lang knowledge.Lang) (search.Answer, error)
}

// EngineAnswerer is the answer engine (*search.Engine) as an Answerer.
// The engine's own Lookup needs no context; Answerer's has one for the
// runtimes that record choices. Answer and Close are the engine's.
type EngineAnswerer struct{ *search.Engine }

var _ Answerer = EngineAnswerer{}

// Lookup implements Answerer with the engine's Lookup.
func (e EngineAnswerer) Lookup(_ context.Context, id string, lang knowledge.Lang) (search.Answer, error) {
	return e.Engine.Lookup(id, lang)
}

// Feedback is a user's verdict on one answer.
type Feedback struct {
	Adapter string // "telegram", "discord"
	// User identifies the user within the adapter (a chat user id as a
	// string). Sinks that store it must hash it.
	User    string
	EntryID string
	Lang    knowledge.Lang
	Helpful bool
	Time    time.Time
}

// FeedbackSink receives feedback. Implementations must be safe for
// concurrent use.
type FeedbackSink interface {
	RecordFeedback(ctx context.Context, f Feedback) error
}

// DiscardFeedback is a FeedbackSink that keeps nothing.
type DiscardFeedback struct{}

// RecordFeedback implements FeedbackSink.
func (DiscardFeedback) RecordFeedback(context.Context, Feedback) error { return nil }
