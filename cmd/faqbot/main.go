// Command faqbot runs the FAQ bot on Telegram and/or Discord, whichever
// have a token configured, with a question log, Prometheus metrics, hot
// reload of the guides (SIGHUP) and a graceful stop (SIGINT, SIGTERM; a
// second one exits at once). "faqbot report" reads the question log. Run
// "faqbot -h" for the settings.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(runEnv(context.Background(), os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}
