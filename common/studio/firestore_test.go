package studio_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/routebot/routebot/common/store/fsstore"
	"github.com/routebot/routebot/common/studio"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/examples"
	"github.com/routebot/routebot/internal/emulator"
)

var emulatorClient *firestore.Client

// TestMain runs the Firestore emulator for the publish tests on Firestore.
// Without it the tests fail: they never skip.
func TestMain(m *testing.M) {
	host, stop, err := emulator.StartFirestore()
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: the studio's Firestore tests need the Firestore emulator:", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	client, closeClient, err := fsstore.NewClient(ctx, "routebot-studio-test", host)
	cancel()
	if err != nil {
		stop()
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	emulatorClient = client
	code := m.Run()
	closeClient()
	stop()
	os.Exit(code)
}

// TestPublishFirestore publishes, refuses a stale publish and rolls back on
// the production store, with the history in Firestore.
func TestPublishFirestore(t *testing.T) {
	prefix := fmt.Sprintf("studio-%d-", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := fsstore.New(ctx, emulatorClient, fsstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tfs, err := tenant.ReadFS(examples.Tenants, "tenants")
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := tenant.ParseAll(tfs)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range parsed {
		if _, _, err := st.PutTenant(ctx, tfs[i], tt.ScenarioCodes(), tt.Customers); err != nil {
			t.Fatal(err)
		}
	}
	testPublish(t, st, studio.NewFirestoreHistory(emulatorClient, prefix))
}
