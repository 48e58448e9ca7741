package tenant

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/store/memstore"
)

// registryProbe counts what the Registry does with a tenant version.
type registryProbe struct {
	builds    atomic.Int32
	failBuild atomic.Bool

	mu     sync.Mutex
	errors []probeErr
}

type probeErr struct {
	id      string
	version int64
	err     error
}

func (p *registryProbe) build(t *Tenant) error {
	p.builds.Add(1)
	if p.failBuild.Load() {
		return errors.New("classifier: cannot build")
	}
	return nil
}

func (p *registryProbe) onErr(id string, version int64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errors = append(p.errors, probeErr{id, version, err})
}

func (p *registryProbe) errs() []probeErr {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.errors)
}

func put(t *testing.T, ms *memstore.Store, tf store.TenantFiles, codes ...string) int64 {
	t.Helper()
	v, _, err := ms.PutTenant(context.Background(), tf, codes, nil)
	if err != nil {
		t.Fatalf("PutTenant(%s): %v", tf.ID, err)
	}
	return v
}

// acmeWith is acme with one edit to its flow.
func acmeWith(t *testing.T, old, new string) store.TenantFiles {
	tf := acmeFiles()
	edit(t, tf, "flows/F1.yaml", old, new)
	return tf
}

func TestRegistry(t *testing.T) {
	ctx := context.Background()
	ms := memstore.New(nil)
	probe := &registryProbe{}
	reg := NewRegistry(ms, probe.build, probe.onErr)

	flow := func(t *testing.T, code string) *Flow {
		t.Helper()
		f, err := reg.Flow(ctx, code)
		if err != nil {
			t.Fatalf("Flow(%s): %v", code, err)
		}
		return f
	}
	byePrompt := func(f *Flow) string { return f.Steps["bye"].Prompt.String() }
	wantBuilds := func(t *testing.T, n int32) {
		t.Helper()
		if got := probe.builds.Load(); got != n {
			t.Errorf("built %d times, want %d", got, n)
		}
	}
	wantErrs := func(t *testing.T, n int) []probeErr {
		t.Helper()
		errs := probe.errs()
		if len(errs) != n {
			t.Fatalf("onErr called %d times (%v), want %d", len(errs), errs, n)
		}
		return errs
	}

	var v1 *Flow
	t.Run("compiles once per version", func(t *testing.T) {
		if v := put(t, ms, acmeFiles(), "F1"); v != 1 {
			t.Fatalf("version %d, want 1", v)
		}
		v1 = flow(t, "F1")
		checkLinked(t, v1)
		for range 5 {
			if f := flow(t, "F1"); f != v1 {
				t.Fatal("a second Flow call returned another compiled flow")
			}
		}
		wantBuilds(t, 1)
		if v1.Tenant.Version != 1 || v1.Tenant.ID != "acme" {
			t.Errorf("tenant %s version %d", v1.Tenant.ID, v1.Tenant.Version)
		}
		// An identical put is no new version: nothing to compile.
		if v, changed, err := ms.PutTenant(ctx, acmeFiles(), []string{"F1"}, nil); err != nil || changed || v != 1 {
			t.Fatalf("identical PutTenant = %d, %v, %v", v, changed, err)
		}
		if flow(t, "F1") != v1 {
			t.Error("recompiled for an identical put")
		}
		wantBuilds(t, 1)
	})

	var v2 *Flow
	t.Run("recompiles when the version increases", func(t *testing.T) {
		if v := put(t, ms, acmeWith(t, "prompt: 감사합니다.", "prompt: 또 오세요."), "F1"); v != 2 {
			t.Fatalf("version %d, want 2", v)
		}
		v2 = flow(t, "F1")
		if v2 == v1 || v2.Tenant.Version != 2 || byePrompt(v2) != "또 오세요." {
			t.Errorf("after version 2: version %d, bye %q", v2.Tenant.Version, byePrompt(v2))
		}
		if flow(t, "F1") != v2 {
			t.Error("version 2 compiled twice")
		}
		wantBuilds(t, 2)
		wantErrs(t, 0)
	})

	t.Run("a broken version keeps the last good one", func(t *testing.T) {
		put(t, ms, acmeWith(t, "next: confirm", "next: nowhere"), "F1") // version 3
		for range 3 {
			if f := flow(t, "F1"); f != v2 {
				t.Fatalf("Flow serves version %d, want the last good version 2", f.Tenant.Version)
			}
		}
		wantBuilds(t, 2)
		e := wantErrs(t, 1)[0]
		var perr *Error
		if e.id != "acme" || e.version != 3 || !errors.As(e.err, &perr) || !strings.Contains(e.err.Error(), `unknown step "nowhere"`) {
			t.Errorf("onErr(%q, %d, %v)", e.id, e.version, e.err)
		}
	})

	t.Run("a fixed version is compiled", func(t *testing.T) {
		put(t, ms, acmeWith(t, "prompt: 감사합니다.", "prompt: 다시 고쳤어요."), "F1") // version 4
		f := flow(t, "F1")
		if f.Tenant.Version != 4 || byePrompt(f) != "다시 고쳤어요." {
			t.Errorf("version %d bye %q", f.Tenant.Version, byePrompt(f))
		}
		wantBuilds(t, 3)
		wantErrs(t, 1)
	})

	t.Run("a failing build is a broken version", func(t *testing.T) {
		before := flow(t, "F1")
		probe.failBuild.Store(true)
		defer probe.failBuild.Store(false)
		put(t, ms, acmeWith(t, "prompt: 감사합니다.", "prompt: 빌드 실패."), "F1") // version 5
		if f := flow(t, "F1"); f != before {
			t.Errorf("Flow serves version %d, want 4", f.Tenant.Version)
		}
		flow(t, "F1")
		wantBuilds(t, 4)
		if e := wantErrs(t, 2)[1]; e.version != 5 || !strings.Contains(e.err.Error(), "classifier: cannot build") {
			t.Errorf("onErr(%q, %d, %v)", e.id, e.version, e.err)
		}
	})

	t.Run("unknown scenario code", func(t *testing.T) {
		if _, err := reg.Flow(ctx, "NOPE"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Flow(NOPE) = %v, want store.ErrNotFound", err)
		}
	})

	t.Run("code the store knows but the tenant has no flow for", func(t *testing.T) {
		put(t, ms, acmeFiles(), "F1", "F9")
		if _, err := reg.Flow(ctx, "F9"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Flow(F9) = %v, want store.ErrNotFound", err)
		}
	})
}

func TestRegistryFirstVersionBroken(t *testing.T) {
	ctx := context.Background()
	ms := memstore.New(nil)
	probe := &registryProbe{}
	reg := NewRegistry(ms, probe.build, probe.onErr)
	put(t, ms, acmeWith(t, "transfer: general", "transfer: nobody"), "F1")

	f, err := reg.Flow(ctx, "F1")
	var perr *Error
	if f != nil || !errors.Is(err, ErrBroken) || !errors.As(err, &perr) {
		t.Fatalf("Flow = %v, %v; want ErrBroken wrapping the problems", f, err)
	}
	for range 3 { // the version's failure is remembered, not recompiled
		if f, err := reg.Flow(ctx, "F1"); f != nil || !errors.Is(err, ErrBroken) {
			t.Fatalf("Flow = %v, %v; want ErrBroken", f, err)
		}
	}
	if n := len(probe.errs()); n != 1 {
		t.Errorf("onErr called %d times, want once for the version", n)
	}
	if n := probe.builds.Load(); n != 0 {
		t.Errorf("build ran %d times on a tenant that does not parse", n)
	}

	put(t, ms, acmeFiles(), "F1")
	f, err = reg.Flow(ctx, "F1")
	if err != nil || f.Tenant.Version != 2 {
		t.Fatalf("after the fix: Flow = %v, %v", f, err)
	}
}

// tenantsFunc is a store.Tenants whose answers a test chooses.
type tenantsFunc struct {
	tenantOf func(string) (string, int64, error)
	files    func(string) (store.TenantFiles, error)
}

func (s tenantsFunc) TenantOf(_ context.Context, code string) (string, int64, error) {
	return s.tenantOf(code)
}
func (s tenantsFunc) Files(_ context.Context, id string) (store.TenantFiles, error) {
	return s.files(id)
}

func TestRegistryStoreErrors(t *testing.T) {
	down := errors.New("firestore: deadline exceeded")
	tests := []struct {
		name string
		src  tenantsFunc
		want error
	}{
		{"TenantOf unavailable", tenantsFunc{tenantOf: func(string) (string, int64, error) { return "", 0, errors.Join(store.ErrUnavailable, down) }},
			store.ErrUnavailable},
		{"Files unavailable", tenantsFunc{tenantOf: func(string) (string, int64, error) { return "acme", 1, nil },
			files: func(string) (store.TenantFiles, error) {
				return store.TenantFiles{}, errors.Join(store.ErrUnavailable, down)
			}},
			store.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probe := &registryProbe{}
			_, err := NewRegistry(tt.src, probe.build, probe.onErr).Flow(context.Background(), "F1")
			if !errors.Is(err, tt.want) {
				t.Errorf("Flow = %v, want %v", err, tt.want)
			}
			if len(probe.errs()) != 0 {
				t.Errorf("onErr called for a store failure: %v", probe.errs())
			}
		})
	}
}

func TestRegistryNilHooks(t *testing.T) {
	ms := memstore.New(nil)
	put(t, ms, acmeWith(t, "transfer: general", "transfer: nobody"), "F1")
	if _, err := NewRegistry(ms, nil, nil).Flow(context.Background(), "F1"); !errors.Is(err, ErrBroken) {
		t.Errorf("Flow = %v, want ErrBroken", err)
	}
}

func TestRegistryConcurrent(t *testing.T) {
	ctx := context.Background()
	ms := memstore.New(nil)
	probe := &registryProbe{}
	reg := NewRegistry(ms, probe.build, probe.onErr)

	burst := func(t *testing.T) *Flow {
		t.Helper()
		const n = 50
		var wg sync.WaitGroup
		start := make(chan struct{})
		flows := make([]*Flow, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				<-start
				flows[i], errs[i] = reg.Flow(ctx, "F1")
			})
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errs[i] != nil || flows[i] != flows[0] {
				t.Fatalf("goroutine %d: %p, %v; goroutine 0: %p", i, flows[i], errs[i], flows[0])
			}
		}
		return flows[0]
	}

	put(t, ms, acmeFiles(), "F1")
	f1 := burst(t)
	if n := probe.builds.Load(); n != 1 {
		t.Errorf("50 concurrent first calls built %d times, want 1", n)
	}
	put(t, ms, acmeWith(t, "prompt: 감사합니다.", "prompt: 동시에."), "F1")
	f2 := burst(t)
	if n := probe.builds.Load(); n != 2 || f2 == f1 || f2.Tenant.Version != 2 {
		t.Errorf("after version 2: %d builds, version %d", n, f2.Tenant.Version)
	}
	put(t, ms, acmeWith(t, "next: confirm", "next: nowhere"), "F1")
	if f3 := burst(t); f3 != f2 || len(probe.errs()) != 1 {
		t.Errorf("broken version 3 under load: serves version %d, onErr %d times", f3.Tenant.Version, len(probe.errs()))
	}
}
