package tenantsync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/routebot/routebot/common/store/fsstore"
	"github.com/routebot/routebot/common/store/memstore"
	"github.com/routebot/routebot/internal/emulator"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var (
	client   *firestore.Client // on the emulator, for every Firestore-backed test
	prefixes atomic.Int64
	runID    = randomHex(4)
)

// TestMain runs one Firestore emulator for the package (or uses
// FIRESTORE_EMULATOR_HOST). Without it the tests fail: they never skip.
func TestMain(m *testing.M) {
	flag.Parse()
	host, stop := emulator.ForTestMain("tenantsync")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	var err error
	client, _, err = fsstore.NewClient(ctx, "routebot-tenantsync-"+runID, host)
	cancel()
	if err != nil {
		stop()
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	code := m.Run()
	client.Close()
	stop()
	os.Exit(code)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// backends are the stores every push/pull test runs against.
var backends = []struct {
	name string
	new  func(t *testing.T) Store
}{
	{"memstore", func(t *testing.T) Store { return memstore.New(nil) }},
	{"firestore", func(t *testing.T) Store {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := fsstore.New(ctx, client, fsstore.Options{
			Prefix: fmt.Sprintf("%s-%d-", runID, prefixes.Add(1)),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
}

// golden compares got with testdata/name (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}
