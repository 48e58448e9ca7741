package fsstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/routebot/routebot/common/store"
)

// CustomerName implements store.Directory: tenants/{t}/customers/{phone}.
// Names and misses are cached for Options.CustomerCacheTTL, and only while
// the tenant's version stays the same, so a push takes effect at once.
func (s *Store) CustomerName(ctx context.Context, tenantID, phone string) (string, error) {
	op := fmt.Sprintf("customer of tenant %q", tenantID) // the phone number stays out of errors and logs
	if err := cancelled(ctx, op); err != nil {
		return "", err
	}
	v, ok := s.version(tenantID)
	if !ok || store.CheckKey("", phone) != nil {
		return "", fmt.Errorf("firestore: %s: %w", op, store.ErrNotFound)
	}
	key := tenantID + "\x00" + phone
	if e, ok := s.customers.get(key, v, time.Now()); ok {
		if !e.found {
			return "", fmt.Errorf("firestore: %s: %w", op, store.ErrNotFound)
		}
		return e.name, nil
	}
	snap, err := s.tenants().Doc(tenantID).Collection("customers").Doc(phone).Get(ctx)
	if notFound(err) {
		s.customers.put(key, nameEntry{version: v}, time.Now())
		return "", fmt.Errorf("firestore: %s: %w", op, store.ErrNotFound)
	}
	if err != nil {
		return "", s.unavailable(ctx, op, err)
	}
	name, _ := snap.Data()["name"].(string)
	s.customers.put(key, nameEntry{name: name, found: true, version: v}, time.Now())
	return name, nil
}

// nameCache is a small TTL cache of customer lookups, hits and misses.
type nameCache struct {
	mu  sync.Mutex
	max int
	ttl time.Duration
	m   map[string]nameEntry
}

type nameEntry struct {
	name    string
	found   bool
	version int64 // the tenant's version when looked up
	until   time.Time
}

func (c *nameCache) get(key string, version int64, now time.Time) (nameEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || e.version != version || !now.Before(e.until) {
		return nameEntry{}, false
	}
	return e, true
}

func (c *nameCache) put(key string, e nameEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, old := range c.m {
			if !now.Before(old.until) {
				delete(c.m, k)
			}
		}
		// Still full of live entries: drop an arbitrary quarter (map order is random).
		for k := range c.m {
			if len(c.m) < c.max*3/4 {
				break
			}
			delete(c.m, k)
		}
	}
	e.until = now.Add(c.ttl)
	c.m[key] = e
}
