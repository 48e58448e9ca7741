package studio_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestAssetsMatchSources checks that the committed build in assets/ was made
// from the sources in web/studio as they are (the build records their hash
// in assets/source.sha256, computed as web/studio/source-hash.js does):
// after changing the page, run npm run build there and commit both.
func TestAssetsMatchSources(t *testing.T) {
	const web = "../../web/studio"
	files := []string{"index.html", "package.json", "package-lock.json", "source-hash.js", "vite.config.js"}
	err := filepath.WalkDir(filepath.Join(web, "src"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(web, p)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(web, f))
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(f + "\x00"))
		h.Write(data)
		h.Write([]byte{0})
	}
	want := hex.EncodeToString(h.Sum(nil))
	got, err := os.ReadFile("assets/source.sha256")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(got)) != want {
		t.Errorf("assets/ was built from other sources (%s) than web/studio's (%s): run `npm ci && npm run build` in web/studio and commit functions/studio/assets",
			strings.TrimSpace(string(got)), want)
	}
}
