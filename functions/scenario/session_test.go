package scenario

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
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

// TestSensitiveDigitsNotRecoverable: a caller keys a birth date into a
// sensitive step. Someone who can read the store (the session, its turn
// log) tries every six-digit candidate against what is kept, as the request
// digest was computed before it was keyed, and finds none of them.
func TestSensitiveDigitsNotRecoverable(t *testing.T) {
	const birth = "870312"
	e := newEnv(t, nil, Options{})
	e.post(t, "/SCENARIO01", body("B1", "ChatMsg", "택배 배송 조회 좀 해주세요"))
	req := body("B1", "ScenarioCode", "ask_birthdate", "DTMF", birth)
	if _, doc, raw := e.post(t, "/SCENARIO01", req); doc["ScenarioCode"] != "delivery_status" {
		t.Fatalf("the birth date was not accepted: %s", raw)
	}

	var kept session.Session
	if err := e.store.Transact(context.Background(), "B1", func(cur session.Session, _ bool) (store.Commit, error) {
		kept = cur
		return store.Commit{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	log, err := e.store.Log(context.Background(), "B1")
	if err != nil {
		t.Fatal(err)
	}
	stored := fmt.Sprintf("%+v %s %+v", kept, kept.LastAnswer, log)
	if kept.LastKey == "" {
		t.Fatal("no LastKey: the retry digest is not kept, so this test tests nothing")
	}

	// The digest's fields and layout, as an attacker reading the code
	// would rebuild them without the key; the six digits go at dtmf.
	var msg []byte
	var dtmf int
	for _, f := range []string{"SCENARIO01", "ask_birthdate", "", "DTMF", "", "N", "01012345678", "bot00001", "1000"} {
		if f == "DTMF" {
			dtmf, f = len(msg), "000000"
		}
		msg = append(append(msg, f...), 0)
	}
	want, err := hex.DecodeString(kept.LastKey)
	if err != nil {
		t.Fatalf("LastKey %q is not hex: %v", kept.LastKey, err)
	}
	var found []string
	for n := range 1_000_000 {
		for i, v := 5, n; i >= 0; i, v = i-1, v/10 {
			msg[dtmf+i] = byte('0' + v%10)
		}
		if sum := sha256.Sum256(msg); bytes.Equal(sum[:len(want)], want) {
			found = append(found, string(msg[dtmf:dtmf+6]))
		}
	}
	if slices.Contains(found, birth) {
		t.Errorf("the birth date %s is recoverable from the store (candidates %v):\n%s", birth, found, stored)
	}
	if strings.Contains(stored, birth) {
		t.Errorf("the store holds the birth date in clear:\n%s", stored)
	}
}

// TestRetryRecognisedAcrossInstances: two handlers (two instances) on one
// store recognise each other's retries when they share the request key,
// and only then.
func TestRetryRecognisedAcrossInstances(t *testing.T) {
	for _, shared := range []bool{true, false} {
		t.Run(fmt.Sprintf("shared key: %v", shared), func(t *testing.T) {
			keys := session.RandomRequestKeys()
			e := newEnv(t, nil, Options{RequestKeys: keys})
			other := *e
			otherKeys := keys
			if !shared {
				otherKeys = session.RandomRequestKeys()
			}
			other.h = New(e.h.flows, e.store, e.store, e.h.auth, e.h.logger, Options{RequestKeys: otherKeys, SessionTTL: time.Hour})
			e.post(t, "/SCENARIO01", body("I1", "ChatMsg", "택배 배송 조회 좀 해주세요"))
			wrong := body("I1", "ScenarioCode", "ask_birthdate", "DTMF", "12")
			_, _, first := e.post(t, "/SCENARIO01", wrong)
			_, _, retry := other.post(t, "/SCENARIO01", wrong) // the gateway's retry lands elsewhere
			log, err := e.store.Log(context.Background(), "I1")
			if err != nil {
				t.Fatal(err)
			}
			if shared && (retry != first || len(log) != 2) {
				t.Errorf("retry answered %s after %s, %d entries logged: want the same answer, 2 entries", retry, first, len(log))
			}
			if !shared && len(log) != 3 {
				t.Errorf("%d entries logged, want 3: a key the instances do not share cannot recognise a retry", len(log))
			}
		})
	}
}
