// Package fsstoretest opens Firestore stores on the emulator for tests (the
// emulator itself: internal/emulator). The fsstore package's own tests
// cannot use it: it imports fsstore.
package fsstoretest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/routebot/routebot/common/store/fsstore"
)

// Open returns a store of project on the emulator at host, its log
// discarded, closed with its client when tb ends (closing it sooner is
// safe). prefix keeps one test's collections apart from another's in a
// shared project ("" for none).
func Open(tb testing.TB, host, project, prefix string) *fsstore.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, closeClient, err := fsstore.NewClient(ctx, project, host)
	if err != nil {
		tb.Fatalf("fsstoretest: %v", err)
	}
	tb.Cleanup(func() { _ = closeClient() })
	st, err := fsstore.New(ctx, client, fsstore.Options{Prefix: prefix, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatalf("fsstoretest: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() }) // before the client's: cleanups run last first
	return st
}
