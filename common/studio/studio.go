// Package studio is what the flow studio does with a tenant's files: hands
// them to an author as a draft, validates a draft with the tenant loader's
// own checks (plus what spans tenants: scenario codes and bots), diffs it
// against the published version, plays call turns against it with the real
// engine and the tenant's classifier on a session that lives only in the
// request, and publishes it through tenantsync (the code of routebotctl push)
// with optimistic concurrency, keeping every published version so that one
// can be published again (rollback). Authors are scoped to tenants.
package studio

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/internal/tenantsync"
)

// Limits on a draft, so that a bad upload is refused before it is parsed.
const (
	MaxDraftBytes = 1 << 20 // all files together
	MaxDraftFiles = 100
)

// Errors the edge maps to HTTP statuses; each is wrapped with a message
// meant for the author.
var (
	ErrForbidden = errors.New("forbidden")     // the author may not see this tenant
	ErrNotFound  = errors.New("not found")     // no such tenant or version
	ErrInvalid   = errors.New("invalid draft") // the draft does not validate
	ErrStale     = errors.New("stale draft")   // published meanwhile: the base version is not the current one
	ErrTooLarge  = errors.New("draft too large")
	ErrBadInput  = errors.New("bad input") // a request that is not well formed
)

// Store is the tenant store the studio reads and publishes to (memstore or
// fsstore): what routebotctl push uses, and the per-version files cache the
// running functions read, for checking a draft against the other tenants.
type Store interface {
	tenantsync.Store
	Files(ctx context.Context, tenantID string) (store.TenantFiles, error)
}

// ClassifierFor builds the classifier a tenant would get in production
// (app.App.Classifier).
type ClassifierFor func(*tenant.Tenant) (classify.Classifier, error)

// Service is the studio's domain.
type Service struct {
	store    Store
	history  History
	classify ClassifierFor
	now      func() time.Time

	publishing sync.Mutex // one publish at a time in this process (see Publish)

	mu          sync.Mutex
	classifiers map[string]classify.Classifier // by draft tenant and content (see classifier)
}

// New returns the studio over st, keeping published versions in history and
// simulating with the classifiers classifierFor builds. now is the clock
// (time.Now when nil).
func New(st Store, history History, classifierFor ClassifierFor, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, history: history, classify: classifierFor, now: now, classifiers: map[string]classify.Classifier{}}
}

// TenantSummary is one tenant as the studio lists it.
type TenantSummary struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Version int64    `json:"version"`
	Flows   []string `json:"flows"`
}

// Tenants lists the tenants the author may see.
func (s *Service) Tenants(ctx context.Context, a Author) ([]TenantSummary, error) {
	ids, err := s.store.ListTenants(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	out := []TenantSummary{}
	for _, id := range ids {
		if !a.May(id) {
			continue
		}
		tf, codes, _, err := s.store.GetTenant(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read tenant %q: %w", id, err)
		}
		sum := TenantSummary{ID: id, Version: tf.Version, Flows: codes}
		if t, err := tenant.Parse(tf); err == nil {
			sum.Name = t.Name
		}
		out = append(out, sum)
	}
	return out, nil
}

// Draft is a tenant's files as an author edits them. customers.yaml is not
// part of it: the directory's phone numbers stay on the server, and a
// publish keeps the stored directory.
type Draft struct {
	Tenant      string            `json:"tenant"`
	BaseVersion int64             `json:"baseVersion"` // the version the draft started from
	Files       map[string]string `json:"files"`
}

// Draft returns the tenant's current files as a draft.
func (s *Service) Draft(ctx context.Context, a Author, id string) (Draft, error) {
	tf, err := s.stored(ctx, a, id)
	if err != nil {
		return Draft{}, err
	}
	d := Draft{Tenant: id, BaseVersion: tf.Version, Files: map[string]string{}}
	for p, b := range tf.Files {
		if p != tenant.CustomersFile {
			d.Files[p] = string(b)
		}
	}
	return d, nil
}

// stored reads a tenant the author may see.
func (s *Service) stored(ctx context.Context, a Author, id string) (store.TenantFiles, error) {
	if !a.May(id) {
		return store.TenantFiles{}, fmt.Errorf("%w: tenant %q is not one of yours", ErrForbidden, id)
	}
	tf, _, _, err := s.store.GetTenant(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.TenantFiles{}, fmt.Errorf("%w: tenant %q", ErrNotFound, id)
	}
	if err != nil {
		return store.TenantFiles{}, fmt.Errorf("read tenant %q: %w", id, err)
	}
	return tf, nil
}

// files turns a draft into the tenant's files: checks its size and paths,
// and puts the stored customers.yaml back.
func (s *Service) files(ctx context.Context, a Author, d Draft) (store.TenantFiles, error) {
	stored, err := s.stored(ctx, a, d.Tenant)
	if err != nil {
		return store.TenantFiles{}, err
	}
	if len(d.Files) > MaxDraftFiles {
		return store.TenantFiles{}, fmt.Errorf("%w: %d files, at most %d", ErrTooLarge, len(d.Files), MaxDraftFiles)
	}
	total := 0
	tf := store.TenantFiles{ID: d.Tenant, Version: stored.Version, Files: map[string][]byte{}}
	for _, p := range slices.Sorted(maps.Keys(d.Files)) {
		content := d.Files[p]
		total += len(content)
		if total > MaxDraftBytes {
			return store.TenantFiles{}, fmt.Errorf("%w: over %d bytes in all", ErrTooLarge, MaxDraftBytes)
		}
		switch {
		case p == tenant.CustomersFile:
			return store.TenantFiles{}, fmt.Errorf("%w: %s is managed outside the studio", ErrBadInput, p)
		case path.Clean(p) != p || !tenant.IsTenantFile(p):
			return store.TenantFiles{}, fmt.Errorf("%w: %q is not a tenant file (tenant.yaml, taxonomy.yaml or flows/<CODE>.yaml)", ErrBadInput, p)
		case !utf8.ValidString(content):
			return store.TenantFiles{}, fmt.Errorf("%w: %s is not UTF-8 text", ErrBadInput, p)
		}
		tf.Files[p] = []byte(content)
	}
	if c, ok := stored.Files[tenant.CustomersFile]; ok {
		tf.Files[tenant.CustomersFile] = c
	}
	return tf, nil
}

// Problem is a validation problem with its file relative to the tenant's
// folder, as the draft names it.
type Problem struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Step string `json:"step,omitempty"`
	Msg  string `json:"message"`
}

// Validate checks a draft as the server would load it, together with the
// other stored tenants (a scenario code or bot belongs to one tenant).
func (s *Service) Validate(ctx context.Context, a Author, d Draft) ([]Problem, error) {
	tf, err := s.files(ctx, a, d)
	if err != nil {
		return nil, err
	}
	_, problems, err := s.compile(ctx, tf)
	return problems, err
}

// compile parses tf with every other stored tenant; problems concern tf only.
func (s *Service) compile(ctx context.Context, tf store.TenantFiles) (*tenant.Tenant, []Problem, error) {
	ids, err := s.store.ListTenants(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list tenants: %w", err)
	}
	var all []store.TenantFiles
	for _, id := range ids {
		if id == tf.ID {
			continue
		}
		other, err := s.store.Files(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read tenant %q: %w", id, err)
		}
		if _, err := tenant.Parse(other); err == nil { // a broken neighbour is not this draft's problem
			all = append(all, other)
		}
	}
	all = append(all, tf) // last, so that a clash is reported against the draft
	parsed, err := tenant.ParseAll(all)
	var perr *tenant.Error
	switch {
	case errors.As(err, &perr):
		var out []Problem
		prefix := tf.ID + "/"
		for _, p := range perr.Problems {
			if rest, ok := strings.CutPrefix(p.File, prefix); ok {
				out = append(out, Problem{File: rest, Line: p.Line, Step: p.Step, Msg: p.Msg})
			}
		}
		if len(out) == 0 { // defensive: never report "valid" for a draft that did not parse
			out = append(out, Problem{File: tenant.TenantFile, Msg: perr.Error()})
		}
		return nil, out, nil
	case err != nil:
		return nil, nil, fmt.Errorf("validate tenant %q: %w", tf.ID, err)
	}
	return parsed[len(parsed)-1], nil, nil
}

// FileDiff is one file that a publish would change.
type FileDiff struct {
	Path    string `json:"path"`
	Status  string `json:"status"` // added | removed | changed
	Unified string `json:"unified,omitempty"`
}

// Diff compares a draft with the tenant's current version.
func (s *Service) Diff(ctx context.Context, a Author, d Draft) (version int64, diffs []FileDiff, err error) {
	tf, err := s.files(ctx, a, d)
	if err != nil {
		return 0, nil, err
	}
	stored, _, _, err := s.store.GetTenant(ctx, d.Tenant)
	if err != nil {
		return 0, nil, fmt.Errorf("read tenant %q: %w", d.Tenant, err)
	}
	return stored.Version, diffFiles(stored.Files, tf.Files, d.Tenant, stored.Version), nil
}

func diffFiles(old, new map[string][]byte, id string, version int64) []FileDiff {
	diffs := []FileDiff{}
	names := map[string]bool{}
	for p := range old {
		names[p] = true
	}
	for p := range new {
		names[p] = true
	}
	for _, p := range slices.Sorted(maps.Keys(names)) {
		o, inOld := old[p]
		n, inNew := new[p]
		fd := FileDiff{Path: p}
		switch {
		case !inOld:
			fd.Status = "added"
		case !inNew:
			fd.Status = "removed"
		case string(o) == string(n):
			continue
		default:
			fd.Status = "changed"
		}
		if p != tenant.CustomersFile { // never print the directory's phone numbers
			var b strings.Builder
			tenantsync.Unified(&b, fmt.Sprintf("%s/%s (version %d)", id, p, version), id+"/"+p+" (draft)", o, n)
			fd.Unified = b.String()
		}
		diffs = append(diffs, fd)
	}
	return diffs
}
