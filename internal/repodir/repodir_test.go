package repodir

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSharedDir(t *testing.T) {
	root := Root(t)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("Root %s holds no go.mod: %v", root, err)
	}
	other := t.TempDir()
	tests := []struct {
		name    string
		env     string
		want    string
		wantErr bool
	}{
		{name: "beside the repository", want: filepath.Join(filepath.Dir(root), "shared")},
		{name: "ROUTEBOT_SHARED", env: other, want: other},
		{name: "ROUTEBOT_SHARED missing", env: filepath.Join(other, "nope"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(SharedEnv, tt.env)
			got, err := SharedDir()
			if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
				t.Errorf("SharedDir = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
