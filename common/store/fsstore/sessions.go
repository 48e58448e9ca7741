package fsstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/routebot/routebot/common/session"
	"github.com/routebot/routebot/common/store"
)

// callDoc is calls/{callId}. expires is the TTL policy's field; absent (no
// expiry) when Session.Expires is zero.
type callDoc struct {
	Tenant     string            `firestore:"tenant"`
	Scenario   string            `firestore:"scenario"`
	Step       string            `firestore:"step"`
	Turn       int               `firestore:"turn"`
	Silence    int               `firestore:"silence"`
	Invalid    int               `firestore:"invalid"`
	Vars       map[string]string `firestore:"vars"`
	LastKey    string            `firestore:"lastKey"`
	LastAnswer []byte            `firestore:"lastAnswer"`
	Updated    time.Time         `firestore:"updated,omitempty"`
	Expires    time.Time         `firestore:"expires,omitempty"`
	// Logged counts the call's turn log entries, every session's: it
	// outlives an expired session so that the next one logs after it.
	Logged int `firestore:"logged"`
}

// turnDoc is calls/{callId}/turns/{seq:06d}. It carries the session's
// expiry too: a TTL deletion of the call does not reach its subcollection.
type turnDoc struct {
	Turn         int       `firestore:"turn"`
	At           time.Time `firestore:"at"`
	ScenarioCode string    `firestore:"scenarioCode,omitempty"`
	ChatMsg      string    `firestore:"chatMsg,omitempty"`
	Answer       string    `firestore:"answer,omitempty"`
	DTMF         string    `firestore:"dtmf,omitempty"` // masked by the engine when sensitive
	From         string    `firestore:"from,omitempty"`
	To           string    `firestore:"to,omitempty"`
	ServiceCode  string    `firestore:"serviceCode,omitempty"`
	TransCode    string    `firestore:"transCode,omitempty"`
	Category     string    `firestore:"category,omitempty"`
	Backend      string    `firestore:"backend,omitempty"`
	Degraded     bool      `firestore:"degraded,omitempty"`
	Expires      time.Time `firestore:"expires,omitempty"`
}

func toCallDoc(s session.Session, logged int) callDoc {
	return callDoc{Logged: logged, Tenant: s.Tenant, Scenario: s.Scenario, Step: s.Step, Turn: s.Turn, Silence: s.Silence,
		Invalid: s.Invalid, Vars: s.Vars, LastKey: s.LastKey, LastAnswer: s.LastAnswer,
		Updated: s.Updated, Expires: s.Expires}
}

func (d callDoc) session(callID string) session.Session {
	return session.Session{CallID: callID, Tenant: d.Tenant, Scenario: d.Scenario, Step: d.Step, Turn: d.Turn,
		Silence: d.Silence, Invalid: d.Invalid, Vars: d.Vars, LastKey: d.LastKey, LastAnswer: d.LastAnswer,
		Updated: d.Updated, Expires: d.Expires}
}

func toTurnDoc(r session.Record, expires time.Time) turnDoc {
	return turnDoc{Turn: r.Turn, At: r.At, ScenarioCode: r.ScenarioCode, ChatMsg: r.ChatMsg, Answer: r.Answer,
		DTMF: r.DTMF, From: r.From, To: r.To, ServiceCode: r.ServiceCode, TransCode: r.TransCode,
		Category: r.Category, Backend: r.Backend, Degraded: r.Degraded, Expires: expires}
}

func (d turnDoc) record(seq int) session.Record {
	return session.Record{Seq: seq, Turn: d.Turn, At: d.At, ScenarioCode: d.ScenarioCode, ChatMsg: d.ChatMsg, Answer: d.Answer,
		DTMF: d.DTMF, From: d.From, To: d.To, ServiceCode: d.ServiceCode, TransCode: d.TransCode,
		Category: d.Category, Backend: d.Backend, Degraded: d.Degraded}
}

// callDocID is the call's document id: the CallId itself, or, when it is not
// a valid document id (a '/', say), "~" and its SHA-256.
func callDocID(callID string) string {
	if store.CheckKey("", callID) == nil {
		return callID
	}
	sum := sha256.Sum256([]byte(callID))
	return "~" + hex.EncodeToString(sum[:])
}

func turnDocID(seq int) string { return fmt.Sprintf("%06d", seq) }

// Transact implements store.Sessions with one Firestore transaction: read the
// call's document, call fn, write the document and create the turn's log
// entry after the call's last. Concurrent turns of one call serialise on the
// document's lock; the loser is retried up to Options.MaxAttempts. fn's own
// error is returned as it is; Firestore's wrap store.ErrUnavailable. Times
// are kept to the microsecond.
func (s *Store) Transact(ctx context.Context, callID string, fn func(session.Session, bool) (store.Commit, error)) error {
	op := "transact " + s.calls().ID + "/" + callID
	if err := cancelled(ctx, op); err != nil {
		return err
	}
	unlock, err := s.callLocks.lock(ctx, callID)
	if err != nil {
		return cancelled(ctx, op)
	}
	defer unlock()
	fnErr, err := s.transact(ctx, callID, fn, false)
	if status.Code(err) == codes.AlreadyExists {
		// The call's document is gone (the TTL policy deleted it) but some
		// of its log is not yet: count the log again, from its last entry.
		fnErr, err = s.transact(ctx, callID, fn, true)
	}
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return s.unavailable(ctx, op, err)
	}
	return nil
}

// transact is one run of Transact's transaction. recount reads the number of
// log entries from the log's last entry instead of the call's document.
func (s *Store) transact(ctx context.Context, callID string, fn func(session.Session, bool) (store.Commit, error), recount bool) (fnErr, err error) {
	ref := s.calls().Doc(callDocID(callID))
	turns := ref.Collection("turns")
	err = s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		fnErr = nil
		cur, found, logged, err := readSession(tx, ref, callID)
		if err != nil {
			return err
		}
		if recount {
			if logged, err = lastSeq(tx, turns); err != nil {
				return err
			}
		}
		c, err := fn(cur, found)
		if err != nil {
			fnErr = err
			return err
		}
		if !c.Write {
			return nil
		}
		if c.Record != nil {
			logged++
			// Create, not Set: the log is append-only; an entry is never overwritten.
			if err := tx.Create(turns.Doc(turnDocID(logged)), toTurnDoc(*c.Record, c.Session.Expires)); err != nil {
				return err
			}
		}
		return tx.Set(ref, toCallDoc(c.Session, logged))
	}, firestore.MaxAttempts(s.opts.MaxAttempts))
	return fnErr, err
}

// readSession reads the call's session in tx; an expired one is not found.
// logged is the call's number of log entries, expired sessions' included.
func readSession(tx *firestore.Transaction, ref *firestore.DocumentRef, callID string) (_ session.Session, found bool, logged int, _ error) {
	snap, err := tx.Get(ref)
	if notFound(err) {
		return session.Session{}, false, 0, nil
	}
	if err != nil {
		return session.Session{}, false, 0, err
	}
	var d callDoc
	if err := snap.DataTo(&d); err != nil {
		return session.Session{}, false, 0, fmt.Errorf("decode %s: %w", ref.Path, err)
	}
	if !d.Expires.IsZero() && !time.Now().Before(d.Expires) {
		return session.Session{}, false, d.Logged, nil // the TTL policy deletes it later, within about a day
	}
	return d.session(callID), true, d.Logged, nil
}

// lastSeq reads the number of the log's last entry in tx (0: none). It lists
// the ids of the whole log (a call has tens of turns), because Firestore
// scans document ids in ascending order only.
func lastSeq(tx *firestore.Transaction, turns *firestore.CollectionRef) (int, error) {
	docs, err := tx.Documents(turns.Select().OrderBy(firestore.DocumentID, firestore.Asc)).GetAll()
	if err != nil || len(docs) == 0 {
		return 0, err
	}
	last := docs[len(docs)-1].Ref
	seq, err := strconv.Atoi(last.ID)
	if err != nil {
		return 0, fmt.Errorf("turn log entry %s: %w", last.Path, err)
	}
	return seq, nil
}

// Log returns the call's turn log, oldest first.
func (s *Store) Log(ctx context.Context, callID string) ([]session.Record, error) {
	op := "log " + s.calls().ID + "/" + callID
	if err := cancelled(ctx, op); err != nil {
		return nil, err
	}
	docs, err := s.calls().Doc(callDocID(callID)).Collection("turns").
		OrderBy(firestore.DocumentID, firestore.Asc).Documents(ctx).GetAll()
	if err != nil {
		return nil, s.unavailable(ctx, op, err)
	}
	recs := make([]session.Record, 0, len(docs))
	for _, d := range docs {
		var t turnDoc
		seq, err := strconv.Atoi(d.Ref.ID)
		if err == nil {
			err = d.DataTo(&t)
		}
		if err != nil {
			return nil, s.unavailable(ctx, op, fmt.Errorf("decode %s: %w", d.Ref.Path, err))
		}
		recs = append(recs, t.record(seq))
	}
	return recs, nil
}
