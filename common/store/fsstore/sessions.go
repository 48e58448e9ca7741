package fsstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
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
		Invalid: s.Invalid, Vars: s.Vars.Map(), LastKey: s.LastKey, LastAnswer: s.LastAnswer,
		Updated: s.Updated, Expires: s.Expires}
}

func (d callDoc) session(callID string) session.Session {
	return session.Session{CallID: callID, Tenant: d.Tenant, Scenario: d.Scenario, Step: d.Step, Turn: d.Turn,
		Silence: d.Silence, Invalid: d.Invalid, Vars: session.VarsOf(d.Vars), LastKey: d.LastKey, LastAnswer: d.LastAnswer,
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

// Transact implements store.Sessions in two round trips: read the call's
// document (BatchGetDocuments), call fn, and commit the document and the
// turn's log entry atomically (Commit), on the condition that the document
// is as it was read: unchanged since its update time, or still absent. When
// another instance committed in between, the condition fails and the turn is
// read and decided again, up to Options.TurnAttempts. A transaction would
// give the same guarantee for one more round trip (BeginTransaction); the
// Go client cannot begin one with the read. fn's own error is returned as it
// is; Firestore's wrap store.ErrUnavailable. Times are kept to the
// microsecond.
func (s *Store) Transact(ctx context.Context, callID string, fn func(session.Session, bool) (store.Commit, error)) error {
	op := "transact " + s.calls().ID + "/" + callID
	if err := cancelled(ctx, op); err != nil {
		return err
	}
	// The gateway's retries race their original on one instance: queued
	// here, they do not make each other's commits fail.
	unlock, err := s.callLocks.lock(ctx, callID)
	if err != nil {
		return cancelled(ctx, op)
	}
	defer unlock()
	ref := s.calls().Doc(callDocID(callID))
	recount := false
	var backoff time.Duration
	for attempt := 1; ; attempt++ {
		retry, fnErr, err := s.attempt(ctx, ref, callID, fn, recount)
		switch {
		case fnErr != nil:
			return fnErr
		case err == nil:
			return nil
		case retry == notRetried || attempt >= s.opts.TurnAttempts:
			return s.unavailable(ctx, op, fmt.Errorf("attempt %d: %w", attempt, err))
		}
		// A turn log entry already there means the call's count of entries
		// is lost (the TTL policy deleted the call's document before all of
		// its log): count the log from its last entry. Otherwise another
		// instance committed first.
		recount = recount || retry == collided
		backoff = min(max(2*backoff, 5*time.Millisecond), 500*time.Millisecond)
		if err := sleep(ctx, rand.N(backoff)); err != nil {
			return s.unavailable(ctx, op, err)
		}
	}
}

// Why an attempt may be retried.
const (
	notRetried = iota
	conflicted // another commit changed the call's document since the read
	collided   // the turn's log entry exists: the call's count of entries is lost
)

// attempt is one read, fn and conditional commit. recount reads the number
// of log entries from the log's last entry instead of the call's document
// (one more round trip, only after a collision).
func (s *Store) attempt(ctx context.Context, ref *firestore.DocumentRef, callID string, fn func(session.Session, bool) (store.Commit, error), recount bool) (retry int, fnErr, err error) {
	snap, err := ref.Get(ctx)
	exists := err == nil
	if err != nil && !notFound(err) {
		return notRetried, nil, err
	}
	cur, found, logged, err := decodeSession(snap, exists, callID)
	if err != nil {
		return notRetried, nil, err
	}
	turns := ref.Collection("turns")
	if recount {
		last, err := lastSeq(ctx, turns)
		if err != nil {
			return notRetried, nil, err
		}
		logged = max(logged, last)
	}
	c, err := fn(cur, found)
	if err != nil {
		return notRetried, err, nil
	}
	if !c.Write {
		return notRetried, nil, nil
	}
	// The deprecated WriteBatch is the client's only atomic commit of
	// several writes with preconditions outside a transaction.
	b := s.client.Batch()
	if c.Record != nil {
		logged++
		// Create, not Set: the log is append-only; an entry is never overwritten.
		b.Create(turns.Doc(turnDocID(logged)), toTurnDoc(*c.Record, c.Session.Expires))
	}
	d := toCallDoc(c.Session, logged)
	if exists {
		b.Update(ref, d.updates(), firestore.LastUpdateTime(snap.UpdateTime))
	} else {
		b.Create(ref, d)
	}
	_, err = b.Commit(ctx)
	switch status.Code(err) {
	case codes.OK:
		return notRetried, nil, nil
	case codes.FailedPrecondition, codes.Aborted:
		return conflicted, nil, err
	case codes.AlreadyExists:
		// The call's document (another instance created it first) or the
		// entry (the count of entries is lost): a recount is right for both.
		return collided, nil, err
	}
	return notRetried, nil, err
}

// decodeSession reads the call's document; an expired session is not found.
// logged is the call's number of log entries, expired sessions' included.
func decodeSession(snap *firestore.DocumentSnapshot, exists bool, callID string) (_ session.Session, found bool, logged int, _ error) {
	if !exists {
		return session.Session{}, false, 0, nil
	}
	var d callDoc
	if err := snap.DataTo(&d); err != nil {
		return session.Session{}, false, 0, fmt.Errorf("decode %s: %w", snap.Ref.Path, err)
	}
	if !d.Expires.IsZero() && !time.Now().Before(d.Expires) {
		return session.Session{}, false, d.Logged, nil // the TTL policy deletes it later, within about a day
	}
	return d.session(callID), true, d.Logged, nil
}

// updates are d's fields as an Update of every field, so that the session is
// replaced as a whole (as Set would, which takes no precondition). Keep it
// in step with callDoc: the conformance suite's round trips check it.
func (d callDoc) updates() []firestore.Update {
	orDelete := func(t time.Time) any {
		if t.IsZero() {
			return firestore.Delete // omitempty
		}
		return t
	}
	return []firestore.Update{
		{Path: "tenant", Value: d.Tenant}, {Path: "scenario", Value: d.Scenario}, {Path: "step", Value: d.Step},
		{Path: "turn", Value: d.Turn}, {Path: "silence", Value: d.Silence}, {Path: "invalid", Value: d.Invalid},
		{Path: "vars", Value: d.Vars}, {Path: "lastKey", Value: d.LastKey}, {Path: "lastAnswer", Value: d.LastAnswer},
		{Path: "updated", Value: orDelete(d.Updated)}, {Path: "expires", Value: orDelete(d.Expires)},
		{Path: "logged", Value: d.Logged},
	}
}

// lastSeq reads the number of the log's last entry (0: none). It lists the
// ids of the whole log (a call has tens of turns), because Firestore scans
// document ids in ascending order only.
func lastSeq(ctx context.Context, turns *firestore.CollectionRef) (int, error) {
	docs, err := turns.Select().OrderBy(firestore.DocumentID, firestore.Asc).Documents(ctx).GetAll()
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

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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
