package app

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/common/store/fsstore"
	"github.com/routebot/routebot/common/store/memstore"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/examples"
)

// openStore opens the configured store and sets what comes with it (the
// profile names, conversations, transcripts; the scenario codes of the
// embedded store).
func (a *App) openStore(ctx context.Context) (Store, error) {
	switch a.Config.Store {
	case "memory":
		ms, codes, err := memoryStore(a.Config)
		if err != nil {
			return nil, err
		}
		a.codes = codes
		a.sweepEvery(ms, time.Minute)
		a.ProfileNames, a.Conversations = memstore.NewProfileNames(), memstore.NewConversations(nil)
		a.Transcripts, a.tenantList = memstore.NewTranscripts(nil, 0), ms
		return ms, nil
	case "firestore":
		fs, err := a.firestoreStore(ctx)
		if err != nil {
			return nil, err
		}
		a.ProfileNames, a.Conversations = fs, fs
		a.Transcripts, a.tenantList = fs.Transcripts(0), fs
		return fs, nil
	default:
		return nil, fmt.Errorf("app: ROUTEBOT_STORE=%q: want memory or firestore", a.Config.Store)
	}
}

// firestoreStore connects to Firestore, or to the emulator the configuration
// names (FIRESTORE_EMULATOR_HOST), and waits for the tenant index's first
// snapshot.
func (a *App) firestoreStore(ctx context.Context) (*fsstore.Store, error) {
	client, closeClient, err := fsstore.NewClient(ctx, a.Config.Project, a.Config.FirestoreHost)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a.onClose(closeClient)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := fsstore.New(sctx, client, fsstore.Options{Logger: a.Logger})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a.onClose(st.Close)
	return st, nil
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
	a.onClose(func() error { close(stop); return nil })
}

// memoryStore loads tenant folders (ROUTEBOT_TENANTS, or the embedded demo
// tenants) into an embedded store, validating all of them first.
func memoryStore(cfg config.Config) (*memstore.Store, []string, error) {
	fsys, root := fs.FS(examples.Tenants), "tenants"
	// Errors name the folder: os.DirFS's own say only ".".
	source := "the embedded demo tenants (ROUTEBOT_TENANTS unset)"
	if cfg.Tenants != "" {
		fsys, root = os.DirFS(cfg.Tenants), "."
		source = fmt.Sprintf("ROUTEBOT_TENANTS=%q", cfg.Tenants)
	}
	tfs, err := tenant.ReadFS(fsys, root)
	if err != nil {
		return nil, nil, fmt.Errorf("app: %s: %w", source, err)
	}
	parsed, err := tenant.ParseAll(tfs)
	if err != nil {
		return nil, nil, fmt.Errorf("app: %s: %w", source, err)
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
