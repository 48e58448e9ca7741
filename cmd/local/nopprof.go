//go:build !pprof

package main

import "log/slog"

// servePprof does nothing without -tags pprof (see pprof.go).
func servePprof(*slog.Logger) {}
