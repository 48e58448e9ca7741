package fsstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc"

	"github.com/routebot/routebot/common/session"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/store/storetest"
	"github.com/routebot/routebot/internal/emulator"
	"github.com/routebot/routebot/internal/logtest"
)

const project = "routebot-test"

var (
	emulatorHost string
	shared       *firestore.Client // one client for the tests that do not count RPCs
	prefixes     atomic.Int64
	runID        = fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff)
)

// TestMain runs one emulator for the whole binary; each store gets its own
// collection prefix. Without the emulator the tests fail: they never skip.
func TestMain(m *testing.M) {
	host, stop := emulator.ForTestMain("Firestore store")
	emulatorHost = host
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	var err error
	shared, err = emulatorClient(ctx, host, project)
	cancel()
	if err != nil {
		stop()
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	code := m.Run()
	shared.Close()
	stop()
	os.Exit(code)
}

func newPrefix() string { return fmt.Sprintf("%s-%d-", runID, prefixes.Add(1)) }

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// newStore returns a store on the emulator in collections of its own.
func newStore(t testing.TB, client *firestore.Client, opts Options) *Store {
	t.Helper()
	if client == nil {
		client = shared
	}
	if opts.Prefix == "" {
		opts.Prefix = newPrefix()
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := New(ctx, client, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Store { return newStore(t, nil, Options{}) })
}

// TestConcurrentTurns races the gateway's retries of one turn against the
// original, and distinct turns against each other, on one CallId. The
// emulator serialises contending transactions slowly (seconds), so the bound
// is generous and on the whole test, not on each call.
func TestConcurrentTurns(t *testing.T) {
	t.Parallel()
	// One Store per attempt, as if each ran on its own instance: within one
	// Store a call's turns queue in the process (callLocks), so only
	// separate Stores make the transactions themselves contend.
	prefix := newPrefix()
	stores := make([]*Store, storetest.Concurrency)
	for i := range stores {
		stores[i] = newStore(t, nil, Options{Prefix: prefix})
	}
	s := stores[0]
	cases := []struct {
		name      string
		key       func(i int) string // the request digest of attempt i
		wantTurn  int
		wantCalls int // fn calls at least (one per attempt)
	}{
		{"retries of one turn", func(int) string { return "same-request" }, 1, storetest.Concurrency},
		{"distinct turns", func(i int) string { return fmt.Sprint("request-", i) }, storetest.Concurrency, storetest.Concurrency},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			callID := "DS-" + strings.ReplaceAll(tc.name, " ", "-")
			var calls atomic.Int64
			var wg sync.WaitGroup
			began := time.Now()
			for i := range storetest.Concurrency {
				wg.Go(func() {
					key := tc.key(i)
					err := stores[i].Transact(ctx, callID, func(cur session.Session, found bool) (store.Commit, error) {
						calls.Add(1)
						if found && cur.LastKey == key {
							return store.Commit{}, nil // a retry: answered from LastAnswer
						}
						next := cur
						next.Turn++
						next.LastKey, next.LastAnswer = key, []byte(key)
						next.Expires = time.Now().Add(time.Hour)
						return store.Commit{Write: true, Session: next, Record: &session.Record{Turn: next.Turn, At: time.Now()}}, nil
					})
					if err != nil {
						t.Errorf("attempt %d: %v", i, err)
					}
				})
			}
			wg.Wait()
			t.Logf("%d concurrent turns: %v, fn called %d times", storetest.Concurrency, time.Since(began).Round(time.Millisecond), calls.Load())
			var got session.Session
			if err := s.Transact(ctx, callID, func(cur session.Session, _ bool) (store.Commit, error) {
				got = cur
				return store.Commit{}, nil
			}); err != nil {
				t.Fatal(err)
			}
			recs, err := s.Log(ctx, callID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Turn != tc.wantTurn || len(recs) != tc.wantTurn {
				t.Errorf("Turn = %d, %d turns logged; want %d", got.Turn, len(recs), tc.wantTurn)
			}
			if calls.Load() < int64(tc.wantCalls) {
				t.Errorf("fn called %d times, want at least %d", calls.Load(), tc.wantCalls)
			}
		})
	}
}

// TestListenerSeesPush checks that a push by one process reaches another's
// listener, that Files is read once per version, and that TenantOf and cached
// lookups cost no RPC.
func TestListenerSeesPush(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	prefix := newPrefix()
	admin := newStore(t, nil, Options{Prefix: prefix})
	rpcs := &rpcCounter{}
	client, err := emulatorClient(ctx, emulatorHost, project, rpcs.dialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	turns := newStore(t, client, Options{Prefix: prefix})

	for _, step := range []struct {
		content string
		want    int64
	}{{"steps: [v1]\n", 1}, {"steps: [v2]\n", 2}} {
		v, _, err := admin.PutTenant(ctx, store.TenantFiles{ID: "acme", Files: map[string][]byte{"flows/main.yaml": []byte(step.content)}},
			[]string{"SCENARIO01"}, map[string]string{"01012345678": "홍길동"})
		if err != nil || v != step.want {
			t.Fatalf("PutTenant = %d, %v; want version %d", v, err, step.want)
		}
		began := time.Now()
		for {
			if id, got, err := turns.TenantOf(ctx, "SCENARIO01"); err == nil && id == "acme" && got == v {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("the other store's listener never saw version %d", v)
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("version %d seen by the other store after %v", v, time.Since(began).Round(time.Millisecond))

		rpcs.reset()
		for range 3 {
			f, err := turns.Files(ctx, "acme")
			if err != nil || f.Version != v || string(f.Files["flows/main.yaml"]) != step.content {
				t.Fatalf("Files = %+v, %v; want version %d with %q", f, err, v, step.content)
			}
			if _, err := turns.CustomerName(ctx, "acme", "01012345678"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := turns.TenantOf(ctx, "SCENARIO01"); err != nil {
				t.Fatal(err)
			}
		}
		// Files: the tenant document, then its files (no transaction);
		// CustomerName: one Get; TenantOf: none.
		if got, want := rpcs.byMethod(), map[string]int{"BatchGetDocuments": 2, "RunQuery": 1}; !maps.Equal(got, want) {
			t.Errorf("RPCs for 3 rounds of Files+CustomerName+TenantOf at one version: %v, want %v", got, want)
		}
		t.Logf("RPCs for 3×(Files, CustomerName, TenantOf) at version %d: %v", v, rpcs.byMethod())
	}
}

// TestFilesReadOneSnapshot: a push landing between Files' two reads (the
// tenant document, then its files) does not mix versions: the files are
// those of the version read, and the next version's come with it.
func TestFilesReadOneSnapshot(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	prefix := newPrefix()
	admin := newStore(t, nil, Options{Prefix: prefix})
	put := func(content string) int64 {
		v, _, err := admin.PutTenant(ctx, store.TenantFiles{ID: "acme", Files: map[string][]byte{"flows/main.yaml": []byte(content)}},
			[]string{"SCENARIO01"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	put("steps: [v1]\n")
	var armed atomic.Bool
	var pushed int64
	client, err := emulatorClient(ctx, emulatorHost, project, grpc.WithChainStreamInterceptor(
		func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			if strings.HasSuffix(method, "/RunQuery") && armed.CompareAndSwap(true, false) {
				pushed = put("steps: [v2]\n") // on the caller's goroutine: before the files are read
			}
			return streamer(ctx, desc, cc, method, opts...)
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	reader := newStore(t, client, Options{Prefix: prefix})
	seen := func(v int64) {
		for {
			if _, got, err := reader.TenantOf(ctx, "SCENARIO01"); err == nil && got == v {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("the reader's listener never saw version %d", v)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	seen(1)
	armed.Store(true)
	f, err := reader.Files(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if pushed != 2 {
		t.Fatalf("version %d pushed between the reads, want 2 (the files were not read by a query)", pushed)
	}
	if f.Version != 1 || string(f.Files["flows/main.yaml"]) != "steps: [v1]\n" {
		t.Errorf("Files = version %d with %q, want version 1 with its own files", f.Version, f.Files["flows/main.yaml"])
	}
	seen(2)
	if f, err = reader.Files(ctx, "acme"); err != nil || f.Version != 2 || string(f.Files["flows/main.yaml"]) != "steps: [v2]\n" {
		t.Errorf("Files = version %d with %q, %v; want version 2 with its files", f.Version, f.Files["flows/main.yaml"], err)
	}
}

// TestLogOutlivesCallDocument: the TTL policy deleted the call's document
// but not yet all of its log (it deletes each document within about a day,
// in no order). The call goes on: its next entry goes after the last one
// left, overwriting nothing.
func TestLogOutlivesCallDocument(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t, nil, Options{})
	turn := func(n int, msg string) error {
		return s.Transact(ctx, "DS-ttl", func(cur session.Session, _ bool) (store.Commit, error) {
			cur.Turn = n
			return store.Commit{Write: true, Session: cur, Record: &session.Record{Turn: n, ChatMsg: msg}}, nil
		})
	}
	for n := 1; n <= 2; n++ {
		if err := turn(n, fmt.Sprint("before, turn ", n)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.calls().Doc("DS-ttl").Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if err := turn(1, "after, turn 1"); err != nil {
		t.Fatalf("first turn after the call's document went: %v", err)
	}
	recs, err := s.Log(ctx, "DS-ttl")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%d:%s", r.Seq, r.ChatMsg))
	}
	if want := []string{"1:before, turn 1", "2:before, turn 2", "3:after, turn 1"}; !slices.Equal(got, want) {
		t.Errorf("log %q, want %q", got, want)
	}
}

// TestCommitAfterAnotherInstanceRetried: another instance commits a turn of
// the call between this turn's read and its commit. The commit's condition
// fails, and the turn is decided again on what the other committed: no
// update is lost, and the log holds both turns.
func TestCommitAfterAnotherInstanceRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := newPrefix()
	a, b := newStore(t, nil, Options{Prefix: prefix}), newStore(t, nil, Options{Prefix: prefix})
	for _, exists := range []bool{false, true} { // the call's document absent, then present
		callID := fmt.Sprint("DS-conflict-", exists)
		if exists {
			if err := a.Transact(ctx, callID, func(cur session.Session, _ bool) (store.Commit, error) {
				cur.Turn = 1
				return store.Commit{Write: true, Session: cur, Record: &session.Record{Turn: 1, ChatMsg: "first"}}, nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		var calls []int // the Turn each of a's fn calls saw
		err := a.Transact(ctx, callID, func(cur session.Session, _ bool) (store.Commit, error) {
			calls = append(calls, cur.Turn)
			if len(calls) == 1 { // between a's read and its commit
				if err := b.Transact(ctx, callID, func(cur session.Session, _ bool) (store.Commit, error) {
					cur.Turn++
					return store.Commit{Write: true, Session: cur, Record: &session.Record{Turn: cur.Turn, ChatMsg: "b"}}, nil
				}); err != nil {
					return store.Commit{}, err
				}
			}
			cur.Turn++
			return store.Commit{Write: true, Session: cur, Record: &session.Record{Turn: cur.Turn, ChatMsg: "a"}}, nil
		})
		if err != nil {
			t.Fatalf("exists=%v: %v", exists, err)
		}
		base := 0
		if exists {
			base = 1
		}
		if want := []int{base, base + 1}; !slices.Equal(calls, want) {
			t.Errorf("exists=%v: a's fn saw turns %v, want %v (decided again after b's commit)", exists, calls, want)
		}
		recs, err := a.Log(ctx, callID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, fmt.Sprintf("%d:%d:%s", r.Seq, r.Turn, r.ChatMsg))
		}
		want := []string{"1:1:b", "2:2:a"}
		if exists {
			want = []string{"1:1:first", "2:2:b", "3:3:a"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("exists=%v: log %q, want %q", exists, got, want)
		}
	}
}

// TestRPCsPerTransact counts the RPCs of a turn: two round trips at most,
// one read and one commit.
func TestRPCsPerTransact(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rpcs := &rpcCounter{}
	client, err := emulatorClient(ctx, emulatorHost, project, rpcs.dialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() }) // after the store's Close: cleanups run last first
	s := newStore(t, client, Options{})
	turn := 0
	const read, commit = "BatchGetDocuments", "Commit"
	cases := []struct {
		name  string
		write bool
		want  map[string]int // RPCs by method: one read and one commit at most
	}{
		{"first turn (no session yet)", true, map[string]int{read: 1, commit: 1}},
		{"next turn", true, map[string]int{read: 1, commit: 1}},
		{"retried turn (Write=false)", false, map[string]int{read: 1}},
	}
	for _, tc := range cases {
		rpcs.reset()
		err := s.Transact(ctx, "DS-rpc", func(cur session.Session, _ bool) (store.Commit, error) {
			if !tc.write {
				return store.Commit{}, nil
			}
			turn++
			cur.Turn = turn
			return store.Commit{Write: true, Session: cur, Record: &session.Record{Turn: turn}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d RPCs %v", tc.name, rpcs.total(), rpcs.byMethod())
		if got := rpcs.byMethod(); !maps.Equal(got, tc.want) {
			t.Errorf("%s: RPCs %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestUnavailable checks that a Firestore that is gone or slow surfaces as
// store.ErrUnavailable (TransCode 501) within the caller's deadline, with a
// log line naming the call.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	t.Run("New on a closed port", func(t *testing.T) {
		closed := closedPort(t)
		c, err := emulatorClient(context.Background(), closed, project)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_, err = New(ctx, c, Options{Prefix: newPrefix(), Logger: testLogger(t)})
		if !errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("New = %v, want ErrUnavailable and DeadlineExceeded", err)
		}
	})

	p := newProxy(t, emulatorHost)
	c, err := emulatorClient(context.Background(), p.addr, project)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var logs logtest.Buffer
	s := newStore(t, c, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if _, _, err := s.PutTenant(context.Background(), store.TenantFiles{ID: "acme"}, []string{"S1"}, nil); err != nil {
		t.Fatal(err)
	}
	turn := func(ctx context.Context) error {
		return s.Transact(ctx, "DS-down", func(cur session.Session, _ bool) (store.Commit, error) {
			cur.Turn++
			return store.Commit{Write: true, Session: cur}, nil
		})
	}
	if err := turn(context.Background()); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	cases := []struct {
		name     string
		fault    func()
		deadline time.Duration
	}{
		{"slow Firestore is bounded by the turn's deadline", p.stall, 300 * time.Millisecond},
		{"Firestore gone", p.cut, 300 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.fault()
			ops := []struct {
				name string
				op   func(ctx context.Context) error
			}{
				{"Transact", turn},
				{"Log", func(ctx context.Context) error { _, err := s.Log(ctx, "DS-down"); return err }},
				{"CustomerName", func(ctx context.Context) error { _, err := s.CustomerName(ctx, "acme", "010"); return err }},
				{"Files", func(ctx context.Context) error { _, err := s.Files(ctx, "acme"); return err }},
				{"PutTenant", func(ctx context.Context) error {
					_, _, err := s.PutTenant(ctx, store.TenantFiles{ID: "acme", Files: map[string][]byte{"a": nil}}, []string{"S1"}, nil)
					return err
				}},
			}
			for _, o := range ops {
				logs.Reset()
				ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
				began := time.Now()
				err := o.op(ctx)
				took := time.Since(began)
				cancel()
				if !errors.Is(err, store.ErrUnavailable) {
					t.Errorf("%s = %v, want ErrUnavailable", o.name, err)
				}
				if took > tc.deadline+time.Second {
					t.Errorf("%s took %v with a %v deadline", o.name, took, tc.deadline)
				}
				if line := logs.String(); !strings.Contains(line, `"msg":"firestore call failed"`) || !strings.Contains(line, "DS-down") && strings.HasPrefix(o.name, "Transact") {
					t.Errorf("%s logged %q, want a line naming the failed call", o.name, line)
				}
				t.Logf("%s: %v after %v", o.name, err, took.Round(time.Millisecond))
			}
		})
	}
	// The tenant index stays in memory while Firestore is down.
	if id, _, err := s.TenantOf(context.Background(), "S1"); err != nil || id != "acme" {
		t.Errorf("TenantOf while Firestore is down = %q, %v", id, err)
	}
}

// TestDataModel pins the documents' shape to docs/data-model.md.
func TestDataModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := newPrefix()
	s := newStore(t, nil, Options{Prefix: prefix})
	if _, _, err := s.PutTenant(ctx, store.TenantFiles{ID: "acme", Files: map[string][]byte{"flows/main.yaml": []byte("a: 1\n")}},
		[]string{"SCENARIO01"}, map[string]string{"01012345678": "홍길동"}); err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	err := s.Transact(ctx, "DS1", func(cur session.Session, _ bool) (store.Commit, error) {
		cur.Turn, cur.Expires, cur.Step = 1, expires, "ask-birth"
		return store.Commit{Write: true, Session: cur, Record: &session.Record{Turn: 1, DTMF: "******"}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fileID := fileDocID("flows/main.yaml")
	docs := []struct {
		path  string
		field string
		want  any
	}{
		{prefix + "tenants/acme", "version", int64(1)},
		{prefix + "tenants/acme/files/" + fileID, "path", "flows/main.yaml"},
		{prefix + "tenants/acme/files/" + fileID, "content", "a: 1\n"},
		{prefix + "tenants/acme/customers/01012345678", "name", "홍길동"},
		{prefix + "scenarios/SCENARIO01", "tenant", "acme"},
		{prefix + "calls/DS1", "step", "ask-birth"},
		{prefix + "calls/DS1", "expires", expires},
		{prefix + "calls/DS1/turns/000001", "dtmf", "******"},
		{prefix + "calls/DS1/turns/000001", "expires", expires},
	}
	for _, d := range docs {
		snap, err := shared.Doc(d.path).Get(ctx)
		if err != nil {
			t.Errorf("%s: %v", d.path, err)
			continue
		}
		got := snap.Data()[d.field]
		if gt, ok := got.(time.Time); ok {
			if !gt.Equal(d.want.(time.Time)) {
				t.Errorf("%s.%s = %v, want %v", d.path, d.field, got, d.want)
			}
		} else if got != d.want {
			t.Errorf("%s.%s = %#v, want %#v", d.path, d.field, got, d.want)
		}
	}
}

func BenchmarkTransact(b *testing.B) {
	rpcs := &rpcCounter{}
	client, err := emulatorClient(context.Background(), emulatorHost, project, rpcs.dialOptions()...)
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	s := newStore(b, client, Options{})
	ctx := context.Background()
	rpcs.reset()
	b.ReportAllocs()
	turn := 0
	for b.Loop() {
		err := s.Transact(ctx, "DS-bench", func(cur session.Session, _ bool) (store.Commit, error) {
			turn++
			cur.Turn, cur.Step, cur.Expires = turn, "ask", time.Now().Add(time.Hour)
			cur.LastKey, cur.LastAnswer = "k", []byte(`{"ServiceCode":"S0000","Description":"말씀해 주세요"}`)
			return store.Commit{Write: true, Session: cur, Record: &session.Record{Turn: turn, At: time.Now(), ChatMsg: "상담원 연결"}}, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rpcs.total())/float64(b.N), "rpcs/op")
}

// BenchmarkTransactParallel runs turns of distinct calls at once.
func BenchmarkTransactParallel(b *testing.B) {
	s := newStore(b, nil, Options{})
	ctx := context.Background()
	var calls atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		callID := fmt.Sprint("DS-par-", calls.Add(1))
		for pb.Next() {
			err := s.Transact(ctx, callID, func(cur session.Session, _ bool) (store.Commit, error) {
				cur.Turn++
				return store.Commit{Write: true, Session: cur, Record: &session.Record{Turn: cur.Turn}}, nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkTenantOf(b *testing.B) {
	s := newStore(b, nil, Options{})
	ctx := context.Background()
	if _, _, err := s.PutTenant(ctx, store.TenantFiles{ID: "acme"}, []string{"SCENARIO01"}, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.TenantOf(ctx, "SCENARIO01"); err != nil {
			b.Fatal(err)
		}
	}
}

// rpcCounter counts a client's RPCs by method, unary and streaming.
type rpcCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *rpcCounter) add(method string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[method[strings.LastIndex(method, "/")+1:]]++
}

func (c *rpcCounter) reset() { c.mu.Lock(); c.n = nil; c.mu.Unlock() }

func (c *rpcCounter) byMethod() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

func (c *rpcCounter) total() int {
	n := 0
	for _, v := range c.byMethod() {
		n += v
	}
	return n
}

func (c *rpcCounter) dialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			c.add(method)
			return invoker(ctx, method, req, reply, cc, opts...)
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			if !strings.HasSuffix(method, "/Listen") { // the tenants listener is not a turn's cost
				c.add(method)
			}
			return streamer(ctx, desc, cc, method, opts...)
		}),
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// proxy forwards TCP to the emulator until told to stall (hold every byte:
// a slow Firestore) or cut (close everything: Firestore gone).
type proxy struct {
	addr string
	l    net.Listener

	mu      sync.Mutex
	conns   []net.Conn
	stalled chan struct{} // closed while forwarding; replaced by an open one to stall
}

func newProxy(t *testing.T, upstream string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: l.Addr().String(), l: l, stalled: make(chan struct{})}
	close(p.stalled)
	t.Cleanup(p.cut)
	go func() {
		for {
			down, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				down.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, down, up)
			p.mu.Unlock()
			go p.pipe(up, down)
			go p.pipe(down, up)
		}
	}()
	return p
}

func (p *proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		gate := p.stalled
		p.mu.Unlock()
		<-gate // never reopened once stalled: the bytes are held until cut
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				dst.Close()
			}
			return
		}
	}
}

func (p *proxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = make(chan struct{})
}

func (p *proxy) cut() {
	p.l.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	select {
	case <-p.stalled:
	default:
		close(p.stalled) // release held pipes: their connections are closed
	}
}

// emulatorClient is NewClient on the emulator; tests close the client only
// (the connection goes with the test process).
func emulatorClient(ctx context.Context, host, project string, dial ...grpc.DialOption) (*firestore.Client, error) {
	c, _, err := NewClient(ctx, project, host, dial...)
	return c, err
}
