// Package storetest is the conformance suite every store implementation
// passes (the embedded memstore and Firestore): call sessions in one
// transaction per turn, the turn log, tenants resolved by scenario code, the
// customer directory and the admin seam that loads tenants. Run it from the
// implementation's tests with a constructor returning an empty, isolated
// store.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routebot/routebot/common/session"
	"github.com/routebot/routebot/common/store"
)

// Store is what the suite exercises: the three store interfaces, the turn log
// and the admin seam the CLI uses to push and pull tenants.
type Store interface {
	store.Sessions
	store.Tenants
	store.Directory

	// Log returns the call's turn log, oldest first (empty for an unknown call).
	Log(ctx context.Context, callID string) ([]session.Record, error)
	// PutTenant replaces a tenant's files, scenario codes and customers. The
	// store assigns the version: 1 for a new tenant, +1 on every put that
	// changes something; an identical put returns changed=false.
	PutTenant(ctx context.Context, t store.TenantFiles, scenarioCodes []string, customers map[string]string) (version int64, changed bool, err error)
	PutTenantIf(ctx context.Context, t store.TenantFiles, scenarioCodes []string, customers map[string]string, expect int64) (version int64, changed bool, err error)
	// GetTenant returns what PutTenant stored, byte for byte; codes sorted.
	GetTenant(ctx context.Context, id string) (t store.TenantFiles, scenarioCodes []string, customers map[string]string, err error)
	// ListTenants returns the tenant ids, sorted.
	ListTenants(ctx context.Context) ([]string, error)
	// DeleteTenant removes a tenant and frees its scenario codes.
	DeleteTenant(ctx context.Context, id string) error
}

// Concurrency is how many turns of one call race in the concurrency cases
// (the gateway's retries racing the original).
const Concurrency = 8

// Run runs the conformance suite. newStore returns an empty store that no
// other test sees; it is called once per case and cases run in parallel.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("Sessions", func(t *testing.T) { t.Parallel(); runSessions(t, newStore) })
	t.Run("Tenants", func(t *testing.T) { t.Parallel(); runTenants(t, newStore) })
	t.Run("Directory", func(t *testing.T) { t.Parallel(); runDirectory(t, newStore) })
	t.Run("Cancelled", func(t *testing.T) { t.Parallel(); runCancelled(t, newStore) })
}

// now is a time every store keeps exactly: Firestore keeps microseconds, UTC.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

var errFn = errors.New("storetest: fn refused the turn")

func sampleSession(turn int) session.Session {
	t := now()
	return session.Session{
		Tenant: "acme", Scenario: "SCENARIO01", Step: "ask-birth", Turn: turn,
		Silence: 1, Invalid: 2,
		Vars:       session.Vars{{Name: "name", Value: "홍길동"}, {Name: "category1", Value: "기타"}},
		LastKey:    fmt.Sprintf("key-%d", turn),
		LastAnswer: []byte(`{"CallId":"DS1","Description":"안녕하세요"}`),
		Updated:    t, Expires: t.Add(time.Hour),
	}
}

func sampleRecord(turn int) session.Record {
	return session.Record{
		Turn: turn, At: now(), ScenarioCode: "SCENARIO01", ChatMsg: "상담원 연결", Answer: "예",
		DTMF: "******", From: "start", To: "ask-birth", ServiceCode: "S1000", TransCode: "200",
		Category: "기타/기타/담당자확인전달요청", Backend: "llm", Degraded: true,
	}
}

// write stores s (with rec) as the call's state.
func write(t *testing.T, st Store, callID string, s session.Session, rec *session.Record) {
	t.Helper()
	err := st.Transact(context.Background(), callID, func(session.Session, bool) (store.Commit, error) {
		return store.Commit{Write: true, Session: s, Record: rec}, nil
	})
	if err != nil {
		t.Fatalf("Transact(%s) write: %v", callID, err)
	}
}

// read returns the call's state without changing it.
func read(t *testing.T, st Store, callID string) (session.Session, bool) {
	t.Helper()
	var got session.Session
	var found bool
	err := st.Transact(context.Background(), callID, func(cur session.Session, ok bool) (store.Commit, error) {
		got, found = cur, ok
		return store.Commit{}, nil
	})
	if err != nil {
		t.Fatalf("Transact(%s) read: %v", callID, err)
	}
	return got, found
}

func logOf(t *testing.T, st Store, callID string) []session.Record {
	t.Helper()
	recs, err := st.Log(context.Background(), callID)
	if err != nil {
		t.Fatalf("Log(%s): %v", callID, err)
	}
	return recs
}

// normal makes sessions comparable across stores: times in UTC, Vars by
// name (Firestore keeps them as a map), empty slices as nil.
func normal(s session.Session) session.Session {
	s.Updated, s.Expires = s.Updated.UTC(), s.Expires.UTC()
	s.Vars = s.Vars.Sorted()
	if len(s.Vars) == 0 {
		s.Vars = nil
	}
	if len(s.LastAnswer) == 0 {
		s.LastAnswer = nil
	}
	return s
}

func normalRecords(rs []session.Record) []session.Record {
	out := make([]session.Record, len(rs))
	for i, r := range rs {
		r.At = r.At.UTC()
		out[i] = r
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func wantSession(t *testing.T, got, want session.Session) {
	t.Helper()
	if g, w := normal(got), normal(want); !reflect.DeepEqual(g, w) {
		t.Errorf("session:\n got %+v\nwant %+v", g, w)
	}
}

// numbered is the log a store should return for recs appended in order.
func numbered(recs ...session.Record) []session.Record {
	out := slices.Clone(recs)
	for i := range out {
		out[i].Seq = i + 1
	}
	return out
}

func wantLog(t *testing.T, got, want []session.Record) {
	t.Helper()
	if g, w := normalRecords(got), normalRecords(want); !reflect.DeepEqual(g, w) {
		t.Errorf("turn log:\n got %+v\nwant %+v", g, w)
	}
}

func runSessions(t *testing.T, newStore func(t *testing.T) Store) {
	cases := []struct {
		name string
		test func(t *testing.T, st Store)
	}{
		{"missing session is not found", func(t *testing.T, st Store) {
			got, found := read(t, st, "DS-missing")
			if found {
				t.Fatalf("found = true for a call never written: %+v", got)
			}
			wantSession(t, got, session.Session{})
			if _, found := read(t, st, "DS-missing"); found {
				t.Error("a read (Write=false) created the session")
			}
			wantLog(t, logOf(t, st, "DS-missing"), nil)
		}},
		{"write then read", func(t *testing.T, st Store) {
			s := sampleSession(1)
			s.CallID = "ignored: the store keys by callID"
			write(t, st, "DS-rw", s, nil)
			got, found := read(t, st, "DS-rw")
			if !found {
				t.Fatal("found = false after a write")
			}
			s.CallID = "DS-rw"
			wantSession(t, got, s)
		}},
		{"any CallId is a key", func(t *testing.T, st Store) {
			for _, id := range []string{"DS/0001", ".", "..", "__call__", "통화-1"} {
				s := sampleSession(1)
				s.Step = id
				r := sampleRecord(1)
				write(t, st, id, s, &r)
				got, found := read(t, st, id)
				s.CallID = id
				if !found {
					t.Errorf("CallId %q: not found after a write", id)
					continue
				}
				wantSession(t, got, s)
				wantLog(t, logOf(t, st, id), numbered(r))
			}
		}},
		{"empty session round-trips", func(t *testing.T, st Store) {
			write(t, st, "DS-empty", session.Session{}, nil)
			got, found := read(t, st, "DS-empty")
			if !found {
				t.Fatal("found = false after writing an empty session")
			}
			wantSession(t, got, session.Session{CallID: "DS-empty"})
		}},
		{"Write=false leaves state", func(t *testing.T, st Store) {
			s := sampleSession(1)
			rec := sampleRecord(1)
			write(t, st, "DS-nowrite", s, &rec)
			other := sampleSession(99)
			other2 := sampleRecord(99)
			err := st.Transact(context.Background(), "DS-nowrite", func(session.Session, bool) (store.Commit, error) {
				return store.Commit{Write: false, Session: other, Record: &other2}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := read(t, st, "DS-nowrite")
			s.CallID = "DS-nowrite"
			wantSession(t, got, s)
			wantLog(t, logOf(t, st, "DS-nowrite"), numbered(rec))
		}},
		{"fn error passes through and leaves state", func(t *testing.T, st Store) {
			s := sampleSession(1)
			write(t, st, "DS-fnerr", s, nil)
			s.Vars, s.LastAnswer = slices.Clone(s.Vars), bytes.Clone(s.LastAnswer) // want what was written, not an alias
			err := st.Transact(context.Background(), "DS-fnerr", func(cur session.Session, _ bool) (store.Commit, error) {
				cur.Vars.Set("name", "changed in place") // must not leak into the store
				cur.LastAnswer[0] = 'X'
				return store.Commit{Write: true, Session: cur}, fmt.Errorf("turn: %w", errFn)
			})
			if !errors.Is(err, errFn) {
				t.Errorf("Transact error = %v, want fn's error", err)
			}
			if errors.Is(err, store.ErrUnavailable) {
				t.Errorf("fn's error %v is reported as ErrUnavailable", err)
			}
			got, _ := read(t, st, "DS-fnerr")
			s.CallID = "DS-fnerr"
			wantSession(t, got, s)
		}},
		{"caller keeps no alias to stored state", func(t *testing.T, st Store) {
			s := sampleSession(1)
			s.Vars = session.Vars{{Name: "name", Value: "a"}}
			write(t, st, "DS-alias", s, nil)
			s.Vars.Set("name", "changed after the write")
			got, _ := read(t, st, "DS-alias")
			if got.Vars.Get("name") != "a" {
				t.Errorf("${name} = %q after the caller changed its variables, want %q", got.Vars.Get("name"), "a")
			}
		}},
		{"expiry", func(t *testing.T, st Store) {
			for _, tc := range []struct {
				name    string
				expires time.Time
				want    bool
			}{
				{"past", now().Add(-time.Second), false},
				{"future", now().Add(time.Hour), true},
				{"never (zero)", time.Time{}, true},
			} {
				s := sampleSession(1)
				s.Expires = tc.expires
				id := "DS-exp-" + tc.name
				write(t, st, id, s, nil)
				got, found := read(t, st, id)
				if found != tc.want {
					t.Errorf("%s: found = %v, want %v", tc.name, found, tc.want)
				}
				if !found {
					wantSession(t, got, session.Session{})
				}
			}
		}},
		{"expired session starts over", func(t *testing.T, st Store) {
			s := sampleSession(5)
			s.Expires = now().Add(-time.Second)
			write(t, st, "DS-restart", s, nil)
			fresh := sampleSession(1)
			err := st.Transact(context.Background(), "DS-restart", func(cur session.Session, found bool) (store.Commit, error) {
				if found || cur.Turn != 0 {
					return store.Commit{}, fmt.Errorf("expired session visible: found=%v turn=%d", found, cur.Turn)
				}
				return store.Commit{Write: true, Session: fresh}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got, found := read(t, st, "DS-restart")
			fresh.CallID = "DS-restart"
			if !found {
				t.Fatal("found = false after re-creating an expired session")
			}
			wantSession(t, got, fresh)
		}},
		{"turn log appended and readable", func(t *testing.T, st Store) {
			var want []session.Record
			for turn := 1; turn <= 3; turn++ {
				r := sampleRecord(turn)
				r.ChatMsg = fmt.Sprintf("utterance %d", turn)
				write(t, st, "DS-log", sampleSession(turn), &r)
				want = append(want, r)
			}
			write(t, st, "DS-log", sampleSession(4), nil) // no record: nothing appended
			wantLog(t, logOf(t, st, "DS-log"), numbered(want...))
			wantLog(t, logOf(t, st, "DS-log-other"), nil)
		}},
		{"a new session on a used CallId continues its log", func(t *testing.T, st Store) {
			// The gateway sends the CallId to another scenario: the engine
			// starts a session there, counting turns from 1 again.
			first, second := sampleRecord(1), sampleRecord(2)
			write(t, st, "DS-reuse", sampleSession(1), &first)
			write(t, st, "DS-reuse", sampleSession(2), &second)
			fresh := sampleSession(1)
			fresh.Scenario = "HANBIT01"
			other := sampleRecord(1)
			other.ScenarioCode, other.ChatMsg = "HANBIT01", "another scenario's first turn"
			err := st.Transact(context.Background(), "DS-reuse", func(cur session.Session, found bool) (store.Commit, error) {
				if !found || cur.Scenario != "SCENARIO01" {
					return store.Commit{}, fmt.Errorf("live session not found: found=%v %+v", found, cur)
				}
				return store.Commit{Write: true, Session: fresh, Record: &other}, nil
			})
			if err != nil {
				t.Fatalf("Transact with a new session on a used CallId: %v", err)
			}
			got, _ := read(t, st, "DS-reuse")
			fresh.CallID = "DS-reuse"
			wantSession(t, got, fresh)
			wantLog(t, logOf(t, st, "DS-reuse"), numbered(first, second, other))
		}},
		{"expired session: the call and its log go on", func(t *testing.T, st Store) {
			var want []session.Record
			for turn := 1; turn <= 2; turn++ {
				s, r := sampleSession(turn), sampleRecord(turn)
				s.Expires = now().Add(-time.Second) // expired once written
				write(t, st, "DS-expired-log", s, &r)
				want = append(want, r)
			}
			for turn := 1; turn <= 2; turn++ {
				r := sampleRecord(turn)
				r.ChatMsg = fmt.Sprintf("after expiry, turn %d", turn)
				err := st.Transact(context.Background(), "DS-expired-log", func(cur session.Session, found bool) (store.Commit, error) {
					if turn == 1 && found {
						return store.Commit{}, fmt.Errorf("expired session visible: %+v", cur)
					}
					return store.Commit{Write: true, Session: sampleSession(turn), Record: &r}, nil
				})
				if err != nil {
					t.Fatalf("turn %d after expiry: %v", turn, err)
				}
				want = append(want, r)
			}
			wantLog(t, logOf(t, st, "DS-expired-log"), numbered(want...))
		}},
		{"concurrent turns: no lost update", func(t *testing.T, st Store) {
			start := time.Now()
			errs := race(func() error {
				return st.Transact(context.Background(), "DS-race", func(cur session.Session, _ bool) (store.Commit, error) {
					next := cur
					next.Turn++
					next.Vars = slices.Clone(cur.Vars)
					next.Vars.Set(fmt.Sprint("t", next.Turn), "x")
					r := session.Record{Turn: next.Turn, At: now()}
					return store.Commit{Write: true, Session: next, Record: &r}, nil
				})
			})
			for _, err := range errs {
				if err != nil {
					t.Errorf("Transact: %v", err)
				}
			}
			t.Logf("%d concurrent turns took %v", Concurrency, time.Since(start))
			got, _ := read(t, st, "DS-race")
			if got.Turn != Concurrency || len(got.Vars) != Concurrency {
				t.Errorf("Turn = %d, %d vars; want %d (a lost update)", got.Turn, len(got.Vars), Concurrency)
			}
			recs := logOf(t, st, "DS-race")
			turns, seqs := make([]int, len(recs)), make([]int, len(recs))
			for i, r := range recs {
				turns[i], seqs[i] = r.Turn, r.Seq
			}
			if want := []int{1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(turns, want) || !slices.Equal(seqs, want) {
				t.Errorf("logged turns = %v, numbered %v; want %v", turns, seqs, want)
			}
		}},
		{"retried turn does not advance the call", func(t *testing.T, st Store) {
			const key = "digest-of-the-request"
			answer := []byte(`{"ServiceCode":"S0000"}`)
			answers := make([][]byte, Concurrency)
			var mu sync.Mutex
			i := 0
			errs := race(func() error {
				var got []byte
				err := st.Transact(context.Background(), "DS-retry", func(cur session.Session, found bool) (store.Commit, error) {
					if found && cur.LastKey == key {
						got = cur.LastAnswer
						return store.Commit{}, nil
					}
					next := cur
					next.Turn++
					next.LastKey, next.LastAnswer = key, answer
					got = answer
					r := session.Record{Turn: next.Turn, At: now()}
					return store.Commit{Write: true, Session: next, Record: &r}, nil
				})
				mu.Lock()
				answers[i] = got
				i++
				mu.Unlock()
				return err
			})
			for _, err := range errs {
				if err != nil {
					t.Errorf("Transact: %v", err)
				}
			}
			for _, a := range answers {
				if !bytes.Equal(a, answer) {
					t.Errorf("an attempt was answered %q, want %q", a, answer)
				}
			}
			got, _ := read(t, st, "DS-retry")
			if got.Turn != 1 {
				t.Errorf("Turn = %d after %d identical attempts, want 1", got.Turn, Concurrency)
			}
			if recs := logOf(t, st, "DS-retry"); len(recs) != 1 {
				t.Errorf("%d turns logged, want 1: %+v", len(recs), recs)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, newStore(t))
		})
	}
}

// race runs f Concurrency times at once and returns the errors.
func race(f func() error) []error { return raceN(Concurrency, f) }

// raceN runs f n times at once and returns the errors.
func raceN(n int, f func() error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range errs {
		wg.Go(func() {
			<-start
			errs[i] = f()
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func files(kv ...string) map[string][]byte {
	m := map[string][]byte{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = []byte(kv[i+1])
	}
	return m
}

func put(t *testing.T, st Store, id string, fs map[string][]byte, codes []string, customers map[string]string) int64 {
	t.Helper()
	v, _, err := st.PutTenant(context.Background(), store.TenantFiles{ID: id, Files: fs}, codes, customers)
	if err != nil {
		t.Fatalf("PutTenant(%s): %v", id, err)
	}
	return v
}

func wantTenantOf(t *testing.T, st Store, code, wantID string, wantVersion int64) {
	t.Helper()
	id, v, err := st.TenantOf(context.Background(), code)
	if wantID == "" {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TenantOf(%s) = %q, %d, %v; want ErrNotFound", code, id, v, err)
		}
		return
	}
	if err != nil || id != wantID || v != wantVersion {
		t.Errorf("TenantOf(%s) = %q, %d, %v; want %q, %d", code, id, v, err, wantID, wantVersion)
	}
}

func wantFiles(t *testing.T, st Store, id string, want store.TenantFiles) {
	t.Helper()
	got, err := st.Files(context.Background(), id)
	if err != nil {
		t.Fatalf("Files(%s): %v", id, err)
	}
	if got.ID != want.ID || got.Version != want.Version || !maps.EqualFunc(got.Files, want.Files, bytes.Equal) {
		t.Errorf("Files(%s) = %+v, want %+v", id, got, want)
	}
}

func runTenants(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	cases := []struct {
		name string
		test func(t *testing.T, st Store)
	}{
		{"unknown code and tenant", func(t *testing.T, st Store) {
			wantTenantOf(t, st, "NOPE", "", 0)
			if _, err := st.Files(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Files(nobody) error = %v, want ErrNotFound", err)
			}
			if _, _, _, err := st.GetTenant(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetTenant(nobody) error = %v, want ErrNotFound", err)
			}
			if err := st.DeleteTenant(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("DeleteTenant(nobody) error = %v, want ErrNotFound", err)
			}
		}},
		{"put resolves codes and files", func(t *testing.T, st Store) {
			fs := files("tenant.yaml", "id: acme\n", "flows/main.yaml", "steps: []\n")
			v := put(t, st, "acme", fs, []string{"SCENARIO01", "SCENARIO02"}, nil)
			if v != 1 {
				t.Errorf("first version = %d, want 1", v)
			}
			wantTenantOf(t, st, "SCENARIO01", "acme", 1)
			wantTenantOf(t, st, "SCENARIO02", "acme", 1)
			wantTenantOf(t, st, "SCENARIO03", "", 0)
			wantFiles(t, st, "acme", store.TenantFiles{ID: "acme", Version: 1, Files: fs})
		}},
		{"version increases on each change only", func(t *testing.T, st Store) {
			fs := files("a.yaml", "1")
			steps := []struct {
				name        string
				files       map[string][]byte
				codes       []string
				customers   map[string]string
				wantVersion int64
				wantChanged bool
			}{
				{"create", fs, []string{"C1"}, nil, 1, true},
				{"identical", fs, []string{"C1"}, map[string]string{}, 1, false},
				{"same codes other order, dup", fs, []string{"C1", "C1"}, nil, 1, false},
				{"file changed", files("a.yaml", "2"), []string{"C1"}, nil, 2, true},
				{"file added", files("a.yaml", "2", "b.yaml", "b"), []string{"C1"}, nil, 3, true},
				{"file removed", files("b.yaml", "b"), []string{"C1"}, nil, 4, true},
				{"code added", files("b.yaml", "b"), []string{"C2", "C1"}, nil, 5, true},
				{"customer added", files("b.yaml", "b"), []string{"C1", "C2"}, map[string]string{"010": "김"}, 6, true},
				{"customer renamed", files("b.yaml", "b"), []string{"C1", "C2"}, map[string]string{"010": "이"}, 7, true},
				{"identical again", files("b.yaml", "b"), []string{"C2", "C1"}, map[string]string{"010": "이"}, 7, false},
			}
			for _, s := range steps {
				v, changed, err := st.PutTenant(ctx, store.TenantFiles{ID: "acme", Version: 42, Files: s.files}, s.codes, s.customers)
				if err != nil || v != s.wantVersion || changed != s.wantChanged {
					t.Fatalf("%s: PutTenant = %d, %v, %v; want %d, %v", s.name, v, changed, err, s.wantVersion, s.wantChanged)
				}
				wantTenantOf(t, st, "C1", "acme", s.wantVersion)
				wantFiles(t, st, "acme", store.TenantFiles{ID: "acme", Version: s.wantVersion, Files: s.files})
			}
		}},
		{"put at an expected version", func(t *testing.T, st Store) {
			ctx := context.Background()
			put(t, st, "acme", files("a.yaml", "1"), []string{"acme-1"}, nil)
			steps := []struct {
				name    string
				id      string
				expect  int64
				files   map[string][]byte
				wantErr bool  // ErrVersionMismatch
				want    int64 // acme's version after the step
			}{
				{"the current version", "acme", 1, files("a.yaml", "2"), false, 2},
				{"a version someone else replaced", "acme", 1, files("a.yaml", "3"), true, 2},
				{"a version not reached yet", "acme", 7, files("a.yaml", "3"), true, 2},
				{"absent, but it exists", "acme", 0, files("a.yaml", "3"), true, 2},
				{"a tenant that does not exist", "nobody", 1, files("n.yaml", "1"), true, 2},
				{"any version", "acme", store.AnyVersion, files("a.yaml", "4"), false, 3},
			}
			for _, s := range steps {
				_, _, err := st.PutTenantIf(ctx, store.TenantFiles{ID: s.id, Files: s.files}, []string{s.id + "-1"}, nil, s.expect)
				if got := errors.Is(err, store.ErrVersionMismatch); got != s.wantErr || (err != nil && !got) {
					t.Fatalf("%s: PutTenant error = %v, want mismatch %v", s.name, err, s.wantErr)
				}
				tf, _, _, err := st.GetTenant(ctx, "acme")
				if err != nil || tf.Version != s.want {
					t.Fatalf("%s: acme at version %d (%v), want %d", s.name, tf.Version, err, s.want)
				}
			}
			if _, _, _, err := st.GetTenant(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a refused put created tenant nobody: %v", err)
			}
			if v, _, err := st.PutTenantIf(ctx, store.TenantFiles{ID: "nobody", Files: files("n.yaml", "1")}, []string{"nobody-1"}, nil, 0); err != nil || v != 1 {
				t.Errorf("creating a tenant expected absent: version %d, %v", v, err)
			}
			if err := st.DeleteTenant(ctx, "nobody"); err != nil {
				t.Fatal(err)
			}
			if v, _, err := st.PutTenantIf(ctx, store.TenantFiles{ID: "nobody", Files: files("n.yaml", "2")}, []string{"nobody-1"}, nil, 0); err != nil || v != 3 {
				t.Errorf("re-creating a deleted tenant expected absent: version %d, %v; want 3 (after the deletion's 2)", v, err)
			}
		}},
		{"racing puts at one version: one wins", func(t *testing.T, st Store) {
			// Three, not Concurrency: a tenant put is a transaction over a
			// dozen documents, and eight at once make the emulator's locks
			// time out (Aborted) before the losers see the new version.
			const racers = 3
			ctx := context.Background()
			put(t, st, "acme", files("a.yaml", "0"), []string{"C1"}, nil)
			var n atomic.Int64
			errs := raceN(racers, func() error {
				content := fmt.Sprint(n.Add(1))
				_, _, err := st.PutTenantIf(ctx, store.TenantFiles{ID: "acme", Files: files("a.yaml", content)}, []string{"C1"}, nil, 1)
				return err
			})
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, store.ErrVersionMismatch):
					t.Errorf("PutTenant error = %v, want nil or ErrVersionMismatch", err)
				}
			}
			if won != 1 {
				t.Errorf("%d of %d puts at version 1 succeeded, want exactly 1", won, racers)
			}
			if tf, _, _, err := st.GetTenant(ctx, "acme"); err != nil || tf.Version != 2 {
				t.Errorf("acme at version %d (%v), want 2", tf.Version, err)
			}
		}},
		{"code owned by another tenant is refused", func(t *testing.T, st Store) {
			put(t, st, "acme", files("a", "1"), []string{"SHARED", "A1"}, nil)
			_, _, err := st.PutTenant(ctx, store.TenantFiles{ID: "bolt", Files: files("b", "1")}, []string{"B1", "SHARED"}, nil)
			if err == nil {
				t.Fatal("PutTenant(bolt) claiming acme's code succeeded")
			}
			wantTenantOf(t, st, "SHARED", "acme", 1)
			wantTenantOf(t, st, "B1", "", 0)
			if _, _, _, err := st.GetTenant(ctx, "bolt"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("refused tenant exists: GetTenant error = %v", err)
			}
			// Once acme lets it go, bolt may take it.
			put(t, st, "acme", files("a", "1"), []string{"A1"}, nil)
			wantTenantOf(t, st, "SHARED", "", 0)
			put(t, st, "bolt", files("b", "1"), []string{"B1", "SHARED"}, nil)
			wantTenantOf(t, st, "SHARED", "bolt", 1)
		}},
		{"invalid keys are refused", func(t *testing.T, st Store) {
			for _, tc := range []struct {
				name      string
				t         store.TenantFiles
				codes     []string
				customers map[string]string
			}{
				{"empty id", store.TenantFiles{ID: ""}, nil, nil},
				{"slash in id", store.TenantFiles{ID: "a/b"}, nil, nil},
				{"slash in code", store.TenantFiles{ID: "acme"}, []string{"S/1"}, nil},
				{"reserved code", store.TenantFiles{ID: "acme"}, []string{"__x__"}, nil},
				{"dot-dot path", store.TenantFiles{ID: "acme", Files: files("../x", "")}, nil, nil},
				{"absolute path", store.TenantFiles{ID: "acme", Files: files("/x", "")}, nil, nil},
				{"empty phone", store.TenantFiles{ID: "acme"}, nil, map[string]string{"": "x"}},
				{"file over 1 MB", store.TenantFiles{ID: "acme", Files: map[string][]byte{"big": make([]byte, 1000*1000+1)}}, nil, nil},
			} {
				if _, _, err := st.PutTenant(ctx, tc.t, tc.codes, tc.customers); err == nil {
					t.Errorf("%s: PutTenant accepted it", tc.name)
				}
			}
			if ids, err := st.ListTenants(ctx); err != nil || len(ids) != 0 {
				t.Errorf("ListTenants = %v, %v after refused puts, want none", ids, err)
			}
		}},
		{"get returns what was put, byte for byte", func(t *testing.T, st Store) {
			fs := map[string][]byte{
				"tenant.yaml":       []byte("# 고객센터\r\nname: 에이크미  \n\n"),
				"flows/main.yaml":   []byte("steps:\n\t- say: \"${name}님\"\n"),
				"empty.txt":         {},
				"binary/latin1.txt": {0xff, 0xfe, 'a', 0x00},
			}
			customers := map[string]string{"01012345678": "홍길동", "0212345678": "김철수"}
			v := put(t, st, "acme", fs, []string{"S2", "S1"}, customers)
			got, codes, gotCustomers, err := st.GetTenant(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != "acme" || got.Version != v || !maps.EqualFunc(got.Files, fs, bytes.Equal) {
				t.Errorf("GetTenant files = %+v, want version %d %+v", got, v, fs)
			}
			if !slices.Equal(codes, []string{"S1", "S2"}) {
				t.Errorf("GetTenant codes = %v, want [S1 S2]", codes)
			}
			if !maps.Equal(gotCustomers, customers) {
				t.Errorf("GetTenant customers = %v, want %v", gotCustomers, customers)
			}
		}},
		{"list and delete", func(t *testing.T, st Store) {
			put(t, st, "bolt", files("b", "1"), []string{"B1"}, map[string]string{"010": "b"})
			v := put(t, st, "acme", files("a", "1"), []string{"A1"}, nil)
			if ids, err := st.ListTenants(ctx); err != nil || !slices.Equal(ids, []string{"acme", "bolt"}) {
				t.Errorf("ListTenants = %v, %v; want [acme bolt]", ids, err)
			}
			if err := st.DeleteTenant(ctx, "bolt"); err != nil {
				t.Fatalf("DeleteTenant(bolt): %v", err)
			}
			if ids, err := st.ListTenants(ctx); err != nil || !slices.Equal(ids, []string{"acme"}) {
				t.Errorf("ListTenants = %v, %v after delete; want [acme]", ids, err)
			}
			wantTenantOf(t, st, "B1", "", 0)
			wantTenantOf(t, st, "A1", "acme", v)
			if _, err := st.Files(ctx, "bolt"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Files(bolt) after delete: %v, want ErrNotFound", err)
			}
			if _, err := st.CustomerName(ctx, "bolt", "010"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("CustomerName(bolt) after delete: %v, want ErrNotFound", err)
			}
			// Re-created, it never reuses a version: caches keyed by version stay right.
			v2 := put(t, st, "bolt", files("b", "2"), []string{"B1"}, nil)
			if v2 <= 1 {
				t.Errorf("re-created tenant got version %d, want > 1", v2)
			}
			wantTenantOf(t, st, "B1", "bolt", v2)
			wantFiles(t, st, "bolt", store.TenantFiles{ID: "bolt", Version: v2, Files: files("b", "2")})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, newStore(t))
		})
	}
}

func runDirectory(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	st := newStore(t)
	put(t, st, "acme", files("a", "1"), []string{"A1"}, map[string]string{"01012345678": "홍길동"})
	put(t, st, "bolt", files("b", "1"), []string{"B1"}, map[string]string{"01099998888": "김철수"})
	lookups := []struct {
		name, tenant, phone, want string
	}{
		{"hit", "acme", "01012345678", "홍길동"},
		{"hit again (cached)", "acme", "01012345678", "홍길동"},
		{"miss", "acme", "01000000000", ""},
		{"miss again (cached)", "acme", "01000000000", ""},
		{"other tenant's customer", "acme", "01099998888", ""},
		{"unknown tenant", "nobody", "01012345678", ""},
		{"not a key", "acme", "a/b", ""},
		{"empty phone", "acme", "", ""},
	}
	check := func(t *testing.T, tenant, phone, want string) {
		t.Helper()
		got, err := st.CustomerName(ctx, tenant, phone)
		if want == "" {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("CustomerName(%s, %s) = %q, %v; want ErrNotFound", tenant, phone, got, err)
			}
			return
		}
		if err != nil || got != want {
			t.Errorf("CustomerName(%s, %s) = %q, %v; want %q", tenant, phone, got, err, want)
		}
	}
	for _, l := range lookups {
		t.Run(l.name, func(t *testing.T) { check(t, l.tenant, l.phone, l.want) })
	}
	// A push replaces the directory at once, cached answers included.
	put(t, st, "acme", files("a", "1"), []string{"A1"}, map[string]string{"01000000000": "이영희"})
	for _, l := range []struct{ name, phone, want string }{
		{"removed customer", "01012345678", ""},
		{"added customer (was a cached miss)", "01000000000", "이영희"},
	} {
		t.Run("after push/"+l.name, func(t *testing.T) { check(t, "acme", l.phone, l.want) })
	}
}

func runCancelled(t *testing.T, newStore func(t *testing.T) Store) {
	st := newStore(t)
	put(t, st, "acme", files("a", "1"), []string{"A1"}, map[string]string{"010": "홍"})
	write(t, st, "DS-cancel", sampleSession(1), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	ops := []struct {
		name string
		op   func() error
	}{
		{"Transact", func() error {
			return st.Transact(ctx, "DS-cancel", func(session.Session, bool) (store.Commit, error) {
				called = true
				return store.Commit{Write: true, Session: sampleSession(2)}, nil
			})
		}},
		{"Log", func() error { _, err := st.Log(ctx, "DS-cancel"); return err }},
		{"TenantOf", func() error { _, _, err := st.TenantOf(ctx, "A1"); return err }},
		{"Files", func() error { _, err := st.Files(ctx, "acme"); return err }},
		{"CustomerName", func() error { _, err := st.CustomerName(ctx, "acme", "010"); return err }},
		{"PutTenant", func() error {
			_, _, err := st.PutTenant(ctx, store.TenantFiles{ID: "acme"}, nil, nil)
			return err
		}},
		{"GetTenant", func() error { _, _, _, err := st.GetTenant(ctx, "acme"); return err }},
		{"ListTenants", func() error { _, err := st.ListTenants(ctx); return err }},
		{"DeleteTenant", func() error { return st.DeleteTenant(ctx, "acme") }},
	}
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			if err := o.op(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled context: error = %v, want context.Canceled", o.name, err)
			}
		})
	}
	if called {
		t.Error("Transact called fn with a cancelled context")
	}
	if got, _ := read(t, st, "DS-cancel"); got.Turn != 1 {
		t.Errorf("Turn = %d after cancelled operations, want 1", got.Turn)
	}
	wantTenantOf(t, st, "A1", "acme", 1)
}
