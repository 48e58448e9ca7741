package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/routebot/routebot/common/store"
)

// RunTranscripts is the conformance suite of store.Transcripts. newStore
// returns an empty store no other test sees.
func RunTranscripts(t *testing.T, newStore func(t *testing.T) store.Transcripts) {
	ctx := context.Background()
	t0 := now()
	at := func(ms int64) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	agent := func(text string, start, end int64) store.TranscriptEntry {
		return store.TranscriptEntry{Role: "HUMAN_AGENT", Text: text, StartMs: start, EndMs: end, Time: at(end), LanguageCode: "ko-KR"}
	}
	customer := func(text string, start, end int64) store.TranscriptEntry {
		return store.TranscriptEntry{Role: "END_USER", Text: text, StartMs: start, EndMs: end, Time: at(end + 50)}
	}
	tests := []struct {
		name    string
		appends []store.TranscriptEntry
		want    []store.TranscriptEntry
	}{
		{"both legs interleave by time",
			[]store.TranscriptEntry{agent("안녕하세요", 0, 1200), customer("카드 분실 신고요", 1500, 3000), agent("네 확인하겠습니다", 3100, 4000)},
			[]store.TranscriptEntry{agent("안녕하세요", 0, 1200), customer("카드 분실 신고요", 1500, 3000), agent("네 확인하겠습니다", 3100, 4000)}},
		{"appended out of order",
			[]store.TranscriptEntry{customer("둘", 1000, 2000), agent("하나", 0, 900)},
			[]store.TranscriptEntry{agent("하나", 0, 900), customer("둘", 1000, 2000)}},
		{"a retried append replaces, never duplicates",
			[]store.TranscriptEntry{customer("첫", 0, 1000), customer("첫", 0, 1000), customer("둘째", 1000, 2000)},
			[]store.TranscriptEntry{customer("첫", 0, 1000), customer("둘째", 1000, 2000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			for _, e := range tt.appends {
				if err := s.AppendTranscript(ctx, "CALL-1", e); err != nil {
					t.Fatalf("AppendTranscript: %v", err)
				}
			}
			got, err := s.Transcript(ctx, "CALL-1")
			if err != nil {
				t.Fatalf("Transcript: %v", err)
			}
			if !reflect.DeepEqual(normalize(got), normalize(tt.want)) {
				t.Errorf("Transcript =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
	t.Run("unknown call", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		_ = s.AppendTranscript(ctx, "OTHER", customer("x", 0, 10))
		if _, err := s.Transcript(ctx, "CALL-404"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Transcript(unknown) = %v, want ErrNotFound", err)
		}
	})
	t.Run("concurrent legs", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var wg sync.WaitGroup
		const n = 20
		errs := make(chan error, 2*n)
		for _, role := range []string{"END_USER", "HUMAN_AGENT"} {
			wg.Go(func() {
				for i := range int64(n) {
					errs <- s.AppendTranscript(ctx, "CALL-2", store.TranscriptEntry{Role: role, Text: fmt.Sprint(i),
						StartMs: i * 100, EndMs: i*100 + 100, Time: at(i * 100)})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("AppendTranscript: %v", err)
			}
		}
		got, err := s.Transcript(ctx, "CALL-2")
		if err != nil || len(got) != 2*n {
			t.Fatalf("Transcript = %d entries, %v; want %d", len(got), err, 2*n)
		}
	})
}

// normalize makes times comparable across backends (UTC, microseconds).
func normalize(es []store.TranscriptEntry) []store.TranscriptEntry {
	out := make([]store.TranscriptEntry, len(es))
	for i, e := range es {
		e.Time = e.Time.UTC().Truncate(time.Microsecond)
		out[i] = e
	}
	return out
}
