// Package apptest builds routebot's app for tests, from a map standing for
// the environment, so that no test changes the process's own.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/routebot/routebot/common/app"
	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/common/logging"
)

// Build loads the configuration from env (as the local run does when local)
// and builds the app, logging to logger (nowhere when nil); the app is
// closed when t ends. Any error fails t.
func Build(t testing.TB, env map[string]string, local bool, logger *slog.Logger, opts ...app.Option) *app.App {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return env[k] }, local)
	if err != nil {
		t.Fatal(err)
	}
	if logger == nil {
		logger = logging.New(io.Discard, nil)
	}
	a, err := app.Build(context.Background(), cfg, logger, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}
