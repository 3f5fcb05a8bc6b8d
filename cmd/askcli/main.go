// Command askcli asks the answer engine questions from a terminal, a pipe or
// a script, and evaluates, lints and calibrates it. Run "askcli -h".
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
)

// gcPercent is askcli's GOGC unless the environment sets one. askcli mostly
// lives for one question, and nearly all it allocates is the engine it
// builds at start, which stays live: over the shipped guides a one-shot
// question allocates about 8 MB in all, which at Go's default (100: the
// first collection at 4 MB) means two collections that free almost
// nothing, and at 300 (the first at 12 MB) none. With thousands of entries
// the heap may grow to four times what is live (see the README); set GOGC
// or GOMEMLIMIT for such guide sets.
const gcPercent = 300

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
