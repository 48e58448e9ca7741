package tenant

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadFS(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	fsys := fstest.MapFS{
		"t/zeta/tenant.yaml":           file("z"),
		"t/zeta/flows/Z1.yaml":         file("z1"),
		"t/acme/tenant.yaml":           file("tenant"),
		"t/acme/taxonomy.yaml":         file("taxonomy"),
		"t/acme/customers.yaml":        file("customers"),
		"t/acme/flows/F1.yaml":         file("f1"),
		"t/acme/flows/README.md":       file("notes"),
		"t/acme/flows/F2.yml":          file("misnamed: read, for Parse to report"),
		"t/acme/flows/drafts/F3.yaml":  file("a draft"),
		"t/acme/notes.txt":             file("notes"),
		"t/not-a-tenant/taxonomy.yaml": file("no tenant.yaml beside it"),
		"t/loose.yaml":                 file("a file, not a folder"),
	}
	tfs, err := ReadFS(fsys, "t")
	if err != nil {
		t.Fatal(err)
	}
	if len(tfs) != 2 || tfs[0].ID != "acme" || tfs[1].ID != "zeta" {
		t.Fatalf("tenants = %+v, want acme and zeta, sorted", tfs)
	}
	want := map[string][]byte{"tenant.yaml": []byte("tenant"), "taxonomy.yaml": []byte("taxonomy"),
		"customers.yaml": []byte("customers"), "flows/F1.yaml": []byte("f1"), "flows/F2.yml": []byte("misnamed: read, for Parse to report")}
	if !maps.EqualFunc(tfs[0].Files, want, func(a, b []byte) bool { return string(a) == string(b) }) || tfs[0].Version != 1 {
		t.Errorf("acme = version %d files %q, want %q", tfs[0].Version, slices.Sorted(maps.Keys(tfs[0].Files)), slices.Sorted(maps.Keys(want)))
	}

	for _, tt := range []struct {
		name string
		fsys fstest.MapFS
		root string
		want string
	}{
		{"no tenant folders", fstest.MapFS{"t/x/readme.md": file(""), "t/x/tenant.yaml/oops": file("")}, "t", "no tenant folders"},
		{"missing root", fstest.MapFS{}, "nowhere", "read nowhere"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ReadFS(tt.fsys, tt.root); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadFS = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestIsTenantFile(t *testing.T) {
	tests := []struct {
		rel  string
		want bool
	}{
		{"tenant.yaml", true}, {"taxonomy.yaml", true}, {"customers.yaml", true}, {"flows/SCENARIO01.yaml", true},
		{"flows/star-wars.yaml", true}, {"flows/a/b.yaml", false}, {"flows/README.md", false}, {"README.md", false},
		{"flows/", false}, {"sub/tenant.yaml", false}, {"Tenant.yaml", false}, {"flows/x.yml", false},
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			if got := IsTenantFile(tt.rel); got != tt.want {
				t.Errorf("IsTenantFile(%q) = %v, want %v", tt.rel, got, tt.want)
			}
		})
	}
}

func TestReadFSMisnamedTenantFile(t *testing.T) {
	// A folder whose tenant.yaml is named tenant.yml is still a tenant
	// folder: Parse says what to rename rather than the folder vanishing.
	fsys := fstest.MapFS{"t/acme/tenant.yml": &fstest.MapFile{Data: []byte("id: acme")}}
	tfs, err := ReadFS(fsys, "t")
	if err != nil || len(tfs) != 1 || string(tfs[0].Files["tenant.yml"]) != "id: acme" {
		t.Fatalf("ReadFS = %+v, %v; want acme with its tenant.yml", tfs, err)
	}
	_, err = Parse(tfs[0])
	if err == nil || !strings.Contains(err.Error(), "acme/tenant.yml: not read: tenant files end in .yaml; rename it tenant.yaml") ||
		strings.Contains(err.Error(), "tenant.yaml: file is missing") {
		t.Errorf("Parse = %v, want the rename and not also the missing file", err)
	}
}

func TestMisnamed(t *testing.T) {
	tests := []struct {
		rel, want string
	}{
		{"flows/F1.yml", "flows/F1.yaml"}, {"flows/F1.YAML", "flows/F1.yaml"}, {"flows/F1.Yml", "flows/F1.yaml"},
		{"taxonomy.yml", "taxonomy.yaml"}, {"customers.yml", "customers.yaml"}, {"tenant.yml", "tenant.yaml"},
		{"flows/F1.yaml", ""}, {"flows/drafts/F1.yml", ""}, {"notes.yml", ""}, {"flows/README.md", ""}, {"flows/F1.json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			got, ok := misnamed(tt.rel)
			if ok != (tt.want != "") || got != tt.want && ok {
				t.Errorf("misnamed(%q) = %q, %v; want %q", tt.rel, got, ok, tt.want)
			}
		})
	}
}
