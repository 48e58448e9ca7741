package scenario

import (
	"context"
	"errors"
	"testing"
	"time"
)

type ctxKey struct{}

// TestLazyDeadline: the lazy deadline answers as context.WithDeadline does,
// armed or not.
func TestLazyDeadline(t *testing.T) {
	tests := []struct {
		name         string
		d            time.Duration
		cancelParent bool
		release      bool
		arm          bool
		want         error
	}{
		{"running", time.Hour, false, false, false, nil},
		{"running, armed", time.Hour, false, false, true, nil},
		{"past its deadline", -time.Second, false, false, false, context.DeadlineExceeded},
		{"past its deadline, armed", -time.Second, false, false, true, context.DeadlineExceeded},
		{"parent cancelled", time.Hour, true, false, false, context.Canceled},
		{"parent cancelled, armed", time.Hour, true, false, true, context.Canceled},
		{"released", time.Hour, false, true, false, context.Canceled},
		{"released, then armed", time.Hour, false, true, true, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
			defer cancel()
			ctx := newLazyDeadline(parent, tt.d)
			defer ctx.release()
			if tt.cancelParent {
				cancel()
			}
			if tt.release {
				ctx.release()
			}
			if tt.arm {
				done := ctx.Done()
				if tt.want != nil {
					<-done // closed, or the test hangs and fails by its timeout
				} else {
					select {
					case <-done:
						t.Fatal("Done closed on a running context")
					default:
					}
				}
			}
			if err := ctx.Err(); !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Errorf("Err() = %v, want %v", err, tt.want)
			}
			if d, ok := ctx.Deadline(); !ok || d.IsZero() {
				t.Errorf("Deadline() = %v, %v: want the deadline", d, ok)
			}
			if v := ctx.Value(ctxKey{}); v != "v" {
				t.Errorf("Value = %v, want the parent's", v)
			}
		})
	}
}

// TestLazyDeadlineChildren: a context derived from a lazy deadline is
// cancelled with it, whether it was derived before or after something armed
// it, and a lazy deadline under another is armed through it.
func TestLazyDeadlineChildren(t *testing.T) {
	t.Run("release cancels a child", func(t *testing.T) {
		ctx := newLazyDeadline(context.Background(), time.Hour)
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		ctx.release()
		<-child.Done()
		if !errors.Is(child.Err(), context.Canceled) {
			t.Errorf("child Err() = %v, want Canceled", child.Err())
		}
	})
	t.Run("the deadline reaches a nested lazy deadline", func(t *testing.T) {
		turn := newLazyDeadline(context.Background(), -time.Second)
		defer turn.release()
		cls := newLazyDeadline(turn, time.Hour)
		defer cls.release()
		if !errors.Is(cls.Err(), context.DeadlineExceeded) {
			t.Errorf("unarmed nested Err() = %v, want DeadlineExceeded", cls.Err())
		}
		<-cls.Done()
		if !errors.Is(cls.Err(), context.DeadlineExceeded) {
			t.Errorf("armed nested Err() = %v, want DeadlineExceeded", cls.Err())
		}
	})
	t.Run("an inner deadline is never later than the outer's", func(t *testing.T) {
		turn := newLazyDeadline(context.Background(), time.Second)
		defer turn.release()
		cls := newLazyDeadline(turn, time.Hour)
		defer cls.release()
		outer, _ := turn.Deadline()
		if inner, ok := cls.Deadline(); !ok || !inner.Equal(outer) {
			t.Errorf("inner Deadline() = %v, %v; want the outer's %v", inner, ok, outer)
		}
	})
	t.Run("releasing the outer cancels an armed inner", func(t *testing.T) {
		turn := newLazyDeadline(context.Background(), time.Hour)
		cls := newLazyDeadline(turn, time.Hour)
		defer cls.release()
		done := cls.Done()
		turn.release()
		<-done
		if !errors.Is(cls.Err(), context.Canceled) {
			t.Errorf("inner Err() = %v, want Canceled", cls.Err())
		}
	})
}
