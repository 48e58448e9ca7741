package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// gateway is a fake routebot that checks every turn loadgen sends: the
// token, and each call's turns in order (a greeting, then one utterance).
type gateway struct {
	t     *testing.T
	mu    sync.Mutex
	turns map[string]int // CallId → turns seen
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CallID      string `json:"CallId"`
		IsFirstChat string
		ChatMsg     string
	}
	if r.Method != http.MethodPost || r.URL.Path != "/SCENARIO01" || r.Header.Get("Authorization") != "Bearer tok" {
		g.t.Errorf("got %s %s with Authorization %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		g.t.Errorf("body: %v", err)
	}
	g.mu.Lock()
	n := g.turns[req.CallID]
	g.turns[req.CallID] = n + 1
	g.mu.Unlock()
	switch {
	case n == 0 && req.IsFirstChat != "Y", n == 1 && !slices.Contains(utterances, req.ChatMsg), n > 1:
		g.t.Errorf("call %s turn %d: %+v", req.CallID, n+1, req)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"TransCode":"200"}`))
}

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		rate float64
	}{
		{"closed loop", 0},
		{"open loop", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &gateway{t: t, turns: map[string]int{}}
			srv := httptest.NewServer(g)
			defer srv.Close()
			res := run(config{url: srv.URL + "/SCENARIO01", token: "tok", conns: 4, warm: 100 * time.Millisecond, dur: 250 * time.Millisecond, rate: tc.rate})
			if res.errs != 0 || res.non200 != 0 || len(res.lat) == 0 {
				t.Fatalf("%d answered, %d transport errors, %d non-200", len(res.lat), res.errs, res.non200)
			}
			if tc.rate > 0 {
				// The slots due while measuring: 400/s × 250 ms, from the
				// schedule, whatever the timing.
				if res.offered != 100 {
					t.Errorf("offered %d turns, want 100", res.offered)
				}
				if len(res.lat) > res.offered {
					t.Errorf("answered %d of %d due", len(res.lat), res.offered)
				}
			}
		})
	}
}

// TestOpenLoopCountsTheQueue: offered more than it can answer (two
// connections, 5 ms a turn: at most 400 turns/s, offered 1,000), a server's
// turns wait in the load generator, and that wait is their latency. Timed
// from when a connection sent them, every turn would take about 5 ms; the
// schedule puts the 300th measured turn at least ~0.5 s behind.
func TestOpenLoopCountsTheQueue(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
	}))
	defer srv.Close()
	res := run(config{url: srv.URL, token: "x", conns: 2, warm: 100 * time.Millisecond, dur: 300 * time.Millisecond, rate: 1000})
	if res.offered != 300 {
		t.Errorf("offered %d turns, want 300", res.offered)
	}
	if len(res.lat) == 0 || len(res.lat) > res.offered || res.errs != 0 {
		t.Fatalf("answered %d of %d due, %d transport errors", len(res.lat), res.offered, res.errs)
	}
	if p99 := res.pct(99); p99 < 100*time.Millisecond {
		t.Errorf("p99 %s: the queue's wait is not counted", p99)
	}
}

func TestPercentile(t *testing.T) {
	r := result{}
	for i := 1; i <= 100; i++ {
		r.lat = append(r.lat, time.Duration(i))
	}
	for _, tc := range []struct{ p, want int }{{50, 50}, {99, 99}, {100, 100}, {1, 1}} {
		if got := r.pct(tc.p); got != time.Duration(tc.want) {
			t.Errorf("pct(%d) of 1..100 = %d, want %d", tc.p, got, tc.want)
		}
	}
	if got := (result{lat: []time.Duration{7}}).pct(99); got != 7 {
		t.Errorf("pct(99) of one = %d", got)
	}
}

func TestFirstSlot(t *testing.T) {
	start := time.Unix(100, 0)
	for _, tc := range []struct {
		rate  float64
		after time.Duration
		want  int
	}{
		{400, 0, 0},
		{400, 100 * time.Millisecond, 40},
		{400, 100*time.Millisecond + 1, 41},
		{3, time.Second, 3},
		{3, 400 * time.Millisecond, 2},
	} {
		if got := firstSlot(start, tc.rate, start.Add(tc.after)); got != tc.want {
			t.Errorf("firstSlot(rate %v, +%v) = %d, want %d", tc.rate, tc.after, got, tc.want)
		}
	}
}

func TestRunCountsRefusals(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"TransCode":"401"}`, http.StatusUnauthorized)
	}))
	defer srv.Close()
	res := run(config{url: srv.URL, token: "x", conns: 2, dur: 50 * time.Millisecond})
	if res.non200 == 0 || int(res.non200) != len(res.lat) || res.firstNon200 != "401 {\"TransCode\":\"401\"}\n" {
		t.Errorf("non200 %d of %d, first %q", res.non200, len(res.lat), res.firstNon200)
	}
}

func TestSlot(t *testing.T) {
	start := time.Unix(100, 0)
	for _, tc := range []struct {
		rate float64
		i    int
		want time.Duration
	}{
		{4, 0, 0},
		{4, 2, 500 * time.Millisecond},
		{8000, 8000, time.Second},
		{3, 1, 333333333},
	} {
		if got := slot(start, tc.rate, tc.i).Sub(start); got != tc.want {
			t.Errorf("slot(rate %v, %d) = %v, want %v", tc.rate, tc.i, got, tc.want)
		}
	}
}
