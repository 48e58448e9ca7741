package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/routebot/routebot/common/store/fsstore"
)

// firestoreAddr is where the Go client reaches Firestore without an emulator.
const firestoreAddr = "firestore.googleapis.com:443"

// probeTimeout bounds the dial that tells an address nothing listens at
// from a Firestore that is slow to answer.
const probeTimeout = 3 * time.Second

// endpoint is where connect talks to Firestore.
type endpoint struct {
	project      string
	emulatorHost string // FIRESTORE_EMULATOR_HOST; "" for Firestore itself
	viaProxy     bool   // HTTPS_PROXY is set: the client dials the proxy, not firestoreAddr
}

func (e endpoint) String() string {
	if e.emulatorHost != "" {
		return "project " + e.project + " on the emulator at " + e.emulatorHost + " (FIRESTORE_EMULATOR_HOST)"
	}
	return "project " + e.project + " at " + firestoreAddr
}

// connect opens the Firestore store of the endpoint (the emulator host is
// the value run's getenv gave, so that tests need not change the process's
// environment), and waits, bounded by ctx, until the store has read the
// tenant index. Nothing listening at the address fails within probeTimeout:
// the client itself would retry until ctx ends.
func connect(ctx context.Context, e endpoint) (*fsstore.Store, func(), error) {
	addr := e.emulatorHost
	if addr == "" && !e.viaProxy {
		addr = firestoreAddr
	}
	if addr != "" {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		conn, err := (&net.Dialer{}).DialContext(pctx, "tcp", addr)
		cancel()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: nothing answers: %w", e, err)
		}
		conn.Close()
	}
	client, closeClient, err := fsstore.NewClient(ctx, e.project, e.emulatorHost)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", e, err)
	}
	// The store's own failure logs would repeat the error the command prints.
	st, err := fsstore.New(ctx, client, fsstore.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		closeClient()
		return nil, nil, fmt.Errorf("%s: %w", e, err)
	}
	return st, func() { _ = errors.Join(st.Close(), closeClient()) }, nil
}
