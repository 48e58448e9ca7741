package store

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// TranscriptEntry is one final transcript of a call leg, as the stream
// service recognised it.
type TranscriptEntry struct {
	Role string // END_USER (the customer) or HUMAN_AGENT
	Text string
	// StartMs and EndMs are where the utterance lies in its leg, in
	// milliseconds from the leg's first audio.
	StartMs, EndMs int64
	Time           time.Time // when it was recognised
	LanguageCode   string
}

// Transcripts keeps each call's final transcripts, one record per
// utterance (no record every append of a call rewrites).
type Transcripts interface {
	// AppendTranscript adds e to the call's transcript. An entry with the
	// same Role and EndMs replaces the earlier one, so a retried append
	// never duplicates an utterance.
	AppendTranscript(ctx context.Context, callID string, e TranscriptEntry) error
	// Transcript returns the call's entries in spoken order (by Time, then
	// EndMs, then Role), or ErrNotFound when it has none.
	Transcript(ctx context.Context, callID string) ([]TranscriptEntry, error)
}

// SortTranscript orders entries as Transcript returns them.
func SortTranscript(es []TranscriptEntry) {
	slices.SortFunc(es, func(a, b TranscriptEntry) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		if a.EndMs != b.EndMs {
			return cmp.Compare(a.EndMs, b.EndMs)
		}
		return cmp.Compare(a.Role, b.Role)
	})
}
