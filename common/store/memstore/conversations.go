package memstore

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/routebot/routebot/common/store"
)

// Conversations is the embedded store.Conversations: the CallId →
// Dialogflow conversation mapping, in memory.
type Conversations struct {
	now func() time.Time

	mu      sync.Mutex
	records map[string]store.Conversation
	claims  int // since the last sweep
}

// sweepEvery is how many claims pass between sweeps of expired records, so
// a long local run's memory stays bounded by the records' TTL.
const sweepEvery = 1024

var _ store.Conversations = (*Conversations)(nil)

// NewConversations returns an empty mapping. now is the clock that expires
// records (time.Now when nil).
func NewConversations(now func() time.Time) *Conversations {
	if now == nil {
		now = time.Now
	}
	return &Conversations{now: now, records: map[string]store.Conversation{}}
}

// ClaimConversation implements store.Conversations.
func (s *Conversations) ClaimConversation(ctx context.Context, c store.Conversation, now time.Time) (store.Conversation, bool, error) {
	if err := ctx.Err(); err != nil {
		return store.Conversation{}, false, fmt.Errorf("memstore: claim conversation %q: %w", c.CallID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.live(c.CallID); ok && (cur.Ready || cur.Completed || now.Before(cur.LeaseUntil)) {
		return cloneConversation(cur), false, nil
	}
	s.records[c.CallID] = cloneConversation(c)
	if s.claims++; s.claims >= sweepEvery {
		s.claims = 0
		for id := range s.records {
			s.live(id)
		}
	}
	return cloneConversation(c), true, nil
}

// SaveConversation implements store.Conversations.
func (s *Conversations) SaveConversation(ctx context.Context, c store.Conversation) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: save conversation %q: %w", c.CallID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.live(c.CallID)
	if !ok || cur.Owner != c.Owner {
		return fmt.Errorf("memstore: save conversation %q: %w", c.CallID, store.ErrNotOwner)
	}
	s.records[c.CallID] = cloneConversation(c)
	return nil
}

// GetConversation implements store.Conversations.
func (s *Conversations) GetConversation(ctx context.Context, callID string) (store.Conversation, error) {
	if err := ctx.Err(); err != nil {
		return store.Conversation{}, fmt.Errorf("memstore: get conversation %q: %w", callID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.live(callID)
	if !ok {
		return store.Conversation{}, fmt.Errorf("memstore: get conversation %q: %w", callID, store.ErrNotFound)
	}
	return cloneConversation(cur), nil
}

// live is callID's record unless it expired; called with s.mu held.
func (s *Conversations) live(callID string) (store.Conversation, bool) {
	c, ok := s.records[callID]
	if ok && !c.Expires.IsZero() && !s.now().Before(c.Expires) {
		delete(s.records, callID)
		return store.Conversation{}, false
	}
	return c, ok
}

func cloneConversation(c store.Conversation) store.Conversation {
	c.Participants = maps.Clone(c.Participants)
	if c.Participants == nil {
		c.Participants = map[string]string{}
	}
	return c
}

// ProfileNames is the embedded store.ProfileNames.
type ProfileNames struct {
	mu    sync.RWMutex
	names map[string]string
}

var _ store.ProfileNames = (*ProfileNames)(nil)

// NewProfileNames returns an empty record of profile names.
func NewProfileNames() *ProfileNames { return &ProfileNames{names: map[string]string{}} }

// ProfileName implements store.ProfileNames.
func (s *ProfileNames) ProfileName(ctx context.Context, tenantID string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("memstore: profile name of tenant %q: %w", tenantID, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	name, ok := s.names[tenantID]
	if !ok {
		return "", fmt.Errorf("memstore: profile name of tenant %q: %w", tenantID, store.ErrNotFound)
	}
	return name, nil
}

// SetProfileName implements store.ProfileNames.
func (s *ProfileNames) SetProfileName(ctx context.Context, tenantID, name string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: set profile name of tenant %q: %w", tenantID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.names[tenantID] = name
	return nil
}
