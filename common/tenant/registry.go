package tenant

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/routebot/routebot/common/store"
)

// Registry turns scenario codes into compiled flows, compiling each tenant
// once per version and keeping the last good version when a newer one is
// broken (a bad push must not take calls down).
type Registry struct {
	src   store.Tenants
	build func(*Tenant) error // attaches what is built once per version (the classifier)
	onErr func(tenantID string, version int64, err error)

	tenants sync.Map // tenant id → *entry
}

type entry struct {
	current atomic.Pointer[Tenant] // read without a lock on every turn
	mu      sync.Mutex             // one compile at a time per tenant
	failed  atomic.Int64           // the last version that did not compile
}

// NewRegistry serves flows from src. build runs once per compiled version;
// onErr hears about versions that fail to compile (for logging).
func NewRegistry(src store.Tenants, build func(*Tenant) error, onErr func(string, int64, error)) *Registry {
	if build == nil {
		build = func(*Tenant) error { return nil }
	}
	if onErr == nil {
		onErr = func(string, int64, error) {}
	}
	return &Registry{src: src, build: build, onErr: onErr}
}

// ErrBroken reports a tenant whose files do not compile and for which no
// earlier good version is at hand (TransCode 413).
var ErrBroken = errors.New("tenant data is broken")

// Flow returns the compiled flow of a scenario code. Errors wrap
// store.ErrNotFound, store.ErrUnavailable or ErrBroken.
func (r *Registry) Flow(ctx context.Context, code string) (*Flow, error) {
	id, version, err := r.src.TenantOf(ctx, code)
	if err != nil {
		return nil, err
	}
	t, err := r.tenant(ctx, id, version)
	if err != nil {
		return nil, err
	}
	f, ok := t.Flows[code]
	if !ok {
		return nil, fmt.Errorf("scenario %q in tenant %q version %d: %w", code, id, t.Version, store.ErrNotFound)
	}
	return f, nil
}

func (r *Registry) tenant(ctx context.Context, id string, version int64) (*Tenant, error) {
	v, ok := r.tenants.Load(id)
	if !ok {
		v, _ = r.tenants.LoadOrStore(id, &entry{})
	}
	e := v.(*entry)
	if cur := e.current.Load(); cur != nil && (cur.Version >= version || e.failed.Load() == version) {
		return cur, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	cur := e.current.Load()
	if cur != nil && (cur.Version >= version || e.failed.Load() == version) {
		return cur, nil
	}
	if e.failed.Load() == version {
		return nil, fmt.Errorf("tenant %q version %d: %w", id, version, ErrBroken)
	}
	tf, err := r.src.Files(ctx, id)
	if err != nil {
		return nil, err
	}
	t, err := Parse(tf)
	if err == nil {
		err = r.build(t)
	}
	if err != nil {
		e.failed.Store(tf.Version)
		r.onErr(id, tf.Version, err)
		if cur != nil {
			return cur, nil
		}
		return nil, fmt.Errorf("tenant %q version %d: %w: %w", id, tf.Version, ErrBroken, err)
	}
	e.current.Store(t)
	return t, nil
}
