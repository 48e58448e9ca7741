package fsstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestCallLocks(t *testing.T) {
	var l callLocks
	var wg sync.WaitGroup
	inside, most := 0, 0
	var mu sync.Mutex
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := l.lock(context.Background(), "C1")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			inside++
			most = max(most, inside)
			mu.Unlock()
			time.Sleep(100 * time.Microsecond)
			mu.Lock()
			inside--
			mu.Unlock()
			unlock()
		}()
	}
	wg.Wait()
	if most != 1 {
		t.Errorf("%d turns of one call ran at once", most)
	}

	// Another call is not held up; a waiter gives up with its context.
	unlock, _ := l.lock(context.Background(), "C1")
	other, err := l.lock(context.Background(), "C2")
	if err != nil {
		t.Fatal(err)
	}
	other()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := l.lock(ctx, "C1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting past the deadline: %v", err)
	}
	unlock()
	if n := len(l.calls); n != 0 {
		t.Errorf("%d lock entries left behind", n)
	}
}
