package fsstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/firestore"

	"github.com/routebot/routebot/common/store"
)

// errRefused marks an admin transaction that fn refused (not a Firestore failure).
type errRefused struct{ err error }

func (e errRefused) Error() string { return e.err.Error() }
func (e errRefused) Unwrap() error { return e.err }

// PutTenant replaces a tenant in one transaction: its files (files no longer
// present are deleted), the scenario codes it owns (scenarios/{code} claims
// them; a code owned by another tenant refuses the whole put), and its
// customer directory (phone → name, replaced). The store assigns the version:
// 1 for a new tenant, +1 when something changed; an identical put writes
// nothing and returns changed=false. It returns once this store's listener
// has seen the new version, so TenantOf, Files and CustomerName read it.
func (s *Store) PutTenant(ctx context.Context, t store.TenantFiles, scenarioCodes []string, customers map[string]string) (version int64, changed bool, err error) {
	return s.PutTenantIf(ctx, t, scenarioCodes, customers, store.AnyVersion)
}

// PutTenantIf is PutTenant if the tenant is at version expect (0: it does
// not exist, or was deleted), checked inside the put's transaction, and
// ErrVersionMismatch with nothing written if it is not: of two puts that
// read one version, on any instances, one wins.
func (s *Store) PutTenantIf(ctx context.Context, t store.TenantFiles, scenarioCodes []string, customers map[string]string, expect int64) (version int64, changed bool, err error) {
	op := fmt.Sprintf("put tenant %q", t.ID)
	if err := cancelled(ctx, op); err != nil {
		return 0, false, err
	}
	codes, err := store.CheckTenant(t, scenarioCodes, customers)
	if err != nil {
		return 0, false, fmt.Errorf("firestore: %s: %w", op, err)
	}
	want := make(map[string]map[string]any, len(t.Files)) // file doc id → fields
	for path, content := range t.Files {
		if len(content) > store.MaxFileBytes {
			return 0, false, fmt.Errorf("firestore: %s: file %q has %d bytes, over the %d a document holds", op, path, len(content), store.MaxFileBytes)
		}
		want[fileDocID(path)] = encodeFile(path, content)
	}

	tref := s.tenants().Doc(t.ID)
	err = s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		version, changed = 0, false
		prev, live, err := readTenant(tx, tref)
		if err != nil {
			return err
		}
		cur := prev.Version
		if !live {
			cur = 0
		}
		if expect != store.AnyVersion && cur != expect {
			return errRefused{fmt.Errorf("at version %d, not %d: %w", cur, expect, store.ErrVersionMismatch)}
		}
		var owned []string
		if live {
			owned = prev.Scenarios
		}
		claims := map[string]*firestore.DocumentRef{}
		for _, c := range slices.Concat(codes, owned) {
			claims[c] = s.scenarios().Doc(c)
		}
		owners, err := readClaims(tx, claims)
		if err != nil {
			return err
		}
		for _, c := range codes {
			if o, ok := owners[c]; ok && o != t.ID {
				return errRefused{fmt.Errorf("scenario code %q is already owned by tenant %q", c, o)}
			}
		}
		have, err := tx.Documents(tref.Collection("files").Select("sha256")).GetAll()
		if err != nil {
			return err
		}
		oldCustomers, err := readCustomers(tx, tref)
		if err != nil {
			return err
		}

		// Reads are over (Firestore wants them before any write): collect the writes.
		var writes []func() error
		haveSum := map[string]string{}
		for _, d := range have {
			haveSum[d.Ref.ID], _ = d.Data()["sha256"].(string)
			if _, ok := want[d.Ref.ID]; !ok {
				writes = append(writes, func() error { return tx.Delete(d.Ref) })
			}
		}
		for id, w := range want {
			if sum, ok := haveSum[id]; !ok || sum != w["sha256"] {
				writes = append(writes, func() error { return tx.Set(tref.Collection("files").Doc(id), w) })
			}
		}
		for _, c := range codes {
			if owners[c] != t.ID {
				writes = append(writes, func() error { return tx.Set(claims[c], map[string]any{"tenant": t.ID}) })
			}
		}
		for _, c := range owned {
			if !slices.Contains(codes, c) && owners[c] == t.ID {
				writes = append(writes, func() error { return tx.Delete(claims[c]) })
			}
		}
		for phone, name := range customers {
			if old, ok := oldCustomers[phone]; !ok || old != name {
				writes = append(writes, func() error {
					return tx.Set(tref.Collection("customers").Doc(phone), map[string]any{"name": name})
				})
			}
		}
		for phone := range oldCustomers {
			if _, ok := customers[phone]; !ok {
				writes = append(writes, func() error { return tx.Delete(tref.Collection("customers").Doc(phone)) })
			}
		}
		if live && len(writes) == 0 && slices.Equal(prev.Scenarios, codes) {
			version = prev.Version
			return nil
		}
		version, changed = prev.Version+1, true
		writes = append(writes, func() error {
			return tx.Set(tref, tenantDoc{Version: version, Scenarios: codes, Updated: time.Now().UTC()})
		})
		for _, w := range writes {
			if err := w(); err != nil {
				return err
			}
		}
		return nil
	}, firestore.MaxAttempts(s.opts.MaxAttempts))
	if r := (errRefused{}); errors.As(err, &r) {
		return 0, false, fmt.Errorf("firestore: %s: %w", op, r.err)
	}
	if err != nil {
		return 0, false, s.unavailable(ctx, op, err)
	}
	if err := s.waitSeen(ctx, t.ID, version); err != nil {
		return version, changed, fmt.Errorf("firestore: %s: version %d is committed but this store's listener has not seen it yet: %w", op, version, err)
	}
	return version, changed, nil
}

// GetTenant returns a tenant as it was put: its files byte for byte at its
// current version, its scenario codes (sorted) and its customers.
func (s *Store) GetTenant(ctx context.Context, id string) (store.TenantFiles, []string, map[string]string, error) {
	op := fmt.Sprintf("get tenant %q", id)
	if err := cancelled(ctx, op); err != nil {
		return store.TenantFiles{}, nil, nil, err
	}
	if store.CheckKey("", id) != nil {
		return store.TenantFiles{}, nil, nil, fmt.Errorf("firestore: %s: %w", op, store.ErrNotFound)
	}
	var (
		tf        store.TenantFiles
		codes     []string
		customers map[string]string
	)
	tref := s.tenants().Doc(id)
	err := s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		t, live, err := readTenant(tx, tref)
		if err != nil || !live {
			return err
		}
		files, err := readFiles(tx, tref)
		if err != nil {
			return err
		}
		if customers, err = readCustomers(tx, tref); err != nil {
			return err
		}
		tf, codes = store.TenantFiles{ID: id, Version: t.Version, Files: files}, t.Scenarios
		return nil
	}, firestore.ReadOnly)
	if err != nil {
		return store.TenantFiles{}, nil, nil, s.unavailable(ctx, op, err)
	}
	if tf.Files == nil {
		return store.TenantFiles{}, nil, nil, fmt.Errorf("firestore: %s: %w", op, store.ErrNotFound)
	}
	return tf, codes, customers, nil
}

// ListTenants returns the ids of the tenants, sorted.
func (s *Store) ListTenants(ctx context.Context) ([]string, error) {
	op := "list " + s.tenants().ID
	if err := cancelled(ctx, op); err != nil {
		return nil, err
	}
	docs, err := s.tenants().Select("deleted").Documents(ctx).GetAll()
	if err != nil {
		return nil, s.unavailable(ctx, op, err)
	}
	ids := []string{}
	for _, d := range docs {
		if deleted, _ := d.Data()["deleted"].(bool); !deleted {
			ids = append(ids, d.Ref.ID)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// DeleteTenant removes a tenant's files, customers and scenario codes (the
// codes become free) in one transaction, leaving a tombstone that keeps its
// version counting. Unknown tenant: ErrNotFound.
func (s *Store) DeleteTenant(ctx context.Context, id string) error {
	op := fmt.Sprintf("delete tenant %q", id)
	if err := cancelled(ctx, op); err != nil {
		return err
	}
	if store.CheckKey("", id) != nil {
		return fmt.Errorf("firestore: %s: %w", op, store.ErrNotFound)
	}
	tref := s.tenants().Doc(id)
	var version int64
	err := s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		prev, live, err := readTenant(tx, tref)
		if err != nil {
			return err
		}
		if !live {
			return errRefused{store.ErrNotFound}
		}
		claims := map[string]*firestore.DocumentRef{}
		for _, c := range prev.Scenarios {
			claims[c] = s.scenarios().Doc(c)
		}
		owners, err := readClaims(tx, claims)
		if err != nil {
			return err
		}
		var refs []*firestore.DocumentRef
		for _, sub := range []string{"files", "customers"} {
			docs, err := tx.Documents(tref.Collection(sub).Select()).GetAll()
			if err != nil {
				return err
			}
			for _, d := range docs {
				refs = append(refs, d.Ref)
			}
		}
		for c, o := range owners {
			if o == id {
				refs = append(refs, claims[c])
			}
		}
		for _, r := range refs {
			if err := tx.Delete(r); err != nil {
				return err
			}
		}
		version = prev.Version + 1
		return tx.Set(tref, tenantDoc{Version: version, Deleted: true, Updated: time.Now().UTC()})
	}, firestore.MaxAttempts(s.opts.MaxAttempts))
	if r := (errRefused{}); errors.As(err, &r) {
		return fmt.Errorf("firestore: %s: %w", op, r.err)
	}
	if err != nil {
		return s.unavailable(ctx, op, err)
	}
	if err := s.waitSeen(ctx, id, version); err != nil {
		return fmt.Errorf("firestore: %s: committed but this store's listener has not seen it yet: %w", op, err)
	}
	return nil
}

// readClaims reads scenarios/{code} documents in tx: code → owning tenant.
func readClaims(tx *firestore.Transaction, claims map[string]*firestore.DocumentRef) (map[string]string, error) {
	refs := slices.Collect(maps.Values(claims))
	snaps, err := tx.GetAll(refs)
	if err != nil {
		return nil, err
	}
	owners := map[string]string{}
	for _, snap := range snaps {
		if snap.Exists() {
			owners[snap.Ref.ID], _ = snap.Data()["tenant"].(string)
		}
	}
	return owners, nil
}

// readCustomers reads a tenant's customer directory in tx: phone → name.
func readCustomers(tx *firestore.Transaction, tenant *firestore.DocumentRef) (map[string]string, error) {
	docs, err := tx.Documents(tenant.Collection("customers")).GetAll()
	if err != nil {
		return nil, err
	}
	customers := make(map[string]string, len(docs))
	for _, d := range docs {
		customers[d.Ref.ID], _ = d.Data()["name"].(string)
	}
	return customers, nil
}

// fileDocID names a file's document: the SHA-256 of its path (paths hold
// '/', which document ids cannot); the path itself is a field.
func fileDocID(path string) string {
	sum := sha256.Sum256([]byte(path))
	return hex.EncodeToString(sum[:16])
}

// encodeFile keeps a file exactly as authored: a string when it is UTF-8
// text (readable in the console), bytes otherwise.
func encodeFile(path string, content []byte) map[string]any {
	sum := sha256.Sum256(content)
	var c any = string(content)
	if !utf8.Valid(content) {
		c = content
	}
	return map[string]any{"path": path, "content": c, "sha256": hex.EncodeToString(sum[:]), "size": len(content)}
}

func decodeFile(d *firestore.DocumentSnapshot) (string, []byte, error) {
	m := d.Data()
	path, _ := m["path"].(string)
	var content []byte
	switch c := m["content"].(type) {
	case string:
		content = []byte(c)
	case []byte:
		content = c
	case nil:
		content = []byte{}
	default:
		return "", nil, fmt.Errorf("decode %s: content is a %T", d.Ref.Path, c)
	}
	if path == "" {
		return "", nil, fmt.Errorf("decode %s: no path", d.Ref.Path)
	}
	return path, content, nil
}
