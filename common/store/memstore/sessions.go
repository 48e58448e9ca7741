package memstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	"github.com/routebot/routebot/common/session"
	"github.com/routebot/routebot/common/store"
)

const shards = 64

// A shard holds its calls in one allocation each, keyed by the CallId's
// hash: the map has no string keys and a call no other objects, so the
// garbage collector, which a busy local run's hundreds of thousands of live
// calls would otherwise keep busy, has one object a call to mark and
// nothing in it to scan (a call's layout: call.appendTo; a session's:
// codec.go).
type shard struct {
	mu    sync.Mutex
	calls map[uint64][]byte // hash → the call; never changed once stored (Log reads one outside the lock)
	// collided are the calls whose hash another CallId in calls has: in
	// practice empty (64-bit hashes), but never wrong.
	collided map[string][]byte
	// A turn's record and session are encoded here, then copied into the
	// call's allocation.
	record, session []byte
}

// get returns the call callID hashed to h. A CallId is in calls or in
// collided, never both.
func (sh *shard) get(h uint64, callID string) ([]byte, bool) {
	if b, ok := sh.calls[h]; ok && isCall(b, callID) {
		return b, true
	}
	if len(sh.collided) > 0 {
		b, ok := sh.collided[callID]
		return b, ok
	}
	return nil, false
}

func (sh *shard) put(h uint64, callID string, b []byte) {
	if _, ok := sh.collided[callID]; ok {
		sh.collided[callID] = b
		return
	}
	if old, ok := sh.calls[h]; ok && !isCall(old, callID) {
		if sh.collided == nil {
			sh.collided = map[string][]byte{}
		}
		sh.collided[strings.Clone(callID)] = b
		return
	}
	sh.calls[h] = b
}

// Transact implements store.Sessions. fn gets its own decoded copy of the
// session, so what it changes in place is kept only if it returns Write=true.
func (s *Store) Transact(ctx context.Context, callID string, fn func(session.Session, bool) (store.Commit, error)) error {
	h := s.hash(callID)
	sh := &s.shards[h%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: transact %q: %w", callID, err)
	}
	b, _ := sh.get(h, callID)
	cur, err := parseCall(b)
	if err != nil {
		return fmt.Errorf("memstore: transact %q: %w", callID, err)
	}
	if cur.expired(s.now().UnixNano()) {
		cur.session = nil // its log stays until Sweep, as Firestore's TTL policy does
	}
	sess, err := decodeSession(callID, cur.session)
	if err != nil {
		return fmt.Errorf("memstore: transact %q: %w", callID, err)
	}
	c, err := fn(sess, len(cur.session) > 0)
	if err != nil || !c.Write {
		return err
	}
	c.Session.CallID = callID
	next := call{id: callID, log: cur.log}
	if !c.Session.Expires.IsZero() {
		next.expires = c.Session.Expires.UnixNano()
	}
	sh.session = encodeSession(sh.session[:0], c.Session)
	next.session = sh.session
	var rec []byte
	if c.Record != nil {
		sh.record = encodeRecord(sh.record[:0], *c.Record)
		rec = sh.record
	}
	// A new allocation, not the old call's space: Log may be reading it.
	sh.put(h, callID, next.appendTo(make([]byte, 0, next.size()+len(rec)), rec))
	return nil
}

// Log returns a copy of the call's turn log, oldest first.
func (s *Store) Log(ctx context.Context, callID string) ([]session.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: log %q: %w", callID, err)
	}
	h := s.hash(callID)
	sh := &s.shards[h%shards]
	sh.mu.Lock()
	b, _ := sh.get(h, callID)
	sh.mu.Unlock()
	c, err := parseCall(b)
	if err != nil {
		return nil, fmt.Errorf("memstore: log %q: %w", callID, err)
	}
	records, err := decodeRecords(c.log)
	if err != nil {
		return nil, fmt.Errorf("memstore: log %q: %w", callID, err)
	}
	return records, nil
}

// Sweep drops the calls whose session expired, with their turn logs; the
// local run calls it periodically.
func (s *Store) Sweep() int {
	now, n := s.now().UnixNano(), 0
	gone := func(b []byte) bool {
		c, err := parseCall(b)
		return err != nil || len(c.session) == 0 || c.expired(now)
	}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for h, b := range sh.calls {
			if gone(b) {
				delete(sh.calls, h)
				n++
			}
		}
		for id, b := range sh.collided {
			if gone(b) {
				delete(sh.collided, id)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}

// call is a stored call's parts; parseCall's are views of the stored bytes.
type call struct {
	id      string
	expires int64 // the session's Expires in Unix nanoseconds; 0: never
	session []byte
	log     []byte
}

func (c call) expired(now int64) bool { return c.expires != 0 && now >= c.expires }

// size is at least how many bytes appendTo writes before the record.
func (c call) size() int {
	return 3*binary.MaxVarintLen64 + len(c.id) + len(c.session) + len(c.log)
}

// appendTo appends the call's encoding (id, expires, session, log)
// and then rec, the log's newest record.
func (c call) appendTo(b, rec []byte) []byte {
	b = appendString(b, c.id)
	b = binary.AppendVarint(b, c.expires)
	b = binary.AppendUvarint(b, uint64(len(c.session)))
	b = append(b, c.session...)
	b = append(b, c.log...)
	return append(b, rec...)
}

// isCall reports whether the stored call b is callID's, without decoding
// the rest of it.
func isCall(b []byte, callID string) bool {
	r := reader{b: b}
	return string(r.bytes()) == callID // a comparison: no allocation
}

func parseCall(b []byte) (call, error) {
	if len(b) == 0 {
		return call{}, nil
	}
	r := &reader{b: b}
	r.bytes() // the id, which the caller knows
	c := call{expires: r.varint()}
	c.session = r.bytes()
	c.log = r.b
	return c, r.err
}
