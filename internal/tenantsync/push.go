package tenantsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/tenant"
)

// Store is what push and pull need of a tenant store.
type Store interface {
	PutTenantIf(ctx context.Context, t store.TenantFiles, scenarioCodes []string, customers map[string]string, expect int64) (version int64, changed bool, err error)
	GetTenant(ctx context.Context, id string) (store.TenantFiles, []string, map[string]string, error)
	ListTenants(ctx context.Context) ([]string, error)
}

// ErrConflict reports a scenario code another tenant owns.
var ErrConflict = errors.New("scenario code conflict")

// Change is what pushing one local tenant would do to the store.
type Change struct {
	Tenant        string
	Dir           string // the local folder
	Stored        bool   // the store has the tenant
	Version       int64  // its stored version (0 when new)
	Files         []FileChange
	CodesAdded    []string
	CodesRemoved  []string
	Customers     []CustomerChange
	Conflicts     []Conflict // codes claimed by a tenant that is not being pushed
	local         *Local
	codes, stored []string
}

// FileChange is one file that differs; Old is nil for a new file, New nil
// for a file the push removes.
type FileChange struct {
	Path     string
	Old, New []byte
}

// CustomerChange is one directory entry that differs: Old "" when added,
// New "" when removed.
type CustomerChange struct {
	Phone, Old, New string
}

// Conflict is a scenario code another tenant owns.
type Conflict struct {
	Code, Owner string
}

// Unchanged reports a tenant whose push would write nothing.
func (c *Change) Unchanged() bool {
	return c.Stored && len(c.Files) == 0 && len(c.CodesAdded) == 0 && len(c.CodesRemoved) == 0 && len(c.Customers) == 0
}

// Plan compares valid local tenants (from Load) with the store: what each
// push would change, and which scenario codes other tenants hold. A code that
// one pushed tenant releases and another claims is no conflict: Apply orders
// the pushes.
func Plan(ctx context.Context, st Store, locals []Local) ([]*Change, error) {
	ids, err := st.ListTenants(ctx)
	if err != nil {
		return nil, fmt.Errorf("list stored tenants: %w", err)
	}
	type stored struct {
		tf        store.TenantFiles
		codes     []string
		customers map[string]string
	}
	have := map[string]stored{}
	owner := map[string]string{} // scenario code → stored tenant
	for _, id := range ids {
		tf, codes, customers, err := st.GetTenant(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("read stored tenant %q: %w", id, err)
		}
		have[id] = stored{tf, codes, customers}
		for _, c := range codes {
			owner[c] = id
		}
	}
	pushed := map[string]bool{}
	for _, l := range locals {
		pushed[l.Files.ID] = true
	}

	var changes []*Change
	for i := range locals {
		l := &locals[i]
		if l.Tenant == nil {
			return nil, fmt.Errorf("tenant %q is not validated", l.Files.ID)
		}
		s, ok := have[l.Files.ID]
		codes := l.Tenant.ScenarioCodes()
		c := &Change{Tenant: l.Files.ID, Dir: l.Dir, Stored: ok, Version: s.tf.Version, local: l, codes: codes, stored: s.codes}
		for _, p := range slices.Sorted(maps.Keys(joinKeys(s.tf.Files, l.Files.Files))) {
			o, n := s.tf.Files[p], l.Files.Files[p]
			if _, inOld := s.tf.Files[p]; !inOld {
				c.Files = append(c.Files, FileChange{Path: p, New: nonNil(n)})
			} else if _, inNew := l.Files.Files[p]; !inNew {
				c.Files = append(c.Files, FileChange{Path: p, Old: nonNil(o)})
			} else if !bytes.Equal(o, n) {
				c.Files = append(c.Files, FileChange{Path: p, Old: o, New: n})
			}
		}
		c.CodesAdded, c.CodesRemoved = added(s.codes, codes), added(codes, s.codes)
		for _, phone := range slices.Sorted(maps.Keys(joinKeys(s.customers, l.Tenant.Customers))) {
			o, n := s.customers[phone], l.Tenant.Customers[phone]
			if o != n {
				c.Customers = append(c.Customers, CustomerChange{Phone: phone, Old: o, New: n})
			}
		}
		for _, code := range codes {
			if o, ok := owner[code]; ok && o != c.Tenant && !pushed[o] {
				c.Conflicts = append(c.Conflicts, Conflict{Code: code, Owner: o})
			}
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// Conflicts reports, in one error wrapping ErrConflict, every scenario code
// a pushed tenant claims that a tenant not being pushed owns; nil if none.
func Conflicts(changes []*Change) error {
	var parts []string
	for _, c := range changes {
		for _, k := range c.Conflicts {
			parts = append(parts, fmt.Sprintf("tenant %s claims %s, which is tenant %s's", c.Tenant, k.Code, k.Owner))
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s; nothing written (remove the code from one of them, or push both tenants together)",
		ErrConflict, strings.Join(parts, "; "))
}

// Apply pushes the changed tenants, in an order in which a scenario code one
// of them releases is free before another claims it, and writes a line per
// pushed tenant to w. It refuses to start when Plan found conflicts.
func Apply(ctx context.Context, st Store, changes []*Change, w io.Writer) error {
	if err := Conflicts(changes); err != nil {
		return err
	}
	owner := map[string]string{}
	var pending []*Change
	for _, c := range changes {
		for _, code := range c.stored {
			owner[code] = c.Tenant
		}
		if !c.Unchanged() {
			pending = append(pending, c)
		}
	}
	for len(pending) > 0 {
		i := slices.IndexFunc(pending, func(c *Change) bool {
			for _, code := range c.codes {
				if o, ok := owner[code]; ok && o != c.Tenant {
					return false
				}
			}
			return true
		})
		if i < 0 {
			return fmt.Errorf("tenants %s: %w: they swap scenario codes, which cannot be pushed one tenant at a time; push them via an intermediate state", names(pending), ErrConflict)
		}
		c := pending[i]
		pending = slices.Delete(pending, i, i+1)
		// The version Plan compared with: a push in between (another
		// author, another studio instance) refuses this one instead of
		// being overwritten by it.
		version, changed, err := st.PutTenantIf(ctx, c.local.Files, c.codes, c.local.Tenant.Customers, c.Version)
		if errors.Is(err, store.ErrVersionMismatch) {
			return fmt.Errorf("push tenant %s: it changed in the store since it was compared (someone else pushed it); nothing of it was written, compare and push again: %w", c.Tenant, err)
		}
		if err != nil {
			return fmt.Errorf("push tenant %s: %w", c.Tenant, err)
		}
		for _, code := range c.stored {
			delete(owner, code)
		}
		for _, code := range c.codes {
			owner[code] = c.Tenant
		}
		if changed {
			fmt.Fprintf(w, "%s: pushed, version %d\n", c.Tenant, version)
		} else {
			fmt.Fprintf(w, "%s: unchanged, version %d\n", c.Tenant, version)
		}
	}
	return nil
}

// Write describes a change: for a modified file a unified diff, for an added
// or removed one a line; scenario codes; customers by masked phone number,
// without their names. customers.yaml itself is summarised, never diffed, so
// that the directory is not printed.
func (c *Change) Write(w io.Writer) {
	switch {
	case c.Unchanged():
		fmt.Fprintf(w, "%s: unchanged, version %d\n", c.Tenant, c.Version)
		return
	case !c.Stored:
		fmt.Fprintf(w, "%s: new tenant (from %s)\n", c.Tenant, c.Dir)
	default:
		fmt.Fprintf(w, "%s: changes to version %d (from %s)\n", c.Tenant, c.Version, c.Dir)
	}
	for _, f := range c.Files {
		switch {
		case f.Old == nil:
			fmt.Fprintf(w, "  new file %s (%s)\n", f.Path, size(f.New))
		case f.New == nil:
			fmt.Fprintf(w, "  removed file %s (%s)\n", f.Path, size(f.Old))
		case f.Path == tenant.CustomersFile:
			fmt.Fprintf(w, "  changed file %s (customers below)\n", f.Path)
		default:
			fmt.Fprintf(w, "  changed file %s\n", f.Path)
			Unified(w, path.Join("stored", c.Tenant, f.Path)+fmt.Sprintf(" (version %d)", c.Version),
				path.Join(strings.ReplaceAll(c.Dir, "\\", "/"), f.Path), f.Old, f.New)
		}
	}
	if len(c.CodesAdded) > 0 || len(c.CodesRemoved) > 0 {
		var parts []string
		for _, code := range c.CodesAdded {
			parts = append(parts, "+"+code)
		}
		for _, code := range c.CodesRemoved {
			parts = append(parts, "-"+code)
		}
		fmt.Fprintf(w, "  scenario codes: %s\n", strings.Join(parts, " "))
	}
	c.writeCustomers(w)
	for _, k := range c.Conflicts {
		fmt.Fprintf(w, "  CONFLICT: scenario code %s is tenant %s's in the store\n", k.Code, k.Owner)
	}
}

// maxCustomerLines bounds the customers a change lists one by one; a
// directory replaced wholesale is summed up by its counts.
const maxCustomerLines = 20

// writeCustomers lists the directory's changes by masked phone number and
// never by name (the output lands in terminals and CI logs), then counts them.
func (c *Change) writeCustomers(w io.Writer) {
	if len(c.Customers) == 0 {
		return
	}
	var added, removed, renamed int
	for i, cc := range c.Customers {
		var line string
		switch {
		case cc.Old == "":
			added++
			line = "+ " + tenant.MaskPhone(cc.Phone)
		case cc.New == "":
			removed++
			line = "- " + tenant.MaskPhone(cc.Phone)
		default:
			renamed++
			line = "~ " + tenant.MaskPhone(cc.Phone) + " (name changed)"
		}
		if i < maxCustomerLines {
			fmt.Fprintf(w, "  customer %s\n", line)
		}
	}
	if more := len(c.Customers) - maxCustomerLines; more > 0 {
		fmt.Fprintf(w, "  … and %d more\n", more)
	}
	fmt.Fprintf(w, "  customers: %d added, %d renamed, %d removed\n", added, renamed, removed)
}

func size(b []byte) string {
	if !utf8.Valid(b) {
		return fmt.Sprintf("%d bytes", len(b))
	}
	n := len(splitLines(string(b)))
	if n == 1 {
		return "1 line"
	}
	return fmt.Sprintf("%d lines", n)
}

func joinKeys[V any](a, b map[string]V) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// added lists what is in b and not in a, sorted.
func added(a, b []string) []string {
	var out []string
	for _, x := range b {
		if !slices.Contains(a, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func names(cs []*Change) string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.Tenant
	}
	return strings.Join(ids, ", ")
}
