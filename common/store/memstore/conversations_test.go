package memstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/routebot/routebot/common/store"

	"github.com/routebot/routebot/common/store/storetest"
)

func TestConversationsConformance(t *testing.T) {
	storetest.RunConversations(t, func(*testing.T) storetest.ConversationStore {
		return struct {
			*Conversations
			*ProfileNames
		}{NewConversations(nil), NewProfileNames()}
	})
}

func TestConversationsSweep(t *testing.T) {
	now := time.Unix(1700000000, 0)
	s := NewConversations(func() time.Time { return now })
	ctx := context.Background()
	rec := func(id string) store.Conversation {
		return store.Conversation{CallID: id, Owner: "o", LeaseUntil: now.Add(time.Minute), Expires: now.Add(time.Hour)}
	}
	for i := range sweepEvery / 2 {
		if _, _, err := s.ClaimConversation(ctx, rec(fmt.Sprint("old-", i)), now); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(2 * time.Hour) // the old records expired, unread
	for i := range sweepEvery / 2 {
		if _, _, err := s.ClaimConversation(ctx, rec(fmt.Sprint("new-", i)), now); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.records); n != sweepEvery/2 {
		t.Errorf("%d records kept, want the %d live ones", n, sweepEvery/2)
	}
}
