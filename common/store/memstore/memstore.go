// Package memstore is the embedded store: tenants from files, call sessions
// in memory. It serves the local run and the tests; production uses the
// firestore package behind the same interfaces.
package memstore

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/routebot/routebot/common/session"
	"github.com/routebot/routebot/common/store"
)

const shards = 64

// Store keeps sessions in memory, sharded so that turns of different calls do
// not contend on one lock; turns of one call serialise on their shard.
type Store struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [shards]shard

	mu        sync.RWMutex
	tenants   map[string]store.TenantFiles // by tenant id
	scenarios map[string]string            // scenario code → tenant id
	customers map[string]map[string]string // tenant id → phone → name
}

type shard struct {
	mu       sync.Mutex
	sessions map[string]stored
}

type stored struct {
	s       session.Session
	records []session.Record
}

// New returns an empty store. now is the clock (time.Now when nil).
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	s := &Store{now: now, seed: maphash.MakeSeed(), tenants: map[string]store.TenantFiles{},
		scenarios: map[string]string{}, customers: map[string]map[string]string{}}
	for i := range s.shards {
		s.shards[i].sessions = map[string]stored{}
	}
	return s
}

// PutTenant adds or replaces a tenant: its files, the scenario codes it owns
// and its customer directory. A scenario code owned by another tenant is
// refused.
func (s *Store) PutTenant(t store.TenantFiles, scenarioCodes []string, customers map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, code := range scenarioCodes {
		if owner, ok := s.scenarios[code]; ok && owner != t.ID {
			return fmt.Errorf("memstore: scenario code %q is already owned by tenant %q", code, owner)
		}
	}
	for code, owner := range s.scenarios {
		if owner == t.ID {
			delete(s.scenarios, code)
		}
	}
	for _, code := range scenarioCodes {
		s.scenarios[code] = t.ID
	}
	if prev, ok := s.tenants[t.ID]; ok && t.Version <= prev.Version {
		t.Version = prev.Version + 1
	}
	s.tenants[t.ID] = t
	s.customers[t.ID] = customers
	return nil
}

// TenantOf implements store.Tenants.
func (s *Store) TenantOf(_ context.Context, code string) (string, int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.scenarios[code]
	if !ok {
		return "", 0, fmt.Errorf("scenario %q: %w", code, store.ErrNotFound)
	}
	return id, s.tenants[id].Version, nil
}

// Files implements store.Tenants.
func (s *Store) Files(_ context.Context, id string) (store.TenantFiles, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tenants[id]
	if !ok {
		return store.TenantFiles{}, fmt.Errorf("tenant %q: %w", id, store.ErrNotFound)
	}
	return t, nil
}

// CustomerName implements store.Directory.
func (s *Store) CustomerName(_ context.Context, tenantID, phone string) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	name, ok := s.customers[tenantID][phone]
	if !ok {
		return "", fmt.Errorf("customer of tenant %q: %w", tenantID, store.ErrNotFound)
	}
	return name, nil
}

// Transact implements store.Sessions.
func (s *Store) Transact(ctx context.Context, callID string, fn func(session.Session, bool) (store.Commit, error)) error {
	sh := &s.shards[maphash.String(s.seed, callID)%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: transact %q: %w", callID, err)
	}
	now := s.now()
	cur, found := sh.sessions[callID]
	if found && !cur.s.Expires.IsZero() && !now.Before(cur.s.Expires) {
		delete(sh.sessions, callID)
		cur, found = stored{}, false
	}
	c, err := fn(cur.s, found)
	if err != nil || !c.Write {
		return err
	}
	c.Session.CallID = callID
	if c.Record != nil {
		cur.records = append(cur.records, *c.Record)
	}
	cur.s = c.Session
	sh.sessions[callID] = cur
	return nil
}

// Log returns a copy of the call's turn log, oldest first.
func (s *Store) Log(callID string) []session.Record {
	sh := &s.shards[maphash.String(s.seed, callID)%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return append([]session.Record(nil), sh.sessions[callID].records...)
}

// Sweep drops expired sessions; the local run calls it periodically.
func (s *Store) Sweep() int {
	now, n := s.now(), 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for id, st := range sh.sessions {
			if !st.s.Expires.IsZero() && !now.Before(st.s.Expires) {
				delete(sh.sessions, id)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}
