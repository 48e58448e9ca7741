package classify

import (
	"context"
	"errors"
	"testing"
	"time"
)

type fixed struct{ r Result }

func (f fixed) Classify(context.Context, Input) (Result, error) { return f.r, nil }

func TestBackground(t *testing.T) {
	want := Result{Path: Path{"a", "b", "c"}, Backend: "fixed"}
	release := make(chan struct{})
	c := Background(func() (Classifier, error) { <-release; return fixed{want}, nil })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := c.Classify(ctx, Input{Text: "x"}); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("while building: err = %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	close(release)
	got, err := c.Classify(context.Background(), Input{Text: "x"})
	if err != nil || got != want {
		t.Fatalf("after build: %v, %v; want %v", got, err, want)
	}

	broken := Background(func() (Classifier, error) { return nil, errors.New("no examples") })
	if _, err := broken.Classify(context.Background(), Input{}); err == nil {
		t.Fatal("a failed build must fail Classify")
	}
}
