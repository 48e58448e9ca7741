package studio

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// MemoryHistory keeps versions in memory: the local run's history (its
// store is in memory too).
type MemoryHistory struct {
	mu       sync.Mutex
	versions map[string]map[int64]Version
}

// NewMemoryHistory returns an empty history.
func NewMemoryHistory() *MemoryHistory {
	return &MemoryHistory{versions: map[string]map[int64]Version{}}
}

// Save records v.
func (h *MemoryHistory) Save(_ context.Context, v Version) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.versions[v.Tenant] == nil {
		h.versions[v.Tenant] = map[int64]Version{}
	}
	v.Files = maps.Clone(v.Files)
	h.versions[v.Tenant][v.Version] = v
	return nil
}

// List returns a tenant's versions, newest first, without files.
func (h *MemoryHistory) List(_ context.Context, id string) ([]Version, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []Version{}
	for _, v := range h.versions[id] {
		v.Files = nil
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b Version) int { return cmp.Compare(b.Version, a.Version) })
	return out, nil
}

// Get returns one version with its files.
func (h *MemoryHistory) Get(_ context.Context, id string, version int64) (Version, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.versions[id][version]
	if !ok {
		return Version{}, fmt.Errorf("%w: tenant %q has no recorded version %d", ErrNotFound, id, version)
	}
	v.Files = maps.Clone(v.Files)
	return v, nil
}
