package main

import (
	"context"
	"sync"
	"testing"

	"github.com/routebot/routebot/common/store/fsstore"
	"github.com/routebot/routebot/internal/emulator"
	"github.com/routebot/routebot/internal/fsstoretest"
	"github.com/routebot/routebot/internal/tenanttest"
)

// firstTurnProject is the emulator project the first-turn tests push the
// demo tenants to (the binary's collections have no prefix).
const firstTurnProject = "routebot-first-turn"

// firestoreEmulator starts with the first test that needs it (TestMain stops
// it) and gets the demo tenants once; without it those tests fail, never
// skip.
var firestoreEmulator = struct {
	once   sync.Once
	host   string
	stop   func()
	pushed bool
}{stop: func() {}}

// demoOnEmulator returns the environment that runs cmd/local on the
// emulator's project holding the demo tenants.
func demoOnEmulator(t testing.TB) []string {
	t.Helper()
	e := &firestoreEmulator
	e.once.Do(func() {
		host, stop, err := emulator.StartFirestore()
		if err != nil {
			t.Fatalf("the first turn on Firestore needs the Firestore emulator: %v", err)
		}
		e.host, e.stop = host, stop
		tenanttest.PutDemo(context.Background(), t, emulatorStore(t))
		e.pushed = true
	})
	if !e.pushed {
		t.Fatal("the Firestore emulator or the push of the demo tenants failed in an earlier test")
	}
	return []string{"ROUTEBOT_STORE=firestore", emulator.HostEnv + "=" + e.host, "GOOGLE_CLOUD_PROJECT=" + firstTurnProject}
}

// emulatorStore is a store on the first-turn project, closed after t.
func emulatorStore(t testing.TB) *fsstore.Store {
	return fsstoretest.Open(t, firestoreEmulator.host, firstTurnProject, "")
}

// TestLocalBinaryFirstTurnFirestore runs cmd/local on the emulator
// (ROUTEBOT_STORE=firestore) and checks that its first greeting is answered
// and was logged there, in the call's turn log.
func TestLocalBinaryFirstTurnFirestore(t *testing.T) {
	env := demoOnEmulator(t)
	ft, err := startAndAnswer(buildLocal(t), env...)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := emulatorStore(t).Log(context.Background(), ft.callID)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].To != "greeting" || recs[0].ServiceCode != "S0000" {
		t.Errorf("call %s's turn log on the emulator: %+v, want the greeting alone", ft.callID, recs)
	}
}

// BenchmarkLocalBinaryFirstTurnFirestore is BenchmarkLocalBinaryFirstTurn on
// the emulator (started by the test, the demo tenants pushed beforehand):
// each iteration a new process, and a new call, on the same emulator.
func BenchmarkLocalBinaryFirstTurnFirestore(b *testing.B) {
	benchFirstTurn(b, buildLocal(b), demoOnEmulator(b)...)
}
