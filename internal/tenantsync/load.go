// Package tenantsync is what routebotctl does with tenant folders: reads and
// validates them as the server does (problems as file:line relative to the
// folders the user named), compares them with a tenant store (unified line
// diffs, scenario codes, customers with masked phone numbers), pushes what
// changed in an order that lets tenants hand scenario codes over, and pulls
// stored tenants back to files byte for byte. It works on any store with
// PutTenant/GetTenant/ListTenants (the Firestore store in production, the
// memory store in tests).
package tenantsync

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/tenant"
)

// Local is one tenant read from disk.
type Local struct {
	Files  store.TenantFiles
	Tenant *tenant.Tenant // compiled; nil when some tenant is invalid
	Dir    string         // the tenant's folder, under the path the user gave
}

// Load reads the tenant folders named by dirs (each a folder of tenant
// folders, like examples/tenants, or one tenant folder) and validates them
// together with the server's loader, so that scenario codes and bots are
// checked across all of them. problems (sorted) have their File relative to
// the working directory, as the user typed the dirs, so that editors jump to
// them; when there are any, no Local has a Tenant. err reports what could
// not be read.
func Load(dirs ...string) (locals []Local, problems []tenant.Problem, err error) {
	if len(dirs) == 0 {
		return nil, nil, errors.New("no tenant folder given")
	}
	var tfs []store.TenantFiles
	for _, dir := range dirs {
		got, single, err := readDir(dir)
		if err != nil {
			return nil, nil, err
		}
		for _, tf := range got {
			if i := slices.IndexFunc(locals, func(l Local) bool { return l.Files.ID == tf.ID }); i >= 0 {
				return nil, nil, fmt.Errorf("tenant %q is in both %s and %s", tf.ID, locals[i].Dir, tenantDir(dir, tf.ID, single))
			}
			locals = append(locals, Local{Files: tf, Dir: tenantDir(dir, tf.ID, single)})
			tfs = append(tfs, tf)
		}
	}
	parsed, err := tenant.ParseAll(tfs)
	var perr *tenant.Error
	switch {
	case errors.As(err, &perr):
		problems = slices.Clone(perr.Problems)
		for i, p := range problems {
			problems[i].File = displayPath(locals, p.File)
		}
		slices.SortStableFunc(problems, func(a, b tenant.Problem) int {
			return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line),
				strings.Compare(a.Step, b.Step), strings.Compare(a.Msg, b.Msg))
		})
		return locals, problems, nil
	case err != nil:
		return nil, nil, fmt.Errorf("validate tenants: %w", err)
	}
	for i := range locals {
		locals[i].Tenant = parsed[i] // ParseAll keeps the order when all are valid
	}
	return locals, nil, nil
}

// readDir reads dir as one tenant folder (it has tenant.yaml) or as a folder
// of tenant folders.
func readDir(dir string) (tfs []store.TenantFiles, single bool, err error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, false, fmt.Errorf("read tenant folder: %w", err)
	}
	if !st.IsDir() {
		return nil, false, fmt.Errorf("read tenant folder: %s is not a folder", dir)
	}
	if tenant.HasTenantFile(os.DirFS(dir), ".") {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, false, fmt.Errorf("read tenant folder %s: %w", dir, err)
		}
		// The tenant's id is its folder's name, as when its parent is read.
		tfs, err = tenant.ReadFS(onlyEntry{os.DirFS(filepath.Dir(abs)), filepath.Base(abs)}, ".")
		if err != nil {
			return nil, false, fmt.Errorf("read tenant folder %s: %w", dir, err)
		}
		return tfs, true, nil
	}
	if !hasTenantFolder(dir) {
		return nil, false, fmt.Errorf("read tenant folder %s: no %s in it nor in the folders directly under it", dir, tenant.TenantFile)
	}
	tfs, err = tenant.ReadFS(os.DirFS(dir), ".")
	if err != nil {
		return nil, false, fmt.Errorf("read tenant folders in %s: %w", dir, err)
	}
	return tfs, false, nil
}

// onlyEntry shows one entry of its root folder and everything under it.
type onlyEntry struct {
	fs.FS
	name string
}

func (o onlyEntry) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(o.FS, name)
	if err != nil || name != "." {
		return entries, err
	}
	for _, e := range entries {
		if e.Name() == o.name {
			return []fs.DirEntry{e}, nil
		}
	}
	return nil, nil
}

// hasTenantFolder reports whether some folder directly under dir is a
// tenant folder.
func hasTenantFolder(dir string) bool {
	entries, _ := os.ReadDir(dir)
	fsys := os.DirFS(dir)
	for _, e := range entries {
		if e.IsDir() && tenant.HasTenantFile(fsys, e.Name()) {
			return true
		}
	}
	return false
}

func tenantDir(dir, id string, single bool) string {
	if single {
		return filepath.Clean(dir)
	}
	return filepath.Join(dir, id)
}

// displayPath turns a problem's "<id>/<file>" into the file under the folder
// the user named.
func displayPath(locals []Local, file string) string {
	id, rest, _ := strings.Cut(file, "/")
	for _, l := range locals {
		if l.Files.ID == id {
			return filepath.Join(l.Dir, filepath.FromSlash(rest))
		}
	}
	return file
}
