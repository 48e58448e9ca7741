package classify

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

type fixed struct{ r Result }

func (f fixed) Classify(context.Context, Input) (Result, error) { return f.r, nil }

// TestBackground: nothing is built until Start or the first Classify; a
// Classify during the build gives up with the caller's context; the build
// runs once.
func TestBackground(t *testing.T) {
	want := Result{Path: Path{"a", "b", "c"}, Backend: "fixed"}
	for _, startWith := range []string{"Start", "Classify"} {
		t.Run(startWith, func(t *testing.T) {
			var builds atomic.Int32
			entered, release := make(chan struct{}), make(chan struct{})
			c := NewBackground(func() (Classifier, error) {
				builds.Add(1)
				close(entered)
				<-release
				return fixed{want}, nil
			})
			if n := builds.Load(); n != 0 {
				t.Fatalf("%d builds before Start or Classify", n)
			}
			gone, cancel := context.WithCancel(context.Background())
			cancel()
			switch startWith {
			case "Start":
				c.Start()
				c.Start()
			case "Classify":
				if _, err := c.Classify(gone, Input{Text: "x"}); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
					t.Fatalf("Classify started the build: err = %v, want ErrUnavailable and Canceled", err)
				}
			}
			select {
			case <-entered:
			case <-time.After(10 * time.Second): // a guard, not a measurement
				t.Fatalf("%s did not start the build", startWith)
			}
			if _, err := c.Classify(gone, Input{Text: "x"}); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("while building: err = %v, want ErrUnavailable", err)
			}
			close(release)
			got, err := c.Classify(context.Background(), Input{Text: "x"})
			if err != nil || got != want {
				t.Fatalf("after build: %v, %v; want %v", got, err, want)
			}
			if n := builds.Load(); n != 1 {
				t.Errorf("%d builds, want 1", n)
			}
		})
	}

	broken := NewBackground(func() (Classifier, error) { return nil, errors.New("no examples") })
	if _, err := broken.Classify(context.Background(), Input{}); err == nil {
		t.Fatal("a failed build must fail Classify")
	}
}
