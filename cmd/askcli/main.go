// Command askcli asks the answer engine questions from a terminal, a pipe or
// a script, and evaluates, lints and calibrates it. Run "askcli -h".
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
