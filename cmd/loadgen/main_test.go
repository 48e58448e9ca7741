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
			if !slices.IsSorted(res.lat) {
				t.Error("latencies not sorted")
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
