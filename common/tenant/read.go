package tenant

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/routebot/routebot/common/store"
)

// ReadFS reads every tenant folder (a folder holding tenant.yaml) directly
// under root in fsys. It reads the tenant files and the ones misnamed with a
// .yml extension (Parse reports those, rather than a flow silently missing);
// anything else is ignored (READMEs, drafts in subfolders of flows/).
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
		if !HasTenantFile(fsys, dir) {
			continue
		}
		tf := store.TenantFiles{ID: e.Name(), Version: 1, Files: map[string][]byte{}}
		err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel := strings.TrimPrefix(p, dir+"/")
			if _, near := misnamed(rel); !IsTenantFile(rel) && !near {
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

// HasTenantFile reports whether dir in fsys is a tenant folder: it holds
// tenant.yaml (or tenant.yml, which Parse then reports as misnamed).
func HasTenantFile(fsys fs.FS, dir string) bool {
	for _, name := range []string{TenantFile, "tenant.yml"} {
		if st, err := fs.Stat(fsys, path.Join(dir, name)); err == nil && !st.IsDir() {
			return true
		}
	}
	return false
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

// misnamed reports the tenant file rel was meant to be when it differs from
// one only by its extension (.yml, .YAML): flows/F1.yml → flows/F1.yaml.
func misnamed(rel string) (want string, ok bool) {
	ext := path.Ext(rel)
	if ext == ".yaml" || !strings.EqualFold(ext, ".yaml") && !strings.EqualFold(ext, ".yml") {
		return "", false
	}
	want = strings.TrimSuffix(rel, ext) + ".yaml"
	return want, IsTenantFile(want)
}
