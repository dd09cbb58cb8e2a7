// Command mlguard is a CI gate for machine-learning supply chains.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"

	"github.com/mlguard/mlguard/internal/cli"
)

func main() {
	// mlguard's large structures (the pickle memo, string arena) hold no
	// pointers, so collecting more often is cheap and keeps peak memory near
	// what is live. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(30)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
