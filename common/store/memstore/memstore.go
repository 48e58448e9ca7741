// Package memstore is the embedded store: tenants from files, call sessions
// in memory. It serves the local run and the tests; production uses the
// firestore package behind the same interfaces, and both pass the storetest
// conformance suite.
package memstore

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/routebot/routebot/common/store"
)

// Store keeps sessions in memory, sharded so that turns of different calls do
// not contend on one lock; turns of one call serialise on their shard.
type Store struct {
	now    func() time.Time
	hash   func(callID string) uint64
	shards [shards]shard

	mu        sync.RWMutex
	tenants   map[string]tenant // live tenants by id
	versions  map[string]int64  // last version of every tenant ever put, deleted ones included
	scenarios map[string]string // scenario code → tenant id
}

type tenant struct {
	files     store.TenantFiles
	codes     []string // sorted
	customers map[string]string
}

// New returns an empty store. now is the clock (time.Now when nil).
func New(now func() time.Time) *Store {
	seed := maphash.MakeSeed()
	return newStore(now, func(id string) uint64 { return maphash.String(seed, id) })
}

// newStore is New with the CallId hash given (tests make every id collide).
func newStore(now func() time.Time, hash func(string) uint64) *Store {
	if now == nil {
		now = time.Now
	}
	s := &Store{now: now, hash: hash, tenants: map[string]tenant{},
		versions: map[string]int64{}, scenarios: map[string]string{}}
	for i := range s.shards {
		s.shards[i].calls = map[uint64][]byte{}
	}
	return s
}

// PutTenant adds or replaces a tenant: its files, the scenario codes it owns
// and its customer directory (phone → name). A scenario code owned by another
// tenant is refused and nothing changes. The store owns the version (t.Version
// is ignored): it is 1 for a new tenant and increases by one on every put
// that changes something; an identical put returns changed=false and the
// current version. A re-created tenant continues after its deleted version,
// so a version never names two contents.
func (s *Store) PutTenant(ctx context.Context, t store.TenantFiles, scenarioCodes []string, customers map[string]string) (version int64, changed bool, err error) {
	return s.PutTenantIf(ctx, t, scenarioCodes, customers, store.AnyVersion)
}

// PutTenantIf is PutTenant if the tenant is at version expect (0: it does
// not exist, or was deleted), and ErrVersionMismatch with nothing changed if
// it is not: of two puts that read one version, one wins.
func (s *Store) PutTenantIf(ctx context.Context, t store.TenantFiles, scenarioCodes []string, customers map[string]string, expect int64) (version int64, changed bool, err error) {
	if err := ctx.Err(); err != nil {
		return 0, false, fmt.Errorf("memstore: put tenant %q: %w", t.ID, err)
	}
	codes, err := store.CheckTenant(t, scenarioCodes, customers)
	if err != nil {
		return 0, false, fmt.Errorf("memstore: put tenant %q: %w", t.ID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, code := range codes {
		if owner, ok := s.scenarios[code]; ok && owner != t.ID {
			return 0, false, fmt.Errorf("memstore: put tenant %q: scenario code %q is already owned by tenant %q", t.ID, code, owner)
		}
	}
	prev, exists := s.tenants[t.ID]
	if cur := prev.files.Version; expect != store.AnyVersion && cur != expect {
		return 0, false, fmt.Errorf("memstore: put tenant %q: at version %d, not %d: %w", t.ID, cur, expect, store.ErrVersionMismatch)
	}
	if exists && slices.Equal(prev.codes, codes) && maps.Equal(prev.customers, customers) &&
		maps.EqualFunc(prev.files.Files, t.Files, bytes.Equal) {
		return prev.files.Version, false, nil
	}
	for _, code := range prev.codes {
		delete(s.scenarios, code)
	}
	for _, code := range codes {
		s.scenarios[code] = t.ID
	}
	version = s.versions[t.ID] + 1
	s.versions[t.ID] = version
	files := make(map[string][]byte, len(t.Files))
	for p, b := range t.Files {
		files[p] = bytes.Clone(b)
	}
	s.tenants[t.ID] = tenant{
		files:     store.TenantFiles{ID: t.ID, Version: version, Files: files},
		codes:     codes,
		customers: maps.Clone(customers),
	}
	return version, true, nil
}

// GetTenant returns a tenant as it was put (files byte for byte, at its
// current version), the scenario codes it owns (sorted) and its customers.
func (s *Store) GetTenant(ctx context.Context, id string) (store.TenantFiles, []string, map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return store.TenantFiles{}, nil, nil, fmt.Errorf("memstore: get tenant %q: %w", id, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tenants[id]
	if !ok {
		return store.TenantFiles{}, nil, nil, fmt.Errorf("memstore: get tenant %q: %w", id, store.ErrNotFound)
	}
	files := make(map[string][]byte, len(t.files.Files))
	for p, b := range t.files.Files {
		files[p] = bytes.Clone(b)
	}
	customers := maps.Clone(t.customers)
	if customers == nil {
		customers = map[string]string{}
	}
	return store.TenantFiles{ID: id, Version: t.files.Version, Files: files}, slices.Clone(t.codes), customers, nil
}

// ListTenants returns the ids of all tenants, sorted.
func (s *Store) ListTenants(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: list tenants: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Sorted(maps.Keys(s.tenants)), nil
}

// DeleteTenant removes a tenant, its files, customers and scenario codes (the
// codes become free for another tenant). Unknown tenant: ErrNotFound.
func (s *Store) DeleteTenant(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: delete tenant %q: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[id]
	if !ok {
		return fmt.Errorf("memstore: delete tenant %q: %w", id, store.ErrNotFound)
	}
	for _, code := range t.codes {
		delete(s.scenarios, code)
	}
	delete(s.tenants, id)
	s.versions[id]++ // the deletion is a change too
	return nil
}

// TenantOf implements store.Tenants.
func (s *Store) TenantOf(ctx context.Context, code string) (string, int64, error) {
	if err := ctx.Err(); err != nil {
		return "", 0, fmt.Errorf("memstore: scenario %q: %w", code, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.scenarios[code]
	if !ok {
		return "", 0, fmt.Errorf("memstore: scenario %q: %w", code, store.ErrNotFound)
	}
	return id, s.tenants[id].files.Version, nil
}

// Files implements store.Tenants. The map is shared with the store: read it,
// never modify it.
func (s *Store) Files(ctx context.Context, id string) (store.TenantFiles, error) {
	if err := ctx.Err(); err != nil {
		return store.TenantFiles{}, fmt.Errorf("memstore: files of tenant %q: %w", id, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tenants[id]
	if !ok {
		return store.TenantFiles{}, fmt.Errorf("memstore: files of tenant %q: %w", id, store.ErrNotFound)
	}
	return t.files, nil
}

// CustomerName implements store.Directory.
func (s *Store) CustomerName(ctx context.Context, tenantID, phone string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("memstore: customer of tenant %q: %w", tenantID, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	name, ok := s.tenants[tenantID].customers[phone]
	if !ok {
		return "", fmt.Errorf("memstore: customer of tenant %q: %w", tenantID, store.ErrNotFound)
	}
	return name, nil
}
