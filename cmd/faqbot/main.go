// Command faqbot runs the FAQ bot on Telegram and/or Discord, whichever
// have a token configured. Run "faqbot -h" for the settings.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// A second signal exits at once.
		<-ctx.Done()
		stop()
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		os.Exit(130)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stderr))
}
