package studio_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/routebot/routebot/internal/tenanttest"

	"cloud.google.com/go/firestore"

	"github.com/routebot/routebot/common/store/fsstore"
	"github.com/routebot/routebot/common/studio"
	"github.com/routebot/routebot/internal/emulator"
)

// The emulator starts with the first test that needs it (not in fuzz
// workers, which run no such test), and stops after all tests.
var (
	emulatorOnce   sync.Once
	emulatorClient *firestore.Client
	emulatorErr    error
	emulatorStop   = func() {}
)

func firestoreClient(t *testing.T) *firestore.Client {
	t.Helper()
	emulatorOnce.Do(func() {
		host, stop, err := emulator.StartFirestore()
		if err != nil {
			emulatorErr = fmt.Errorf("the studio's Firestore tests need the Firestore emulator: %w", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		client, closeClient, err := fsstore.NewClient(ctx, "routebot-studio-test", host)
		if err != nil {
			stop()
			emulatorErr = err
			return
		}
		emulatorClient = client
		emulatorStop = func() { closeClient(); stop() }
	})
	if emulatorErr != nil {
		t.Fatal(emulatorErr) // never skipped
	}
	return emulatorClient
}

func TestMain(m *testing.M) {
	code := m.Run()
	emulatorStop()
	os.Exit(code)
}

// TestPublishFirestore publishes, refuses a stale publish and rolls back on
// the production store, with the history in Firestore.
func TestPublishFirestore(t *testing.T) {
	client := firestoreClient(t)
	prefix := fmt.Sprintf("studio-%d-", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := fsstore.New(ctx, client, fsstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tenanttest.PutDemo(ctx, t, st)
	testPublish(t, st, studio.NewFirestoreHistory(client, prefix))
}
