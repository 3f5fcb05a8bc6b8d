// Command askcli asks the answer engine questions from a terminal, a pipe or
// a script, and evaluates, lints and calibrates it. Run "askcli -h".
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
)

func main() {
	if os.Getenv("GOGC") == "" {
		// askcli mostly lives for one question, and nearly all it allocates
		// is the engine it builds at start: collecting three times less
		// often saves a fifth of a cold start for about 3 MB more memory
		// (see the README's measurements). GOGC overrides this.
		debug.SetGCPercent(300)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
