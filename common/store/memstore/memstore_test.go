package memstore

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/routebot/routebot/common/session"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/store/storetest"
)

// TestConformance runs the store conformance suite, also with CallId
// hashes that collide (all of them, or by length), which real 64-bit hashes
// practically never do.
func TestConformance(t *testing.T) {
	tests := []struct {
		name string
		new  func(now func() time.Time) *Store
	}{
		{"random hash", New},
		{"every CallId collides", func(now func() time.Time) *Store { return newStore(now, func(string) uint64 { return 42 }) }},
		{"CallIds of one length collide", func(now func() time.Time) *Store {
			return newStore(now, func(id string) uint64 { return uint64(len(id)) })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(*testing.T) storetest.Store { return tt.new(nil) })
			t.Run("clock", func(t *testing.T) { testClock(t, tt.new) })
		})
	}
}

// testClock checks expiry against the injected clock, and Sweep.
func testClock(t *testing.T, open func(now func() time.Time) *Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := t0
	s := open(func() time.Time { return clock })
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

// BenchmarkTransact is a turn of a two-turn call, as the load script's
// calls are: a new call, then a turn of it, each with its log record, on a
// store that keeps every call (no Sweep while it runs).
func BenchmarkTransact(b *testing.B) {
	s := New(nil)
	ctx := context.Background()
	answer := []byte(`{"CallId":"DS-bench","ChatBotKey":"bot00001","Result":"Y","ServiceCode":"S0000","TransCode":"200","ScenarioCode":"greeting","Description":"안녕하세요 김민수님, 넥서스 고객센터입니다. 무엇을 도와드릴까요?","Timeout":7}`)
	rec := session.Record{Turn: 1, ScenarioCode: "greeting", ChatMsg: "택배 배송 조회 좀 해주세요", From: "greeting", To: "delivery",
		ServiceCode: "S0000", TransCode: "200", Category: "배송/조회/배송조회", Backend: "embedded"}
	var id []byte
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		id = fmt.Appendf(id[:0], "DS-%d", i/2)
		i++
		err := s.Transact(ctx, string(id), func(cur session.Session, found bool) (store.Commit, error) {
			if !found {
				cur = session.Session{Tenant: "nexus", Scenario: "SCENARIO01", Vars: session.Vars{{Name: "name", Value: "김민수"}}}
			}
			cur.Turn++
			cur.Step, cur.LastKey, cur.LastAnswer = "greeting", "0123456789abcdef0123456789abcdef", answer
			return store.Commit{Write: true, Session: cur, Record: &rec}, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// TestSessionCodecKeepsVarsOrder: the embedded store gives the variables
// back in the order they were set (the conformance suite compares them by
// name, as Firestore keeps a map).
func TestSessionCodecKeepsVarsOrder(t *testing.T) {
	for _, vars := range []session.Vars{
		{{Name: "name", Value: "김민수"}},
		{{Name: "name", Value: "김민수"}, {Name: "category1", Value: "배송"}, {Name: "answer", Value: ""}, {Name: "birth", Value: "0312"}},
	} {
		s := session.Session{CallID: "C1", Tenant: "nexus", Vars: vars}
		got, err := decodeSession("C1", encodeSession(nil, s))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Vars, vars) {
			t.Errorf("decoded Vars %v, want %v in that order", got.Vars, vars)
		}
	}
}

// FuzzSessionCodec checks that a session survives encodeSession and
// decodeSession unchanged, whatever its strings hold.
func FuzzSessionCodec(f *testing.F) {
	f.Add("nexus", "SCENARIO01", "greeting", "k1", "name", "김민수", []byte(`{"CallId":"X"}`), 3, -1, int64(1e18), int64(2e18), true)
	f.Add("", "", "", "", "", "", []byte(nil), 0, 0, int64(0), int64(0), false)
	f.Fuzz(func(t *testing.T, tenant, scenario, step, key, k, v string, answer []byte, turn, silence int, updated, expires int64, vars bool) {
		s := session.Session{CallID: "C1", Tenant: tenant, Scenario: scenario, Step: step, LastKey: key, LastAnswer: answer,
			Turn: turn, Silence: silence, Invalid: turn ^ silence}
		if vars {
			s.Vars = session.Vars{{Name: k, Value: v}}
		}
		if updated != 0 {
			s.Updated = time.Unix(0, updated)
		}
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

// BenchmarkGCWithCalls is a full garbage collection of a process holding
// 100,000 two-turn calls: what a busy local run's live calls cost the
// collector, which the shards' layout keeps to one object a call.
func BenchmarkGCWithCalls(b *testing.B) {
	s := New(nil)
	ctx := context.Background()
	answer := make([]byte, 300)
	rec := session.Record{Turn: 1, ScenarioCode: "greeting", ChatMsg: "택배 배송 조회 좀 해주세요", From: "greeting", To: "delivery"}
	for i := range 100_000 {
		for range 2 {
			err := s.Transact(ctx, fmt.Sprintf("GC-%d", i), func(cur session.Session, _ bool) (store.Commit, error) {
				cur.Tenant, cur.Step, cur.LastAnswer, cur.Vars = "nexus", "greeting", answer, session.Vars{{Name: "name", Value: "김민수"}, {Name: "category1", Value: "배송"}}
				cur.Expires = time.Now().Add(time.Hour)
				return store.Commit{Write: true, Session: cur, Record: &rec}, nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	for b.Loop() {
		runtime.GC()
	}
	runtime.KeepAlive(s)
}

// TestLogWhileTurnsCommit reads a call's log while its turns commit: every
// read is a whole log of the turns committed so far (go test -race checks
// that Log, which reads outside the lock, never sees a buffer change).
func TestLogWhileTurnsCommit(t *testing.T) {
	for name, s := range map[string]*Store{
		"random hash":           New(nil),
		"every CallId collides": newStore(nil, func(string) uint64 { return 7 }),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			const turns = 200
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := range turns {
					for _, id := range []string{"LW-1", "LW-2"} { // two calls in one shard when they collide
						err := s.Transact(ctx, id, func(cur session.Session, _ bool) (store.Commit, error) {
							cur.Turn++
							return store.Commit{Write: true, Session: cur, Record: &session.Record{Turn: i + 1, ChatMsg: id}}, nil
						})
						if err != nil {
							t.Error(err)
							return
						}
					}
				}
			}()
			for last := 0; ; {
				recs, err := s.Log(ctx, "LW-1")
				if err != nil {
					t.Fatal(err)
				}
				if len(recs) < last {
					t.Fatalf("log shrank from %d to %d entries", last, len(recs))
				}
				for i, r := range recs {
					if r.Seq != i+1 || r.Turn != i+1 || r.ChatMsg != "LW-1" {
						t.Fatalf("entry %d is %+v", i, r)
					}
				}
				last = len(recs)
				select {
				case <-done:
					if recs, _ := s.Log(ctx, "LW-1"); len(recs) != turns {
						t.Fatalf("%d entries at the end, want %d", len(recs), turns)
					}
					return
				default:
				}
			}
		})
	}
}
