// Command caserisk is the predictive case-risk analytics engine: it generates
// a synthetic borough, builds point-in-time features, trains and evaluates
// models, and serves scores with their reasons.
//
// Run `caserisk help` for the commands. Exit codes: 0 ok, 1 failure, 2 usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runTo(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string) int { return runTo(ctx, args, os.Stderr) }

// runTo is run with the error report written to stderr.
func runTo(ctx context.Context, args []string, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "caserisk: %s\n", errorText(err))
	code := exitCode(err)
	if code == 2 {
		fmt.Fprintln(stderr, "Run 'caserisk help' or 'caserisk <command> --help' for usage.")
	}
	return code
}

// errorText is an error's message without a leading "caserisk ": messages
// that name their command by its full path ("caserisk models register:
// ...") would otherwise repeat the prefix run adds, which is printed once.
func errorText(err error) string {
	return strings.TrimPrefix(err.Error(), "caserisk ")
}

// exitCode maps a command's error to the process exit code: 0 ok, 2 a
// usage error, 1 any other failure.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return 0
	// cobra reports missing required flags itself; those are usage errors too.
	case errors.As(err, &ue) || strings.HasPrefix(err.Error(), "required flag"):
		return 2
	}
	return 1
}
