package fsstore

import (
	"context"
	"sync"
)

// callLocks serialises one process's turns of the same call before they
// reach Firestore. The gateway's retries race their original on the same
// instance; in Firestore they would contend for the call's document (the
// emulator makes a loser wait seconds before aborting it), here they queue
// for a few milliseconds and the later ones replay the committed answer.
// Turns of one call on different instances still meet in the transaction.
type callLocks struct {
	mu    sync.Mutex
	calls map[string]*callLock
}

type callLock struct {
	ch      chan struct{} // holds a token while the call is locked
	waiters int           // holders and waiters; the entry goes when it reaches 0
}

// lock waits for callID's turn, or for ctx. unlock must be called once lock
// returned nil.
func (l *callLocks) lock(ctx context.Context, callID string) (unlock func(), err error) {
	l.mu.Lock()
	if l.calls == nil {
		l.calls = map[string]*callLock{}
	}
	c := l.calls[callID]
	if c == nil {
		c = &callLock{ch: make(chan struct{}, 1)}
		l.calls[callID] = c
	}
	c.waiters++
	l.mu.Unlock()

	release := func() {
		l.mu.Lock()
		if c.waiters--; c.waiters == 0 {
			delete(l.calls, callID)
		}
		l.mu.Unlock()
	}
	select {
	case c.ch <- struct{}{}:
		return func() { <-c.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
