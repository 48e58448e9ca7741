package classify

import (
	"context"
	"fmt"
)

// Background starts build in a goroutine and returns a Classifier that waits
// for it (within the caller's deadline) on first use. A call's first turn is
// the greeting, which needs no classifier: training happens while the
// greeting plays, not before the process can answer.
func Background(build func() (Classifier, error)) Classifier {
	b := &background{done: make(chan struct{})}
	go func() {
		defer close(b.done)
		b.c, b.err = build()
	}()
	return b
}

type background struct {
	done chan struct{}
	c    Classifier
	err  error
}

func (b *background) Classify(ctx context.Context, in Input) (Result, error) {
	select {
	case <-b.done: // built: the common case, without making ctx's Done channel
	default:
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
