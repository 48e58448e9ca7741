package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/common/logging"
)

// Deployed builds a deployed function's handler from the environment on its
// first request (a function's init must not do I/O) and keeps it. A
// configuration error is permanent and logged once; a failure to reach a
// dependency at start (Firestore, Secret Manager) is retried on a later
// request, at most every retryAfter, so one bad cold start does not leave the
// instance broken. Meanwhile requests get fail(err).
type Deployed struct {
	name  string
	build func(*App) http.Handler
	fail  func(w http.ResponseWriter, err error)

	mu      sync.Mutex
	handler http.Handler
	err     error
	tried   time.Time
}

const retryAfter = 5 * time.Second

// NewDeployed returns a lazily built handler for the function name.
func NewDeployed(name string, build func(*App) http.Handler, fail func(http.ResponseWriter, error)) *Deployed {
	return &Deployed{name: name, build: build, fail: fail}
}

// ServeHTTP builds on first use and serves.
func (d *Deployed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, err := d.get(r.Context())
	if err != nil {
		d.fail(w, err)
		return
	}
	h.ServeHTTP(w, r)
}

var errMisconfigured = errors.New("misconfigured")

func (d *Deployed) get(ctx context.Context) (http.Handler, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.handler != nil {
		return d.handler, nil
	}
	if d.err != nil && (errors.Is(d.err, errMisconfigured) || time.Since(d.tried) < retryAfter) {
		return nil, d.err
	}
	d.tried = time.Now()
	cfg, err := config.Load(os.Getenv, false)
	if err != nil {
		d.err = fmt.Errorf("%w: %w", errMisconfigured, err)
		logging.New(os.Stderr, slog.LevelInfo).Error(d.name+" function is misconfigured", "error", err)
		return nil, d.err
	}
	logger := logging.New(os.Stdout, cfg.LogLevel)
	if cfg.Store == "memory" {
		logger.Warn(d.name + " function runs on the in-memory store (ROUTEBOT_STORE=memory): demo tenants, sessions kept by one instance only")
	}
	// Start-up I/O is not tied to the first request's deadline: its context
	// also runs the secrets' background refresh.
	a, err := Build(context.WithoutCancel(ctx), cfg, logger)
	if err != nil {
		d.err = err
		logger.Error(d.name+" function cannot start; will retry", "error", err)
		return nil, err
	}
	d.handler, d.err = d.build(a), nil
	return d.handler, nil
}
