// Package fsstore is the production store on Cloud Firestore
// (cloud.google.com/go/firestore): call sessions with their append-only
// turn log, tenants resolved by scenario code, the customer directory, and
// the admin operations routebotctl push/pull use. The data model is in
// docs/data-model.md.
//
// A turn costs two round trips on its call's document: a read
// (BatchGetDocuments) and a commit conditioned on the document being as read. Tenants are not read per turn: a snapshot
// listener on the tenants collection keeps the scenario-code index and
// versions in memory; a tenant's files are read once per version; customer
// names are cached briefly. Firestore failures wrap store.ErrUnavailable.
package fsstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/routebot/routebot/common/store"
)

// Options configure a Store. The session TTL is not one of them: the engine
// sets Session.Expires, which the store keeps as the TTL field.
type Options struct {
	// Prefix is put before every top-level collection name: "" in
	// production; tests give each store its own to share one emulator.
	Prefix string
	// MaxAttempts bounds a transaction's attempts under contention (default 5).
	MaxAttempts int
	// TurnAttempts bounds a turn's attempts when other instances commit to
	// its call between its read and its commit (default 10).
	TurnAttempts int
	// CustomerCacheSize bounds the customer-name cache (default 10000 entries).
	CustomerCacheSize int
	// CustomerCacheTTL is how long a cached name or miss is trusted when the
	// tenant's version does not change (default one minute).
	CustomerCacheTTL time.Duration
	// Logger receives Firestore failures and listener restarts (default slog.Default()).
	Logger *slog.Logger
}

// Store implements store.Sessions, store.Tenants and store.Directory on
// Firestore. Build it once per process with New; Close stops its listener.
type Store struct {
	client *firestore.Client
	opts   Options
	log    *slog.Logger

	idx       index
	filesMu   sync.Mutex
	files     map[string]*filesEntry // tenant id → files at a version
	customers nameCache
	callLocks callLocks

	stop context.CancelFunc
	done chan struct{}
}

// New returns a Store on client and starts its tenants listener. It waits,
// bounded by ctx, for the listener's first snapshot, so that TenantOf answers
// from the start. The client stays the caller's to close, after Close.
func New(ctx context.Context, client *firestore.Client, opts Options) (*Store, error) {
	switch {
	case client == nil:
		return nil, errors.New("firestore: new store: nil client")
	case opts.MaxAttempts < 0 || opts.TurnAttempts < 0 || opts.CustomerCacheSize < 0 || opts.CustomerCacheTTL < 0:
		return nil, fmt.Errorf("firestore: new store: negative option in %+v", opts)
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = firestore.DefaultTransactionMaxAttempts
	}
	if opts.TurnAttempts == 0 {
		opts.TurnAttempts = 10
	}
	if opts.CustomerCacheSize == 0 {
		opts.CustomerCacheSize = 10000
	}
	if opts.CustomerCacheTTL == 0 {
		opts.CustomerCacheTTL = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Store{
		client: client, opts: opts, log: opts.Logger,
		idx:       newIndex(),
		files:     map[string]*filesEntry{},
		customers: nameCache{max: opts.CustomerCacheSize, ttl: opts.CustomerCacheTTL, m: map[string]nameEntry{}},
		done:      make(chan struct{}),
	}
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	go s.listen(lctx)
	select {
	case <-s.idx.ready:
		return s, nil
	case <-ctx.Done():
		s.Close()
		err := ctx.Err()
		if last := s.idx.lastError(); last != nil {
			err = fmt.Errorf("%w (listener: %w)", err, last)
		}
		return nil, fmt.Errorf("firestore: new store: first snapshot of %s: %w: %w", s.tenants().Path, store.ErrUnavailable, err)
	}
}

// Close stops the tenants listener. It does not close the client.
func (s *Store) Close() error {
	s.stop()
	<-s.done
	return nil
}

// The collections, after Options.Prefix.
func (s *Store) tenants() *firestore.CollectionRef   { return s.collection("tenants") }
func (s *Store) scenarios() *firestore.CollectionRef { return s.collection("scenarios") }
func (s *Store) calls() *firestore.CollectionRef     { return s.collection("calls") }

func (s *Store) collection(name string) *firestore.CollectionRef {
	return s.client.Collection(s.opts.Prefix + name)
}

// unavailable wraps a Firestore failure of op in store.ErrUnavailable (and
// the context's error when the caller gave up) and logs it.
func (s *Store) unavailable(ctx context.Context, op string, err error) error {
	level := slog.LevelError
	if cerr := ctx.Err(); cerr != nil {
		level = slog.LevelWarn // the caller's deadline or hang-up, not Firestore's fault alone
		if !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (%w)", cerr, err)
		}
	}
	s.log.Log(ctx, level, "firestore call failed", "op", op, "grpcCode", status.Code(err).String(), "error", err.Error())
	return fmt.Errorf("firestore: %s: %w: %w", op, store.ErrUnavailable, err)
}

// cancelled reports a context that was done before any call.
func cancelled(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("firestore: %s: %w", op, err)
	}
	return nil
}

func notFound(err error) bool { return status.Code(err) == codes.NotFound }
