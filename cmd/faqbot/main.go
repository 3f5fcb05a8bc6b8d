// Command faqbot runs the FAQ bot on Telegram and/or Discord, whichever
// have a token configured, with a question log, Prometheus metrics, hot
// reload of the guides (SIGHUP) and a graceful stop (SIGINT, SIGTERM).
// "faqbot report" reads the question log. Run "faqbot -h" for the settings.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// run stops gracefully at the first SIGINT or SIGTERM; a second one
	// exits at once.
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		<-sig
		os.Exit(130)
	}()
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}
