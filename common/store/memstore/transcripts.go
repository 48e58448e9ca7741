package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/routebot/routebot/common/store"
)

// Transcripts keeps calls' final transcripts in memory (store.Transcripts).
// A call's transcript is dropped ttl after its last entry, so a long local
// run stays bounded.
type Transcripts struct {
	now func() time.Time
	ttl time.Duration

	mu      sync.Mutex
	calls   map[string]*callTranscript
	appends int
}

type callTranscript struct {
	entries []store.TranscriptEntry
	last    time.Time
}

// NewTranscripts returns an empty transcript store; now is the clock
// (time.Now when nil), ttl how long a quiet call's transcript is kept
// (a day when not positive).
func NewTranscripts(now func() time.Time, ttl time.Duration) *Transcripts {
	if now == nil {
		now = time.Now
	}
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	return &Transcripts{now: now, ttl: ttl, calls: map[string]*callTranscript{}}
}

// AppendTranscript implements store.Transcripts.
func (t *Transcripts) AppendTranscript(ctx context.Context, callID string, e store.TranscriptEntry) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: append transcript of %q: %w", callID, err)
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.appends++; t.appends%1024 == 0 {
		t.sweep(now)
	}
	c := t.calls[callID]
	if c == nil {
		c = &callTranscript{}
		t.calls[callID] = c
	}
	c.last = now
	if i := slices.IndexFunc(c.entries, func(x store.TranscriptEntry) bool { return x.Role == e.Role && x.EndMs == e.EndMs }); i >= 0 {
		c.entries[i] = e
		return nil
	}
	c.entries = append(c.entries, e)
	return nil
}

// Transcript implements store.Transcripts.
func (t *Transcripts) Transcript(ctx context.Context, callID string) ([]store.TranscriptEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: transcript of %q: %w", callID, err)
	}
	t.mu.Lock()
	c := t.calls[callID]
	var out []store.TranscriptEntry
	if c != nil {
		out = slices.Clone(c.entries)
	}
	t.mu.Unlock()
	if len(out) == 0 {
		return nil, fmt.Errorf("memstore: transcript of %q: %w", callID, store.ErrNotFound)
	}
	store.SortTranscript(out)
	return out, nil
}

func (t *Transcripts) sweep(now time.Time) {
	for id, c := range t.calls {
		if now.Sub(c.last) > t.ttl {
			delete(t.calls, id)
		}
	}
}
