package logging

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// Buffered batches log lines into fewer writes: at thousands of turns a
// second, one write system call per line costs more than the turn's own
// work. Lines reach w within every, or when 64 KiB are pending, and Close
// flushes what is left. Meant for long-running servers that flush on
// shutdown (the local run), not for functions that may be frozen between
// requests.
type Buffered struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// NewBuffered returns a writer flushing to w at least every interval.
func NewBuffered(w io.Writer, every time.Duration) *Buffered {
	b := &Buffered{w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				b.Flush()
			case <-b.stop:
				b.Flush()
				return
			}
		}
	}()
	return b
}

// Write buffers p (one slog record per call).
func (b *Buffered) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

// Flush writes what is pending.
func (b *Buffered) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Flush()
}

// Close stops the flusher and flushes.
func (b *Buffered) Close() error {
	close(b.stop)
	<-b.done
	return nil
}
