package classify

import (
	"context"
	"fmt"
	"sync"
)

// Background is a Classifier that build makes in a goroutine, started by
// Start or by the first Classify, whichever comes first. A call's first turn
// is the greeting, which needs no classifier: the scenario handler calls
// Start once it has answered, so that training (tens of milliseconds of CPU
// for the embedded classifier) runs while the greeting plays, not on the
// same core as the greeting's own work.
type Background struct {
	build func() (Classifier, error)
	start sync.Once
	done  chan struct{}
	c     Classifier
	err   error
}

// NewBackground returns a Classifier built by build once started; it does
// not start it.
func NewBackground(build func() (Classifier, error)) *Background {
	return &Background{build: build, done: make(chan struct{})}
}

// Start starts the build, once; it does not wait for it.
func (b *Background) Start() {
	b.start.Do(func() {
		go func() {
			defer close(b.done)
			b.c, b.err = b.build()
		}()
	})
}

// Classify starts the build if nothing has, and waits for it within ctx.
func (b *Background) Classify(ctx context.Context, in Input) (Result, error) {
	select {
	case <-b.done: // built: the common case, without making ctx's Done channel
	default:
		b.Start()
		select {
		case <-b.done:
		case <-ctx.Done():
			return Result{}, fmt.Errorf("classifier still building: %w: %w", ErrUnavailable, ctx.Err())
		}
	}
	if b.err != nil {
		return Result{}, fmt.Errorf("build classifier: %w", b.err)
	}
	return b.c.Classify(ctx, in)
}
