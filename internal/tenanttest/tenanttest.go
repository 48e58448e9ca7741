// Package tenanttest gives tests editable copies of the demo tenants.
package tenanttest

import (
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/routebot/routebot/examples"
)

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
