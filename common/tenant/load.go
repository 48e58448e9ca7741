package tenant

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/routebot/routebot/common/store"
)

// ReadFS reads every tenant folder (a folder holding tenant.yaml) directly
// under root in fsys. Files other than tenant.yaml, taxonomy.yaml,
// customers.yaml and flows/*.yaml are ignored (READMEs, drafts).
func ReadFS(fsys fs.FS, root string) ([]store.TenantFiles, error) {
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("tenant: read %s: %w", root, err)
	}
	var out []store.TenantFiles
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := path.Join(root, e.Name())
		if _, err := fs.Stat(fsys, path.Join(dir, TenantFile)); err != nil {
			continue
		}
		tf := store.TenantFiles{ID: e.Name(), Version: 1, Files: map[string][]byte{}}
		err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel := strings.TrimPrefix(p, dir+"/")
			if !IsTenantFile(rel) {
				return nil
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			tf.Files[rel] = data
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("tenant: read %s: %w", dir, err)
		}
		out = append(out, tf)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("tenant: no tenant folders (with %s) under %s", TenantFile, root)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// IsTenantFile reports whether rel (relative to a tenant folder) is one of
// the files a tenant is made of.
func IsTenantFile(rel string) bool {
	switch rel {
	case TenantFile, TaxonomyFile, CustomersFile:
		return true
	}
	return strings.HasPrefix(rel, FlowsDir) && strings.HasSuffix(rel, ".yaml") && !strings.Contains(rel[len(FlowsDir):], "/")
}

// ParseAll parses several tenants and checks what spans them: a scenario code
// or a bot key belongs to one tenant only.
func ParseAll(tfs []store.TenantFiles) ([]*Tenant, error) {
	var problems []Problem
	var out []*Tenant
	codeOwner, botOwner := map[string]string{}, map[string]string{}
	for _, tf := range tfs {
		t, err := Parse(tf)
		var perr *Error
		if errors.As(err, &perr) {
			problems = append(problems, perr.Problems...)
			continue
		} else if err != nil {
			return nil, err
		}
		for _, code := range t.ScenarioCodes() {
			if owner, dup := codeOwner[code]; dup {
				problems = append(problems, Problem{File: t.ID + "/" + FlowsDir + code + ".yaml", Msg: fmt.Sprintf("scenario code %q is also tenant %q's", code, owner)})
			}
			codeOwner[code] = t.ID
		}
		for bot := range t.Bots {
			if owner, dup := botOwner[bot]; dup {
				problems = append(problems, Problem{File: t.ID + "/" + TenantFile, Msg: fmt.Sprintf("bot %q is also tenant %q's", bot, owner)})
			}
			botOwner[bot] = t.ID
		}
		out = append(out, t)
	}
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	return out, nil
}

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
