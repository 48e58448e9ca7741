package fsstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/routebot/routebot/common/store"
)

// tenantDoc is tenants/{tenantId}. A deleted tenant leaves a tombstone
// (deleted, version+1) so that a re-created tenant never reuses a version.
type tenantDoc struct {
	Version   int64     `firestore:"version"`
	Scenarios []string  `firestore:"scenarios"` // sorted; scenarios/{code} holds the unique claim
	Deleted   bool      `firestore:"deleted"`
	Updated   time.Time `firestore:"updated"`
}

// index is the listener's view of the tenants collection.
type index struct {
	mu      sync.RWMutex
	codes   map[string]string // scenario code → tenant id
	live    map[string]int64  // tenant id → version
	seen    map[string]int64  // tenant id → version, tombstones included
	changed chan struct{}     // closed and replaced on every snapshot
	lastErr error             // the listener's last failure

	ready     chan struct{} // closed on the first snapshot
	readyOnce sync.Once
}

func newIndex() index {
	return index{codes: map[string]string{}, live: map[string]int64{}, seen: map[string]int64{},
		changed: make(chan struct{}), ready: make(chan struct{})}
}

func (x *index) lastError() error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.lastErr
}

// listen follows the tenants collection until ctx ends, restarting the
// listener with backoff when it fails.
func (s *Store) listen(ctx context.Context) {
	defer close(s.done)
	const minBackoff, maxBackoff = time.Second, 30 * time.Second
	backoff := minBackoff
	for {
		got, err := s.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		if got {
			backoff = minBackoff
		}
		s.idx.mu.Lock()
		s.idx.lastErr = err
		s.idx.mu.Unlock()
		s.log.Error("firestore tenants listener failed; restarting", "collection", s.tenants().Path,
			"error", err.Error(), "retryIn", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// follow applies snapshots until the listener fails; got reports whether any
// snapshot arrived.
func (s *Store) follow(ctx context.Context) (got bool, err error) {
	it := s.tenants().Snapshots(ctx)
	defer it.Stop()
	for {
		snap, err := it.Next()
		if errors.Is(err, iterator.Done) {
			err = errors.New("snapshot stream ended")
		}
		if err != nil {
			return got, err
		}
		docs, err := snap.Documents.GetAll()
		if err != nil {
			return got, err
		}
		s.apply(docs)
		got = true
	}
}

// apply replaces the index with a snapshot of the whole tenants collection
// (tens of small documents: rebuilding is simpler than patching).
func (s *Store) apply(docs []*firestore.DocumentSnapshot) {
	codes, live, seen := map[string]string{}, map[string]int64{}, map[string]int64{}
	for _, d := range docs {
		var t tenantDoc
		if err := d.DataTo(&t); err != nil {
			s.log.Error("firestore tenant document ignored", "doc", d.Ref.Path, "error", err.Error())
			continue
		}
		id := d.Ref.ID
		seen[id] = t.Version
		if t.Deleted {
			continue
		}
		live[id] = t.Version
		for _, c := range t.Scenarios {
			if owner, dup := codes[c]; dup { // PutTenant's transaction prevents it; documents edited by hand may not
				s.log.Error("firestore scenario code claimed by two tenants; the first keeps it", "code", c, "tenant", owner, "ignored", id)
				continue
			}
			codes[c] = id
		}
	}

	s.idx.mu.Lock()
	for id, v := range live {
		if old, ok := s.idx.live[id]; !ok || old != v {
			s.log.Info("firestore tenant version", "tenant", id, "version", v)
		}
	}
	s.idx.codes, s.idx.live, s.idx.seen, s.idx.lastErr = codes, live, seen, nil
	close(s.idx.changed)
	s.idx.changed = make(chan struct{})
	s.idx.mu.Unlock()
	s.idx.readyOnce.Do(func() { close(s.idx.ready) })

	s.filesMu.Lock()
	for id := range s.files {
		if _, ok := live[id]; !ok {
			delete(s.files, id)
		}
	}
	s.filesMu.Unlock()
}

// version returns the tenant's current version, if it exists.
func (s *Store) version(id string) (int64, bool) {
	s.idx.mu.RLock()
	defer s.idx.mu.RUnlock()
	v, ok := s.idx.live[id]
	return v, ok
}

// waitSeen waits until the listener has seen version v (or later) of tenant
// id, so that this store reads its own admin writes.
func (s *Store) waitSeen(ctx context.Context, id string, v int64) error {
	for {
		s.idx.mu.RLock()
		ok, changed := s.idx.seen[id] >= v, s.idx.changed
		s.idx.mu.RUnlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// TenantOf implements store.Tenants from memory: no Firestore read.
func (s *Store) TenantOf(ctx context.Context, code string) (string, int64, error) {
	if err := ctx.Err(); err != nil { // no op string built on the hot path
		return "", 0, fmt.Errorf("firestore: scenario %q: %w", code, err)
	}
	s.idx.mu.RLock()
	defer s.idx.mu.RUnlock()
	id, ok := s.idx.codes[code]
	if !ok {
		return "", 0, fmt.Errorf("firestore: scenario %q: %w", code, store.ErrNotFound)
	}
	return id, s.idx.live[id], nil
}

// filesEntry caches one tenant's files; lock (a one-slot channel, so waiting
// honours the caller's deadline) lets one caller load a new version while
// the others wait for it.
type filesEntry struct {
	lock  chan struct{}
	files store.TenantFiles
}

// Files implements store.Tenants: the files subcollection is read once per
// tenant version. The map is shared: read it, never modify it.
func (s *Store) Files(ctx context.Context, id string) (store.TenantFiles, error) {
	op := fmt.Sprintf("files of tenant %q", id)
	if err := cancelled(ctx, op); err != nil {
		return store.TenantFiles{}, err
	}
	v, ok := s.version(id)
	if !ok {
		return store.TenantFiles{}, fmt.Errorf("firestore: %s: %w", op, store.ErrNotFound)
	}
	s.filesMu.Lock()
	e := s.files[id]
	if e == nil {
		e = &filesEntry{lock: make(chan struct{}, 1)}
		s.files[id] = e
	}
	s.filesMu.Unlock()

	select {
	case e.lock <- struct{}{}:
	case <-ctx.Done():
		return store.TenantFiles{}, fmt.Errorf("firestore: %s: %w", op, ctx.Err())
	}
	defer func() { <-e.lock }()
	if e.files.Version >= v {
		return e.files, nil
	}
	tf, live, err := s.loadFiles(ctx, id)
	if err != nil {
		return store.TenantFiles{}, s.unavailable(ctx, op, err)
	}
	if !live { // deleted since the listener last saw it
		return store.TenantFiles{}, fmt.Errorf("firestore: %s: %w", op, store.ErrNotFound)
	}
	if tf.Version > e.files.Version {
		e.files = tf
	}
	return e.files, nil
}

// loadFiles reads tenant id's document, then its files as they were when
// the document was read (a push changes both in one commit): one snapshot in
// two round trips, where a read-only transaction takes four (BeginTransaction
// and Commit besides). A cold instance's first call waits for them.
func (s *Store) loadFiles(ctx context.Context, id string) (tf store.TenantFiles, live bool, err error) {
	ref := s.tenants().Doc(id)
	snap, err := ref.Get(ctx)
	t, live, err := decodeTenant(ref, snap, err)
	if err != nil || !live {
		return store.TenantFiles{}, false, err
	}
	docs, err := ref.Collection("files").WithReadOptions(firestore.ReadTime(snap.ReadTime)).Documents(ctx).GetAll()
	if err != nil {
		return store.TenantFiles{}, false, err
	}
	files, err := decodeFiles(docs)
	if err != nil {
		return store.TenantFiles{}, false, err
	}
	return store.TenantFiles{ID: id, Version: t.Version, Files: files}, true, nil
}

// readTenant reads a tenant document in tx; live is false when there is none
// or it is a tombstone.
func readTenant(tx *firestore.Transaction, ref *firestore.DocumentRef) (t tenantDoc, live bool, err error) {
	snap, err := tx.Get(ref)
	return decodeTenant(ref, snap, err)
}

// decodeTenant decodes tenant document ref as read (snap, err); live is
// false when there is none or it is a tombstone.
func decodeTenant(ref *firestore.DocumentRef, snap *firestore.DocumentSnapshot, err error) (t tenantDoc, live bool, _ error) {
	if notFound(err) {
		return tenantDoc{}, false, nil
	}
	if err != nil {
		return tenantDoc{}, false, err
	}
	if err := snap.DataTo(&t); err != nil {
		return tenantDoc{}, false, fmt.Errorf("decode %s: %w", ref.Path, err)
	}
	return t, !t.Deleted, nil
}

// readFiles reads a tenant's files subcollection in tx: path → content.
func readFiles(tx *firestore.Transaction, tenant *firestore.DocumentRef) (map[string][]byte, error) {
	docs, err := tx.Documents(tenant.Collection("files")).GetAll()
	if err != nil {
		return nil, err
	}
	return decodeFiles(docs)
}

// decodeFiles decodes a files subcollection's documents: path → content.
func decodeFiles(docs []*firestore.DocumentSnapshot) (map[string][]byte, error) {
	files := make(map[string][]byte, len(docs))
	for _, d := range docs {
		path, content, err := decodeFile(d)
		if err != nil {
			return nil, err
		}
		files[path] = content
	}
	return files, nil
}
