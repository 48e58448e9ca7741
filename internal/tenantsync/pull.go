package tenantsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/tenant"
)

// ErrRefused reports a pull that would overwrite a local file that differs.
var ErrRefused = errors.New("refused")

// Pull writes stored tenants (ids, or all of them when none is named) to
// dir/<id>/, byte for byte as they were pushed. A local file that exists
// with other content is not overwritten unless force; when any is, nothing
// at all is written. Local tenant files the store does not have are left in
// place and reported. It writes one line per tenant to w.
func Pull(ctx context.Context, st Store, dir string, ids []string, force bool, w io.Writer) error {
	if len(ids) == 0 {
		var err error
		if ids, err = st.ListTenants(ctx); err != nil {
			return fmt.Errorf("list stored tenants: %w", err)
		}
		if len(ids) == 0 {
			return fmt.Errorf("the store has no tenants: %w", store.ErrNotFound)
		}
	}
	type write struct {
		path string
		data []byte
	}
	type plan struct {
		id         string
		version    int64
		writes     []write
		same       int
		extra      []string
		overwrites int
	}
	var plans []plan
	var refused []string
	for _, id := range ids {
		if id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`) {
			return fmt.Errorf("tenant %q: not a folder name", id)
		}
		tf, _, _, err := st.GetTenant(ctx, id)
		if err != nil {
			return fmt.Errorf("read stored tenant %q: %w", id, err)
		}
		p := plan{id: id, version: tf.Version}
		tdir := filepath.Join(dir, id)
		for _, rel := range slices.Sorted(maps.Keys(tf.Files)) {
			if !fs.ValidPath(rel) || !tenant.IsTenantFile(rel) {
				return fmt.Errorf("stored tenant %q has a file %q that is not a tenant file; refusing to write it", id, rel)
			}
			local := filepath.Join(tdir, filepath.FromSlash(rel))
			have, err := os.ReadFile(local)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				p.writes = append(p.writes, write{local, tf.Files[rel]})
			case err != nil:
				return fmt.Errorf("read %s: %w", local, err)
			case bytes.Equal(have, tf.Files[rel]):
				p.same++
			case force:
				p.writes = append(p.writes, write{local, tf.Files[rel]})
				p.overwrites++
			default:
				refused = append(refused, fmt.Sprintf("%s differs from tenant %s version %d", local, id, tf.Version))
			}
		}
		if tfs, err := readDirIfTenant(tdir); err == nil {
			for rel := range tfs.Files {
				if _, ok := tf.Files[rel]; !ok {
					p.extra = append(p.extra, filepath.Join(tdir, filepath.FromSlash(rel)))
				}
			}
			slices.Sort(p.extra)
		}
		plans = append(plans, p)
	}
	if len(refused) > 0 {
		return fmt.Errorf("%w to overwrite local changes (nothing written; use --force to overwrite):\n  %s", ErrRefused, strings.Join(refused, "\n  "))
	}
	for _, p := range plans {
		for _, wr := range p.writes {
			if err := writeFile(wr.path, wr.data); err != nil {
				return err
			}
		}
		fmt.Fprintf(w, "%s: version %d → %s (%d written", p.id, p.version, filepath.Join(dir, p.id), len(p.writes))
		if p.overwrites > 0 {
			fmt.Fprintf(w, ", %d of them overwritten", p.overwrites)
		}
		fmt.Fprintf(w, ", %d unchanged)\n", p.same)
		for _, x := range p.extra {
			fmt.Fprintf(w, "  %s is not in the store: left in place (remove it, or the next push adds it back)\n", x)
		}
	}
	return nil
}

// readDirIfTenant reads the tenant files of an existing tenant folder.
func readDirIfTenant(dir string) (store.TenantFiles, error) {
	tfs, single, err := readDir(dir)
	if err != nil || !single || len(tfs) != 1 {
		return store.TenantFiles{}, errors.New("not a tenant folder")
	}
	return tfs[0], nil
}

// writeFile replaces path's content through a temporary file, so that an
// interrupted pull leaves either the old file or the new one.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o644)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
