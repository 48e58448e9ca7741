package scenario

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// lazyDeadline is context.WithDeadline(parent, deadline) that arms its
// timer only when something waits on it. A turn on the embedded store and
// classifier only ever asks ctx.Err(), and a timer per turn and per
// classification (allocation, timer-heap insertion and removal under a
// lock, registration with the request's context) was a tenth of the turn's
// CPU. Whoever calls Done (a gRPC or HTTP client) gets the real thing:
// Done arms a context.WithDeadline once, and from then on every method is
// that context's; contexts derived from it afterwards register with it
// directly, as with any context.WithDeadline. Before it is armed,
// context.Cause reports the parent's cause, not the deadline.
type lazyDeadline struct {
	parent   context.Context
	deadline time.Time

	mu       sync.Mutex
	armed    atomic.Pointer[armedDeadline]
	released atomic.Bool
}

type armedDeadline struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// newLazyDeadline returns the context; its release must be called when the
// work is done, as a context.CancelFunc is.
func newLazyDeadline(parent context.Context, d time.Duration) *lazyDeadline {
	deadline := time.Now().Add(d)
	// Like context.WithDeadline: never later than the parent's, so that
	// Deadline (which gRPC and HTTP clients send on) tells the truth unarmed.
	if pd, ok := parent.Deadline(); ok && pd.Before(deadline) {
		deadline = pd
	}
	return &lazyDeadline{parent: parent, deadline: deadline}
}

func (c *lazyDeadline) arm() *armedDeadline {
	if a := c.armed.Load(); a != nil {
		return a
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.armed.Load(); a != nil {
		return a
	}
	ctx, cancel := context.WithDeadline(c.parent, c.deadline)
	a := &armedDeadline{ctx: ctx, cancel: cancel}
	if c.released.Load() {
		cancel()
	}
	c.armed.Store(a)
	return a
}

// release cancels the context.
func (c *lazyDeadline) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.released.Store(true)
	if a := c.armed.Load(); a != nil {
		a.cancel()
	}
}

// Deadline implements context.Context.
func (c *lazyDeadline) Deadline() (time.Time, bool) { return c.deadline, true }

// Done implements context.Context; it arms the deadline.
func (c *lazyDeadline) Done() <-chan struct{} { return c.arm().ctx.Done() }

// Err implements context.Context.
func (c *lazyDeadline) Err() error {
	if a := c.armed.Load(); a != nil {
		return a.ctx.Err()
	}
	if c.released.Load() {
		return context.Canceled
	}
	if err := c.parent.Err(); err != nil {
		return err
	}
	// time.Until reads only the monotonic clock when the deadline carries
	// one (ours always do): half of time.Now's cost, and Err is asked
	// several times a turn.
	if time.Until(c.deadline) <= 0 {
		return context.DeadlineExceeded
	}
	return nil
}

// Value implements context.Context.
func (c *lazyDeadline) Value(key any) any {
	if a := c.armed.Load(); a != nil {
		return a.ctx.Value(key)
	}
	return c.parent.Value(key)
}
