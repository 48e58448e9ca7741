package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/routebot/routebot/common/store/fsstore"
)

// connect opens the Firestore store of project, on the emulator at
// emulatorHost when it is set (the value run's getenv gave, so that tests
// need not change the process's environment), and waits, bounded by ctx,
// until the store has read the tenant index: an unreachable Firestore fails
// here.
func connect(ctx context.Context, project, emulatorHost string) (*fsstore.Store, func(), error) {
	client, closeClient, err := fsstore.NewClient(ctx, project, emulatorHost)
	if err != nil {
		return nil, nil, err
	}
	// The store's own failure logs would repeat the error the command prints.
	st, err := fsstore.New(ctx, client, fsstore.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		closeClient()
		where := "project " + project
		if emulatorHost != "" {
			where += " on the emulator at " + emulatorHost
		}
		return nil, nil, fmt.Errorf("%s: %w", where, err)
	}
	return st, func() { _ = errors.Join(st.Close(), closeClient()) }, nil
}
