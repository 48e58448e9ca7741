package fsstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/routebot/routebot/common/store"
)

// Transcripts keeps calls' final transcripts in Firestore
// (store.Transcripts): {prefix}transcripts/{callId}/utterances/{role}-{endMs},
// one document per utterance, so the legs of a call never contend on one
// document. Each carries `expires` for a Firestore TTL policy.
type Transcripts struct {
	client *firestore.Client
	prefix string
	ttl    time.Duration
}

// NewTranscripts returns the transcript store on client; prefix is put
// before the collection name (tests), ttl sets each entry's expires.
func NewTranscripts(client *firestore.Client, prefix string, ttl time.Duration) *Transcripts {
	if ttl <= 0 {
		ttl = 30 * 24 * time.Hour
	}
	return &Transcripts{client: client, prefix: prefix, ttl: ttl}
}

type utteranceDoc struct {
	Role         string    `firestore:"role"`
	Text         string    `firestore:"text"`
	StartMs      int64     `firestore:"startMs"`
	EndMs        int64     `firestore:"endMs"`
	Time         time.Time `firestore:"time"`
	LanguageCode string    `firestore:"languageCode,omitempty"`
	Expires      time.Time `firestore:"expires"`
}

func (t *Transcripts) utterances(callID string) *firestore.CollectionRef {
	return t.client.Collection(t.prefix + "transcripts").Doc(callID).Collection("utterances")
}

// AppendTranscript implements store.Transcripts: the document's id is the
// role and end offset, so a retried append overwrites itself.
func (t *Transcripts) AppendTranscript(ctx context.Context, callID string, e store.TranscriptEntry) error {
	if callID == "" {
		return errors.New("firestore: append transcript: empty call id")
	}
	doc := utteranceDoc{Role: e.Role, Text: e.Text, StartMs: e.StartMs, EndMs: e.EndMs, Time: e.Time.UTC(),
		LanguageCode: e.LanguageCode, Expires: e.Time.Add(t.ttl).UTC()}
	id := fmt.Sprintf("%s-%012d", e.Role, e.EndMs)
	if _, err := t.utterances(callID).Doc(id).Set(ctx, doc); err != nil {
		return fmt.Errorf("firestore: append transcript of %q: %w: %w", callID, store.ErrUnavailable, err)
	}
	return nil
}

// Transcript implements store.Transcripts. A call's utterances are a few
// hundred at most: read them all and order them here, with no composite index.
func (t *Transcripts) Transcript(ctx context.Context, callID string) ([]store.TranscriptEntry, error) {
	if callID == "" {
		return nil, fmt.Errorf("firestore: transcript: empty call id: %w", store.ErrNotFound)
	}
	snaps, err := t.utterances(callID).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("firestore: transcript of %q: %w: %w", callID, store.ErrUnavailable, err)
	}
	if len(snaps) == 0 {
		return nil, fmt.Errorf("firestore: transcript of %q: %w", callID, store.ErrNotFound)
	}
	out := make([]store.TranscriptEntry, 0, len(snaps))
	for _, s := range snaps {
		var d utteranceDoc
		if err := s.DataTo(&d); err != nil {
			return nil, fmt.Errorf("firestore: transcript of %q: decoding %s: %w", callID, s.Ref.ID, err)
		}
		out = append(out, store.TranscriptEntry{Role: d.Role, Text: d.Text, StartMs: d.StartMs, EndMs: d.EndMs,
			Time: d.Time, LanguageCode: d.LanguageCode})
	}
	store.SortTranscript(out)
	return out, nil
}

// Transcripts returns the transcript store on s's client and prefix.
func (s *Store) Transcripts(ttl time.Duration) *Transcripts {
	return NewTranscripts(s.client, s.opts.Prefix, ttl)
}
