package studio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/internal/tenantsync"
)

// Version is one published version of a tenant, as the history keeps it.
// customers.yaml is not kept: the directory is managed outside the studio,
// and a rollback keeps the current one.
type Version struct {
	Tenant  string            `json:"tenant"`
	Version int64             `json:"version"`
	At      time.Time         `json:"at"`
	Author  string            `json:"author"`
	Note    string            `json:"note,omitempty"`
	Files   map[string][]byte `json:"-"`
}

// History keeps published versions.
type History interface {
	// Save records a version (replacing one with the same tenant and number).
	Save(ctx context.Context, v Version) error
	// List returns a tenant's versions, newest first, without their files.
	List(ctx context.Context, tenantID string) ([]Version, error)
	// Get returns one version with its files, or an error wrapping ErrNotFound.
	Get(ctx context.Context, tenantID string, version int64) (Version, error)
}

// InvalidError is a publish refused because the draft does not validate.
type InvalidError struct{ Problems []Problem }

func (e *InvalidError) Error() string {
	return fmt.Sprintf("the draft has %d problem(s); nothing was published", len(e.Problems))
}

func (e *InvalidError) Unwrap() error { return ErrInvalid }

// Published is a publish's outcome.
type Published struct {
	Version int64 `json:"version"`
	Changed bool  `json:"changed"` // false: the draft equals the current version, nothing was written
}

// Publish makes a draft the tenant's next version, through tenantsync as
// routebotctl push does. It is refused, with nothing written, when the draft
// does not validate, claims another tenant's scenario code, or did not start
// from the current version (someone published meanwhile: ErrStale). The
// store checks the version again in the write itself, so two studio
// instances (or a studio and routebotctl push) publishing the same tenant at
// the same instant cannot both win: the other gets ErrStale too.
func (s *Service) Publish(ctx context.Context, a Author, d Draft, note string) (Published, error) {
	s.publishing.Lock()
	defer s.publishing.Unlock()
	return s.publish(ctx, a, d, note)
}

func (s *Service) publish(ctx context.Context, a Author, d Draft, note string) (Published, error) {
	tf, err := s.files(ctx, a, d)
	if err != nil {
		return Published{}, err
	}
	t, problems, err := s.compile(ctx, tf)
	if err != nil {
		return Published{}, err
	}
	if len(problems) > 0 {
		return Published{}, &InvalidError{Problems: problems}
	}
	changes, err := tenantsync.Plan(ctx, s.store, []tenantsync.Local{{Files: tf, Tenant: t, Dir: "studio draft"}})
	if err != nil {
		return Published{}, fmt.Errorf("plan publish of tenant %q: %w", d.Tenant, err)
	}
	c := changes[0]
	if c.Version != d.BaseVersion {
		return Published{}, fmt.Errorf("%w: tenant %s is at version %d, but this draft started from version %d; nothing was published. Reload the tenant and apply your changes again",
			ErrStale, d.Tenant, c.Version, d.BaseVersion)
	}
	if err := tenantsync.Conflicts(changes); err != nil {
		return Published{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if c.Unchanged() {
		return Published{Version: c.Version}, nil
	}
	if err := s.remember(ctx, d.Tenant); err != nil {
		return Published{}, err
	}
	if err := tenantsync.Apply(ctx, s.store, changes, io.Discard); errors.Is(err, store.ErrVersionMismatch) {
		return Published{}, fmt.Errorf("%w: tenant %s was published by someone else a moment ago; nothing was published. Reload the tenant and apply your changes again",
			ErrStale, d.Tenant)
	} else if err != nil {
		return Published{}, fmt.Errorf("publish tenant %q: %w", d.Tenant, err)
	}
	now, _, _, err := s.store.GetTenant(ctx, d.Tenant)
	if err != nil {
		return Published{}, fmt.Errorf("read tenant %q after publishing: %w", d.Tenant, err)
	}
	if err := s.history.Save(ctx, versionOf(now, a.Name, note, s.now())); err != nil {
		return Published{}, fmt.Errorf("published tenant %q version %d, but could not record it in the history: %w", d.Tenant, now.Version, err)
	}
	return Published{Version: now.Version, Changed: true}, nil
}

// remember records the tenant's current version in the history if it is not
// there (a version pushed with routebotctl, or loaded at start), so that a
// rollback can return to it.
func (s *Service) remember(ctx context.Context, id string) error {
	cur, _, _, err := s.store.GetTenant(ctx, id)
	if err != nil {
		return fmt.Errorf("read tenant %q: %w", id, err)
	}
	if _, err := s.history.Get(ctx, id, cur.Version); err == nil {
		return nil
	} else if !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("read the history of tenant %q: %w", id, err)
	}
	if err := s.history.Save(ctx, versionOf(cur, "", "published outside the studio", time.Time{})); err != nil {
		return fmt.Errorf("record tenant %q version %d in the history: %w", id, cur.Version, err)
	}
	return nil
}

func versionOf(tf store.TenantFiles, author, note string, at time.Time) Version {
	files := maps.Clone(tf.Files)
	delete(files, tenant.CustomersFile)
	return Version{Tenant: tf.ID, Version: tf.Version, At: at, Author: author, Note: note, Files: files}
}

// VersionInfo is one version as the studio lists it.
type VersionInfo struct {
	Version int64     `json:"version"`
	At      time.Time `json:"at"`
	Author  string    `json:"author"`
	Note    string    `json:"note,omitempty"`
	Current bool      `json:"current"`
}

// Versions lists a tenant's versions, newest first.
func (s *Service) Versions(ctx context.Context, a Author, id string) ([]VersionInfo, error) {
	cur, err := s.stored(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if err := s.remember(ctx, id); err != nil {
		return nil, err
	}
	vs, err := s.history.List(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("list versions of tenant %q: %w", id, err)
	}
	out := make([]VersionInfo, len(vs))
	for i, v := range vs {
		out[i] = VersionInfo{Version: v.Version, At: v.At, Author: v.Author, Note: v.Note, Current: v.Version == cur.Version}
	}
	return out, nil
}

// Rollback publishes the files of an earlier version as the tenant's next
// version (versions only move forward, so a version never names two
// contents), with the same checks as Publish: baseVersion must be current.
func (s *Service) Rollback(ctx context.Context, a Author, id string, to, baseVersion int64) (Published, error) {
	s.publishing.Lock()
	defer s.publishing.Unlock()
	if _, err := s.stored(ctx, a, id); err != nil {
		return Published{}, err
	}
	v, err := s.history.Get(ctx, id, to)
	if err != nil {
		return Published{}, fmt.Errorf("tenant %q version %d: %w", id, to, err)
	}
	d := Draft{Tenant: id, BaseVersion: baseVersion, Files: map[string]string{}}
	for _, p := range slices.Sorted(maps.Keys(v.Files)) {
		d.Files[p] = string(v.Files[p])
	}
	return s.publish(ctx, a, d, fmt.Sprintf("rollback to version %d", to))
}
