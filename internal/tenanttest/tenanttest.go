// Package tenanttest gives tests the demo tenants: parsed, stored, or as
// editable copies.
package tenanttest

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/examples"
)

// Demo is the demo tenants' files and what they parse to, in the same order.
func Demo(t testing.TB) ([]store.TenantFiles, []*tenant.Tenant) {
	t.Helper()
	tfs, err := tenant.ReadFS(examples.Tenants, "tenants")
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := tenant.ParseAll(tfs)
	if err != nil {
		t.Fatal(err)
	}
	return tfs, parsed
}

// Putter stores a tenant's files (memstore and fsstore do).
type Putter interface {
	PutTenant(ctx context.Context, t store.TenantFiles, scenarioCodes []string, customers map[string]string) (version int64, changed bool, err error)
}

// PutDemo stores the demo tenants in st, as routebotctl push would.
func PutDemo(ctx context.Context, t testing.TB, st Putter) {
	t.Helper()
	tfs, parsed := Demo(t)
	for i, tn := range parsed {
		if _, _, err := st.PutTenant(ctx, tfs[i], tn.ScenarioCodes(), tn.Customers); err != nil {
			t.Fatal(err)
		}
	}
}

// DemoCopy writes the demo tenants (examples/tenants) into a new folder of
// t's and returns it.
func DemoCopy(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	sub, err := fs.Sub(examples.Tenants, "tenants")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dir, sub); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ReplaceIn edits the file at path, failing when old is not in it (an edit
// that changes nothing would let a test pass for the wrong reason).
func ReplaceIn(t testing.TB, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("test setup: %s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
