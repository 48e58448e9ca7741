package tenantsync

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/routebot/routebot/internal/tenanttest"
)

func TestLoadValid(t *testing.T) {
	demo := tenanttest.DemoCopy(t)
	tests := []struct {
		name     string
		dirs     []string
		wantIDs  []string
		wantDirs []string
	}{
		{"folder of tenants", []string{demo}, []string{"hanbit", "nexus"},
			[]string{filepath.Join(demo, "hanbit"), filepath.Join(demo, "nexus")}},
		{"one tenant folder", []string{filepath.Join(demo, "nexus")}, []string{"nexus"},
			[]string{filepath.Join(demo, "nexus")}},
		{"one tenant folder with a trailing slash", []string{filepath.Join(demo, "nexus") + "/"}, []string{"nexus"},
			[]string{filepath.Join(demo, "nexus")}},
		{"two tenant folders", []string{filepath.Join(demo, "nexus"), filepath.Join(demo, "hanbit")},
			[]string{"nexus", "hanbit"}, []string{filepath.Join(demo, "nexus"), filepath.Join(demo, "hanbit")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			locals, problems, err := Load(tt.dirs...)
			if err != nil || len(problems) > 0 {
				t.Fatalf("Load: %v %v", err, problems)
			}
			var ids, dirs []string
			for _, l := range locals {
				ids, dirs = append(ids, l.Files.ID), append(dirs, l.Dir)
				if l.Tenant == nil || l.Tenant.ID != l.Files.ID {
					t.Errorf("%s: not compiled", l.Files.ID)
				}
			}
			if !slices.Equal(ids, tt.wantIDs) || !slices.Equal(dirs, tt.wantDirs) {
				t.Errorf("ids %v dirs %v, want %v %v", ids, dirs, tt.wantIDs, tt.wantDirs)
			}
		})
	}
}

// TestLoadProblems breaks a copy of the demo and expects file:line problems
// under the folder as the user named it.
func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name   string
		file   string // under the nexus folder
		old    string
		new    string
		single bool   // name the tenant folder rather than its parent
		rename string // then move file there
		want   []string
	}{
		{
			name: "unknown step", file: "flows/SCENARIO01.yaml",
			old: "next: refund_agent", new: "next: refund_agnet",
			want: []string{`nexus/flows/SCENARIO01.yaml:71: refund_notice: next: unknown step "refund_agnet"; did you mean "refund_agent"?`},
		},
		{
			name: "category not in taxonomy", file: "flows/SCENARIO01.yaml",
			old: "when: [배송조회, 배송지연]", new: "when: [배송조회, 배송지연됨]",
			want: []string{`nexus/flows/SCENARIO01.yaml:16: main: routes[0].when: category "배송지연됨" is not in the taxonomy; did you mean "배송지연"?`},
		},
		{
			name: "typo key", file: "flows/SCENARIO01.yaml",
			old: "    prompt: 무엇을 도와드릴까요?", new: "    promt: 무엇을 도와드릴까요?",
			want: []string{`nexus/flows/SCENARIO01.yaml:61: anything_else: unknown key "promt"; did you mean "prompt"?`},
		},
		{
			name: "flow named .yml", file: "flows/star-wars.yaml", old: "code: star-wars", new: "code: star-wars", rename: "flows/star-wars.yml",
			want: []string{"nexus/flows/star-wars.yml: not read: tenant files end in .yaml; rename it star-wars.yaml"},
		},
		{
			name: "typo key, tenant folder named", file: "tenant.yaml", single: true,
			old: "name: 넥서스", new: "nmae: 넥서스",
			want: []string{`tenant.yaml:4: unknown key "nmae"; did you mean "name"?`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			demo := tenanttest.DemoCopy(t)
			tenanttest.ReplaceIn(t, filepath.Join(demo, "nexus", tt.file), tt.old, tt.new)
			if tt.rename != "" {
				if err := os.Rename(filepath.Join(demo, "nexus", tt.file), filepath.Join(demo, "nexus", tt.rename)); err != nil {
					t.Fatal(err)
				}
			}
			dir := demo
			if tt.single {
				dir = filepath.Join(demo, "nexus")
			}
			locals, problems, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			for _, w := range tt.want {
				if !slices.Contains(got, filepath.Join(dir, w)) {
					t.Errorf("problems lack %q:\n  %s", filepath.Join(dir, w), strings.Join(got, "\n  "))
				}
			}
			for _, p := range problems {
				if _, err := os.Stat(p.File); err != nil {
					t.Errorf("problem names a file that does not exist: %s (%v)", p.File, err)
				}
			}
			for _, l := range locals {
				if l.Tenant != nil {
					t.Errorf("%s compiled although there are problems", l.Files.ID)
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	demo := tenanttest.DemoCopy(t)
	empty := t.TempDir()
	file := filepath.Join(demo, "nexus", "tenant.yaml")
	other := t.TempDir()
	if err := os.CopyFS(filepath.Join(other, "nexus"), os.DirFS(filepath.Join(demo, "nexus"))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dirs []string
		want string
	}{
		{"no folder", nil, "no tenant folder given"},
		{"missing", []string{filepath.Join(demo, "nope")}, "no such file"},
		{"a file", []string{file}, "is not a folder"},
		{"no tenants", []string{empty}, "no tenant.yaml in it nor in the folders directly under it"},
		{"same tenant twice", []string{demo, other}, `tenant "nexus" is in both`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Load(tt.dirs...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load(%v) = %v, want an error with %q", tt.dirs, err, tt.want)
			}
		})
	}
}
