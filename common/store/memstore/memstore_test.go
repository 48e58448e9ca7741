package memstore

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/routebot/routebot/common/session"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Store { return New(nil) })
}

// TestClock checks expiry against the injected clock, and Sweep.
func TestClock(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := t0
	s := New(func() time.Time { return clock })
	for _, id := range []string{"a", "b"} {
		err := s.Transact(ctx, id, func(session.Session, bool) (store.Commit, error) {
			return store.Commit{Write: true, Session: session.Session{Turn: 1, Expires: t0.Add(time.Minute)}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	found := func(id string) bool {
		var ok bool
		if err := s.Transact(ctx, id, func(_ session.Session, f bool) (store.Commit, error) { ok = f; return store.Commit{}, nil }); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	steps := []struct {
		name      string
		at        time.Time
		wantSwept int
		want      bool
	}{
		{"before expiry", t0.Add(time.Minute - time.Nanosecond), 0, true},
		{"at expiry", t0.Add(time.Minute), 2, false}, // a read hides "a" but keeps its log: Sweep drops both calls
	}
	for _, st := range steps {
		clock = st.at
		if got := found("a"); got != st.want {
			t.Errorf("%s: found = %v, want %v", st.name, got, st.want)
		}
		if n := s.Sweep(); n != st.wantSwept {
			t.Errorf("%s: Sweep = %d, want %d", st.name, n, st.wantSwept)
		}
	}
}

func BenchmarkTransact(b *testing.B) {
	s := New(nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		err := s.Transact(ctx, "DS-bench", func(cur session.Session, _ bool) (store.Commit, error) {
			cur.Turn++
			return store.Commit{Write: true, Session: cur}, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzSessionCodec checks that a session survives encodeSession and
// decodeSession unchanged, whatever its strings hold.
func FuzzSessionCodec(f *testing.F) {
	f.Add("nexus", "SCENARIO01", "greeting", "k1", "name", "김민수", []byte(`{"CallId":"X"}`), 3, -1, int64(1e18))
	f.Add("", "", "", "", "", "", []byte(nil), 0, 0, int64(0))
	f.Fuzz(func(t *testing.T, tenant, scenario, step, key, k, v string, answer []byte, turn, silence int, expires int64) {
		s := session.Session{CallID: "C1", Tenant: tenant, Scenario: scenario, Step: step, LastKey: key, LastAnswer: answer,
			Turn: turn, Silence: silence, Invalid: turn ^ silence, Vars: map[string]string{k: v}}
		if expires != 0 {
			s.Expires = time.Unix(0, expires)
		}
		if len(s.LastAnswer) == 0 {
			s.LastAnswer = nil
		}
		got, err := decodeSession("C1", encodeSession(nil, s))
		if err != nil {
			t.Fatalf("decodeSession: %v", err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Fatalf("decoded %#v, want %#v", got, s)
		}
	})
}
