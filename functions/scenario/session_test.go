package scenario

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/routebot/routebot/common/session"
	"github.com/routebot/routebot/common/store"
)

// turn is a first turn on path, by bot; start is the flow's first step.
type turn struct{ path, bot, start string }

// TestNewSessionOnUsedCallID: the gateway reuses a CallId on another
// scenario, or after the session expired. Each time the call goes on with a
// fresh session, and the turn log keeps every turn of the CallId, in order.
func TestNewSessionOnUsedCallID(t *testing.T) {
	tests := []struct {
		name  string
		turns []turn
		past  bool // the first turn is answered long enough ago that its session expired
	}{
		{name: "another tenant's scenario", turns: []turn{
			{"/SCENARIO01", "bot00001", "greeting"}, {"/HANBIT01", "bot00002", "closed"}, {"/SCENARIO01", "bot00001", "greeting"}}},
		{name: "another scenario of the tenant", turns: []turn{
			{"/SCENARIO01", "bot00001", "greeting"}, {"/star-wars", "bot00001", "agent"}}},
		{name: "after the session expired", past: true, turns: []turn{
			{"/SCENARIO01", "bot00001", "greeting"}, {"/SCENARIO01", "bot00001", "greeting"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answered := 0
			now := func() time.Time {
				if tt.past && answered == 0 {
					return time.Now().Add(-2 * time.Hour) // its session expired an hour ago
				}
				return time.Now()
			}
			e := newEnv(t, nil, Options{Now: now})
			var want []string
			for i, tn := range tt.turns {
				b := strings.Replace(body("X1", "IsFirstChat", "Y"), "bot00001", tn.bot, 1)
				code, doc, raw := e.post(t, tn.path, b)
				if code != 200 || doc["TransCode"] != "200" {
					t.Fatalf("turn %d on %s: HTTP %d %s", i+1, tn.path, code, raw)
				}
				answered++
				want = append(want, fmt.Sprintf("%d %s", i+1, tn.start))
			}
			log, err := e.store.Log(context.Background(), "X1")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range log {
				if r.Turn != 1 {
					t.Errorf("entry %d: session turn %d, want 1 (each turn starts a session)", r.Seq, r.Turn)
				}
				got = append(got, fmt.Sprintf("%d %s", r.Seq, r.From))
			}
			if strings.Join(got, ", ") != strings.Join(want, ", ") {
				t.Errorf("turn log %q, want %q", got, want)
			}
		})
	}
}

// failingSessions is a session store that is down.
type failingSessions struct{}

func (failingSessions) Transact(context.Context, string, func(session.Session, bool) (store.Commit, error)) error {
	return fmt.Errorf("memstore: transact %q: disk on fire: %w", "F1", store.ErrUnavailable)
}

// TestStoreFailureLogged: when the session store fails, the turn's log line
// names the store's error, and no step the turn did not reach.
func TestStoreFailureLogged(t *testing.T) {
	e := newEnv(t, nil, Options{})
	e.h.sessions = failingSessions{}
	code, doc, _ := e.post(t, "/SCENARIO01", body("F1", "IsFirstChat", "Y"))
	if doc["TransCode"] != "501" {
		t.Fatalf("HTTP %d %v, want TransCode 501", code, doc)
	}
	line := e.logs.Find(t, "turn failed")
	if line == nil {
		t.Fatalf("no turn failed line:\n%s", e.logs)
	}
	if got, _ := line["error"].(string); !strings.Contains(got, "disk on fire") {
		t.Errorf("log line error %q, want the store's error", got)
	}
	if line["from"] != "" || line["to"] != "" {
		t.Errorf("log line says from %q to %q for a turn that was not committed", line["from"], line["to"])
	}
	if strings.Contains(fmt.Sprint(doc), "disk on fire") {
		t.Errorf("the answer carries the store's detail: %v", doc)
	}
}
