//go:build pprof

package main

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on http.DefaultServeMux
	"os"
)

// servePprof, in a build with -tags pprof, serves net/http/pprof on
// ROUTEBOT_PPROF_ADDR (default 127.0.0.1:6060), apart from the turn
// listener, to profile turns under load (docs/performance.md). Never in a
// default build: profiles expose the process's memory.
func servePprof(logger *slog.Logger) {
	addr := os.Getenv("ROUTEBOT_PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go func() { logger.Error("pprof listener", "error", http.ListenAndServe(addr, nil)) }()
}
