// Package app assembles routebot's dependencies from a Config, once per
// process: the store (embedded or Firestore), the tenant registry with each
// tenant's classifier, the bearer-token verifier with its secrets. The
// functions and the local run share it so that they behave the same.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/routebot/routebot/common/auth"
	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/classify/embedded"
	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/store/memstore"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/examples"
)

// App is the process's dependency graph.
type App struct {
	Config    config.Config
	Logger    *slog.Logger
	Flows     *tenant.Registry
	Sessions  store.Sessions
	Directory store.Directory
	Tenants   store.Tenants
	Auth      *auth.Verifier

	codes   []string // every scenario code known at start (memory store)
	closers []func() error
}

// Store is what a backing store offers.
type Store interface {
	store.Sessions
	store.Tenants
	store.Directory
}

// Build assembles the dependencies. It does the start-up I/O (reading tenant
// files or connecting to Firestore, fetching secrets) and fails with a clear
// message naming what is wrong.
func Build(ctx context.Context, cfg config.Config, logger *slog.Logger) (*App, error) {
	a := &App{Config: cfg, Logger: logger}
	var st Store
	switch cfg.Store {
	case "memory":
		ms, codes, err := memoryStore(cfg)
		if err != nil {
			return nil, err
		}
		st, a.codes = ms, codes
		a.sweepEvery(ms, time.Minute)
	default:
		return nil, fmt.Errorf("app: store %q is not available in this build", cfg.Store)
	}
	a.Sessions, a.Directory, a.Tenants = st, st, st

	verifier, err := a.verifier(ctx)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Auth = verifier

	build := func(t *tenant.Tenant) error {
		t.Classifier = classify.Background(func() (classify.Classifier, error) { return a.classifier(t) })
		return nil
	}
	a.Flows = tenant.NewRegistry(st, build, func(id string, version int64, err error) {
		logger.Error("tenant version does not compile; serving the last good version if any",
			"tenant", id, "version", version, "error", err)
	})
	return a, nil
}

// Close releases what Build opened.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// sweepEvery drops expired sessions of the embedded store periodically, so a
// long local run's memory stays bounded by the session TTL.
func (a *App) sweepEvery(ms *memstore.Store, every time.Duration) {
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				ms.Sweep()
			case <-stop:
				return
			}
		}
	}()
	a.closers = append(a.closers, func() error { close(stop); return nil })
}

// ScenarioCodes lists the scenario codes known at start (memory store only).
func (a *App) ScenarioCodes() []string { return a.codes }

// Warm compiles every known tenant now (and builds its classifier), so the
// first call does not pay for it.
func (a *App) Warm(ctx context.Context) error {
	for _, code := range a.codes {
		if _, err := a.Flows.Flow(ctx, code); err != nil {
			return fmt.Errorf("app: warm %s: %w", code, err)
		}
	}
	return nil
}

// memoryStore loads tenant folders (ROUTEBOT_TENANTS, or the embedded demo
// tenants) into an embedded store, validating all of them first.
func memoryStore(cfg config.Config) (*memstore.Store, []string, error) {
	fsys, root := fs.FS(examples.Tenants), "tenants"
	if cfg.Tenants != "" {
		fsys, root = os.DirFS(cfg.Tenants), "."
	}
	tfs, err := tenant.ReadFS(fsys, root)
	if err != nil {
		return nil, nil, fmt.Errorf("app: ROUTEBOT_TENANTS: %w", err)
	}
	parsed, err := tenant.ParseAll(tfs)
	if err != nil {
		return nil, nil, fmt.Errorf("app: tenant files: %w", err)
	}
	ms := memstore.New(nil)
	var codes []string
	for i, t := range parsed {
		if _, _, err := ms.PutTenant(context.Background(), tfs[i], t.ScenarioCodes(), t.Customers); err != nil {
			return nil, nil, fmt.Errorf("app: %w", err)
		}
		codes = append(codes, t.ScenarioCodes()...)
	}
	return ms, codes, nil
}

func (a *App) verifier(ctx context.Context) (*auth.Verifier, error) {
	keys := auth.Keys{}
	for _, t := range a.Config.APITokens {
		keys.Tokens = append(keys.Tokens, []byte(t))
	}
	for _, k := range a.Config.JWTKeys {
		keys.JWTKeys = append(keys.JWTKeys, []byte(k))
	}
	return auth.NewVerifier(auth.StaticKeys(keys)), nil
}

// classifier builds a tenant's classifier: its own backend choice, else the
// deployment's default; every non-embedded backend falls back to the embedded
// one built from the tenant's examples.
func (a *App) classifier(t *tenant.Tenant) (classify.Classifier, error) {
	emb, err := embedded.New(t.Taxonomy)
	if err != nil {
		return nil, err
	}
	backend := t.Spec.Backend
	if backend == "" {
		backend = a.Config.Classifier
	}
	switch backend {
	case "embedded":
		return emb, nil
	default:
		return nil, fmt.Errorf("classifier backend %q is not available in this build", backend)
	}
}
