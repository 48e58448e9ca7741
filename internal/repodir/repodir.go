// Package repodir finds, for tests, the repository's root (the folder
// holding go.mod) and the shared specification folder beside it.
//
// The shared folder is ../shared next to the repository, or wherever
// ROUTEBOT_SHARED points (docs/testing.md).
package repodir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// SharedEnv names the variable that overrides where the shared folder is.
const SharedEnv = "ROUTEBOT_SHARED"

// ModuleRoot walks up from the working directory to the folder holding go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("repodir: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repodir: no go.mod above the working directory")
		}
		dir = parent
	}
}

// SharedDir is $ROUTEBOT_SHARED, or ../shared beside the module root.
func SharedDir() (string, error) {
	dir := os.Getenv(SharedEnv)
	if dir == "" {
		root, err := ModuleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(filepath.Dir(root), "shared")
	}
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("repodir: the shared folder %s: %w (tests expect it beside the repository, or %s naming it)", dir, err, SharedEnv)
	}
	return dir, nil
}

// Root is ModuleRoot, failing t when there is none.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// Shared is SharedDir joined with elem, failing t when it does not exist.
func Shared(t testing.TB, elem ...string) string {
	t.Helper()
	dir, err := SharedDir()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(append([]string{dir}, elem...)...)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%v (is %s the shared folder?)", err, dir)
	}
	return path
}
