package bot

import "context"

// Observer is told what a transport sees that its answers do not show:
// questions dropped by flood control, failed calls to the chat service,
// and whether it is connected. A runtime turns these into metrics and a
// readiness check. Implementations must be safe for concurrent use and
// quick: transports call them on their hot paths.
type Observer interface {
	// FloodDropped: a message from a user over their flood limit was not
	// answered.
	FloodDropped(adapter string)
	// AdapterError: a call to the chat service (op names it: "sendMessage",
	// "send message", "gateway"…) failed for good, after any retries.
	AdapterError(adapter, op string)
	// Connected: the transport is connected and taking questions (up), or
	// no longer (down).
	Connected(adapter string, up bool)
}

// NopObserver is an Observer that ignores everything.
type NopObserver struct{}

var _ Observer = NopObserver{}

// FloodDropped implements Observer.
func (NopObserver) FloodDropped(string) {}

// AdapterError implements Observer.
func (NopObserver) AdapterError(string, string) {}

// Connected implements Observer.
func (NopObserver) Connected(string, bool) {}

// Asker is who asked a question: the transport and the user's id within
// it. Transports put it in the context they call Answerer.Answer with, so
// that a runtime's Answerer can tell whose question it answers (to link
// feedback to it). Whoever stores User must hash it.
type Asker struct {
	Adapter string
	User    string
}

type askerKey struct{}

// WithAsker returns ctx carrying a.
func WithAsker(ctx context.Context, a Asker) context.Context {
	return context.WithValue(ctx, askerKey{}, a)
}

// AskerFrom returns the Asker in ctx, if a transport put one there.
func AskerFrom(ctx context.Context) (Asker, bool) {
	a, ok := ctx.Value(askerKey{}).(Asker)
	return a, ok
}
