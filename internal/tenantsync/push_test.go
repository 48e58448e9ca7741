package tenantsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/routebot/routebot/internal/tenanttest"

	"github.com/routebot/routebot/common/store"
)

func load(t *testing.T, dirs ...string) []Local {
	t.Helper()
	locals, problems, err := Load(dirs...)
	if err != nil || len(problems) > 0 {
		t.Fatalf("Load(%v): %v %v", dirs, err, problems)
	}
	return locals
}

func plan(t *testing.T, st Store, locals []Local) ([]*Change, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	changes, err := Plan(ctx, st, locals)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range changes {
		c.Write(&b)
	}
	return changes, b.String()
}

func apply(t *testing.T, st Store, changes []*Change) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var b strings.Builder
	err := Apply(ctx, st, changes, &b)
	return b.String(), err
}

func versions(t *testing.T, st Store) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	ids, err := st.ListTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, id := range ids {
		tf, _, _, err := st.GetTenant(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out[id] = tf.Version
	}
	return out
}

func wantVersions(t *testing.T, st Store, want map[string]int64) {
	t.Helper()
	got := versions(t, st)
	if len(got) != len(want) {
		t.Errorf("stored versions %v, want %v", got, want)
		return
	}
	for id, v := range want {
		if got[id] != v {
			t.Errorf("stored versions %v, want %v", got, want)
			return
		}
	}
}

// TestPushPull walks the life of the demo tenants on each store: first push,
// idempotent push, dry run of an edit, the edit pushed, pull back, conflict.
func TestPushPull(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := b.new(t)
			demo := tenanttest.DemoCopy(t)

			// First push: both tenants new, version 1.
			changes, out := plan(t, st, load(t, demo))
			golden(t, "push-new.golden", strings.ReplaceAll(out, demo, "$DIR"))
			if res, err := apply(t, st, changes); err != nil || res != "hanbit: pushed, version 1\nnexus: pushed, version 1\n" {
				t.Fatalf("first push: %q, %v", res, err)
			}
			wantVersions(t, st, map[string]int64{"hanbit": 1, "nexus": 1})

			// Again: nothing changes, nothing is bumped.
			changes, out = plan(t, st, load(t, demo))
			if out != "hanbit: unchanged, version 1\nnexus: unchanged, version 1\n" {
				t.Errorf("second plan:\n%s", out)
			}
			if res, err := apply(t, st, changes); err != nil || res != "" {
				t.Errorf("second push: %q, %v", res, err)
			}
			wantVersions(t, st, map[string]int64{"hanbit": 1, "nexus": 1})

			// Edit a prompt, a customer's name, add one and remove one: the
			// plan shows it and writes nothing.
			tenanttest.ReplaceIn(t, filepath.Join(demo, "nexus", "flows", "SCENARIO01.yaml"),
				"prompt: 환불 관련 문의는 전문 상담원이 도와드립니다.", "prompt: 환불 문의는 환불 전담 상담원이 도와드립니다.")
			tenanttest.ReplaceIn(t, filepath.Join(demo, "nexus", "customers.yaml"), `"01099998888": 이서연`, `"01055556666": 박지훈`)
			tenanttest.ReplaceIn(t, filepath.Join(demo, "nexus", "customers.yaml"), `김민수`, `김민호`)
			changes, out = plan(t, st, load(t, demo))
			golden(t, "push-edit.golden", strings.ReplaceAll(out, demo, "$DIR"))
			for _, secret := range []string{"01055556666", "01099998888", "01012345678", "박지훈", "이서연", "김민수", "김민호"} {
				if strings.Contains(out, secret) {
					t.Errorf("the plan prints the customer's %s in clear", secret)
				}
			}
			wantVersions(t, st, map[string]int64{"hanbit": 1, "nexus": 1})

			if res, err := apply(t, st, changes); err != nil || res != "nexus: pushed, version 2\n" {
				t.Fatalf("edit push: %q, %v", res, err)
			}
			wantVersions(t, st, map[string]int64{"hanbit": 1, "nexus": 2})
			_, codes, customers, err := st.GetTenant(context.Background(), "nexus")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(codes, []string{"SCENARIO01", "star-wars"}) ||
				len(customers) != 2 || customers["01055556666"] != "박지훈" || customers["01012345678"] != "김민호" {
				t.Errorf("stored codes %v customers %v", codes, customers)
			}

			// Pull into an empty folder: the files come back byte for byte.
			pulled := filepath.Join(t.TempDir(), "pulled")
			var pout bytes.Buffer
			if err := Pull(context.Background(), st, pulled, nil, false, &pout); err != nil {
				t.Fatal(err)
			}
			sameTree(t, demo, pulled)
			if got := strings.ReplaceAll(pout.String(), pulled, "$OUT"); got !=
				"hanbit: version 1 → $OUT/hanbit (3 written, 0 unchanged)\nnexus: version 2 → $OUT/nexus (5 written, 0 unchanged)\n" {
				t.Errorf("pull output:\n%s", got)
			}

			// A second tenant claiming SCENARIO01 is refused, and nothing is written.
			other := t.TempDir()
			if err := os.CopyFS(filepath.Join(other, "acme"), os.DirFS(filepath.Join(demo, "hanbit"))); err != nil {
				t.Fatal(err)
			}
			tenanttest.ReplaceIn(t, filepath.Join(other, "acme", "tenant.yaml"), "id: hanbit", "id: acme")
			tenanttest.ReplaceIn(t, filepath.Join(other, "acme", "tenant.yaml"), "bot00002", "bot00003")
			if err := os.Rename(filepath.Join(other, "acme", "flows", "HANBIT01.yaml"), filepath.Join(other, "acme", "flows", "SCENARIO01.yaml")); err != nil {
				t.Fatal(err)
			}
			tenanttest.ReplaceIn(t, filepath.Join(other, "acme", "flows", "SCENARIO01.yaml"), "code: HANBIT01", "code: SCENARIO01")
			changes, out = plan(t, st, load(t, other))
			if !strings.Contains(out, "CONFLICT: scenario code SCENARIO01 is tenant nexus's in the store") {
				t.Errorf("plan does not show the conflict:\n%s", out)
			}
			err = Conflicts(changes)
			if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "tenant acme claims SCENARIO01, which is tenant nexus's") {
				t.Errorf("Conflicts = %v", err)
			}
			if _, err := apply(t, st, changes); !errors.Is(err, ErrConflict) {
				t.Errorf("Apply with a conflict = %v, want ErrConflict", err)
			}
			wantVersions(t, st, map[string]int64{"hanbit": 1, "nexus": 2})
			if _, _, err := st.PutTenantIf(context.Background(), changes[0].local.Files, changes[0].codes, nil, store.AnyVersion); err == nil {
				t.Error("the store itself accepts the conflicting tenant: the test's premise is wrong")
			}
		})
	}
}

// sameTree fails unless every tenant file of want is in got with the same
// bytes, and got has no other file.
func sameTree(t *testing.T, want, got string) {
	t.Helper()
	files := func(root string) map[string][]byte {
		out := map[string][]byte{}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			out[rel], err = os.ReadFile(p)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	w, g := files(want), files(got)
	for p, data := range w {
		if !bytes.Equal(g[p], data) {
			t.Errorf("%s: pulled %d bytes, pushed %d (or differs)", p, len(g[p]), len(data))
		}
	}
	for p := range g {
		if _, ok := w[p]; !ok {
			t.Errorf("pull wrote %s, which was never pushed", p)
		}
	}
	if len(w) == 0 {
		t.Error("nothing to compare")
	}
}

// TestHandOver moves a scenario code from one tenant to another in one push:
// the releasing tenant must be written first, whatever the folder order.
func TestHandOver(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := b.new(t)
			demo := tenanttest.DemoCopy(t)
			push(t, st, demo)
			// star-wars moves from nexus to hanbit.
			if err := os.Rename(filepath.Join(demo, "nexus", "flows", "star-wars.yaml"), filepath.Join(demo, "hanbit", "flows", "star-wars.yaml")); err != nil {
				t.Fatal(err)
			}
			changes, out := plan(t, st, load(t, demo))
			if strings.Contains(out, "CONFLICT") {
				t.Fatalf("a hand-over is reported as a conflict:\n%s", out)
			}
			res, err := apply(t, st, changes)
			if err != nil {
				t.Fatal(err)
			}
			if res != "nexus: pushed, version 2\nhanbit: pushed, version 2\n" {
				t.Errorf("hand-over pushed in this order:\n%s", res)
			}
			_, codes, _, err := st.GetTenant(context.Background(), "hanbit")
			if err != nil || !slices.Equal(codes, []string{"HANBIT01", "star-wars"}) {
				t.Errorf("hanbit's codes %v, %v", codes, err)
			}
		})
	}
}

// TestSwapRefused: two tenants exchanging codes cannot be pushed one at a
// time; nothing is written.
func TestSwapRefused(t *testing.T) {
	st := backends[0].new(t)
	demo := tenanttest.DemoCopy(t)
	push(t, st, demo)
	n, h := filepath.Join(demo, "nexus", "flows"), filepath.Join(demo, "hanbit", "flows")
	for _, mv := range [][2]string{{filepath.Join(n, "star-wars.yaml"), filepath.Join(h, "star-wars.yaml")},
		{filepath.Join(h, "HANBIT01.yaml"), filepath.Join(n, "HANBIT01.yaml")}} {
		if err := os.Rename(mv[0], mv[1]); err != nil {
			t.Fatal(err)
		}
	}
	// hanbit is left with one flow; nexus's queue "general" exists in both.
	changes, _ := plan(t, st, load(t, demo))
	if _, err := apply(t, st, changes); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "swap") {
		t.Errorf("swap = %v, want a conflict that names the swap", err)
	}
	wantVersions(t, st, map[string]int64{"hanbit": 1, "nexus": 1})
}

// push plans and applies dir as it is, as routebotctl push does.
func push(t *testing.T, st Store, dir string) {
	t.Helper()
	changes, _ := plan(t, st, load(t, dir))
	if _, err := apply(t, st, changes); err != nil {
		t.Fatal(err)
	}
}

// TestPushedMeanwhileRefused: a tenant pushed by someone else between this
// push's plan and its apply (another author, another studio instance) is
// not overwritten: the apply is refused, naming it, and writes nothing of it.
func TestPushedMeanwhileRefused(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := b.new(t)
			demo := tenanttest.DemoCopy(t)
			push(t, st, demo)
			mine, theirs := demo, tenanttest.DemoCopy(t)
			tenanttest.ReplaceIn(t, filepath.Join(mine, "nexus", "tenant.yaml"), "넥서스", "넥서스 (mine)")
			tenanttest.ReplaceIn(t, filepath.Join(theirs, "nexus", "tenant.yaml"), "넥서스", "넥서스 (theirs)")
			changes, _ := plan(t, st, load(t, mine))
			push(t, st, theirs)
			_, err := apply(t, st, changes)
			if !errors.Is(err, store.ErrVersionMismatch) || !strings.Contains(err.Error(), "push tenant nexus") {
				t.Fatalf("apply after someone else's push = %v, want ErrVersionMismatch naming nexus", err)
			}
			wantVersions(t, st, map[string]int64{"hanbit": 1, "nexus": 2})
			tf, _, _, err := st.GetTenant(context.Background(), "nexus")
			if err != nil || !strings.Contains(string(tf.Files["tenant.yaml"]), "(theirs)") {
				t.Errorf("nexus's tenant.yaml after the refused push:\n%s (%v)", tf.Files["tenant.yaml"], err)
			}
		})
	}
}

func TestPullRefusesLocalChanges(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := b.new(t)
			demo := tenanttest.DemoCopy(t)
			push(t, st, demo)
			out := t.TempDir()
			ctx := context.Background()
			if err := Pull(ctx, st, out, []string{"nexus"}, false, &bytes.Buffer{}); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(out, "hanbit")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("pulling nexus wrote hanbit too (%v)", err)
			}
			local := filepath.Join(out, "nexus", "flows", "SCENARIO01.yaml")
			tenanttest.ReplaceIn(t, local, "description: 넥서스 라우팅봇", "description: 로컬 수정")
			edited, _ := os.ReadFile(local)
			extra := filepath.Join(out, "nexus", "flows", "DRAFT.yaml")
			if err := os.WriteFile(extra, []byte("code: DRAFT\n"), 0o644); err != nil {
				t.Fatal(err)
			}

			var w bytes.Buffer
			err := Pull(ctx, st, out, []string{"nexus"}, false, &w)
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), local) {
				t.Fatalf("pull over a local edit = %v, want ErrRefused naming %s", err, local)
			}
			if now, _ := os.ReadFile(local); !bytes.Equal(now, edited) {
				t.Error("a refused pull overwrote the local edit")
			}

			w.Reset()
			if err := Pull(ctx, st, out, []string{"nexus"}, true, &w); err != nil {
				t.Fatal(err)
			}
			stored, _, _, _ := st.GetTenant(ctx, "nexus")
			if now, _ := os.ReadFile(local); !bytes.Equal(now, stored.Files["flows/SCENARIO01.yaml"]) {
				t.Error("--force did not restore the stored file")
			}
			if !strings.Contains(w.String(), "1 written, 1 of them overwritten, 4 unchanged") ||
				!strings.Contains(w.String(), extra+" is not in the store: left in place") {
				t.Errorf("forced pull output:\n%s", w.String())
			}
			if _, err := os.Stat(extra); err != nil {
				t.Errorf("pull removed a local file: %v", err)
			}

			if err := Pull(ctx, st, out, []string{"nope"}, false, &w); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("pull of an unknown tenant = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestPullEmptyStore(t *testing.T) {
	err := Pull(context.Background(), backends[0].new(t), t.TempDir(), nil, false, &bytes.Buffer{})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Pull from an empty store = %v, want ErrNotFound", err)
	}
}

func TestManyCustomersAreCounted(t *testing.T) {
	// A directory replaced wholesale is not printed line by line.
	c := &Change{Tenant: "acme", Dir: "tenants/acme", Stored: true, Version: 3}
	for i := range 25 {
		c.Customers = append(c.Customers, CustomerChange{Phone: fmt.Sprintf("010%08d", i), New: "고객"})
	}
	c.Customers = append(c.Customers, CustomerChange{Phone: "01099998888", Old: "이서연", New: "이서윤"})
	var b strings.Builder
	c.Write(&b)
	out := b.String()
	if got := strings.Count(out, "  customer "); got != maxCustomerLines {
		t.Errorf("%d customer lines, want %d:\n%s", got, maxCustomerLines, out)
	}
	for _, want := range []string{"  customer + 010****0000\n", "  … and 6 more\n", "  customers: 25 added, 1 renamed, 0 removed\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "고객") || strings.Contains(out, "이서") {
		t.Errorf("output shows a name:\n%s", out)
	}
}
