package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/routebot/routebot/common/store"
)

// ConversationStore is what RunConversations exercises: the CallId →
// conversation mapping and the tenants' profile names.
type ConversationStore interface {
	store.Conversations
	store.ProfileNames
}

// RunConversations is the conformance suite of store.Conversations and
// store.ProfileNames; newStore returns an empty, isolated store.
func RunConversations(t *testing.T, newStore func(t *testing.T) ConversationStore) {
	ctx := context.Background()
	base := now()
	record := func(callID, owner string, lease time.Duration) store.Conversation {
		return store.Conversation{
			CallID: callID, TenantID: "nexus", Profile: "projects/p/locations/global/conversationProfiles/x",
			Name:         "projects/p/locations/global/conversations/rb-" + callID,
			Participants: map[string]string{}, Owner: owner,
			LeaseUntil: base.Add(lease), Expires: base.Add(time.Hour),
		}
	}
	same := func(t *testing.T, got, want store.Conversation) {
		t.Helper()
		if got.CallID != want.CallID || got.TenantID != want.TenantID || got.Profile != want.Profile || got.Name != want.Name ||
			got.Ready != want.Ready || got.Completed != want.Completed || got.Owner != want.Owner ||
			!got.LeaseUntil.Equal(want.LeaseUntil) || !got.Expires.Equal(want.Expires) || !maps.Equal(got.Participants, want.Participants) {
			t.Errorf("record = %+v, want %+v", got, want)
		}
	}

	t.Run("claim, wait, save", func(t *testing.T) {
		st := newStore(t)
		if _, err := st.GetConversation(ctx, "C1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetConversation of an unknown call = %v, want ErrNotFound", err)
		}
		a := record("C1", "owner-a", time.Minute)
		cur, claimed, err := st.ClaimConversation(ctx, a, base)
		if err != nil || !claimed {
			t.Fatalf("first claim = %v, %v", claimed, err)
		}
		same(t, cur, a)
		cur, claimed, err = st.ClaimConversation(ctx, record("C1", "owner-b", time.Minute), base.Add(time.Second))
		if err != nil || claimed {
			t.Fatalf("claim while leased = %v, %v; want the first owner's record", claimed, err)
		}
		same(t, cur, a)
		if err := st.SaveConversation(ctx, record("C1", "owner-b", time.Minute)); !errors.Is(err, store.ErrNotOwner) {
			t.Errorf("save by a non-owner = %v, want ErrNotOwner", err)
		}
		ready := a
		ready.Participants = map[string]string{"END_USER": a.Name + "/participants/1", "HUMAN_AGENT": a.Name + "/participants/2"}
		ready.Ready = true
		if err := st.SaveConversation(ctx, ready); err != nil {
			t.Fatal(err)
		}
		got, err := st.GetConversation(ctx, "C1")
		if err != nil {
			t.Fatal(err)
		}
		same(t, got, ready)
		// A ready record is never taken over, however old its lease.
		cur, claimed, err = st.ClaimConversation(ctx, record("C1", "owner-c", time.Minute), base.Add(time.Hour/2))
		if err != nil || claimed {
			t.Fatalf("claim of a ready record = %v, %v", claimed, err)
		}
		same(t, cur, ready)
	})

	t.Run("a lapsed claim is taken over", func(t *testing.T) {
		st := newStore(t)
		a := record("C2", "owner-a", time.Second)
		if _, claimed, err := st.ClaimConversation(ctx, a, base); err != nil || !claimed {
			t.Fatalf("claim = %v, %v", claimed, err)
		}
		b := record("C2", "owner-b", time.Minute)
		cur, claimed, err := st.ClaimConversation(ctx, b, base.Add(2*time.Second))
		if err != nil || !claimed {
			t.Fatalf("claim after the lease = %v, %v", claimed, err)
		}
		same(t, cur, b)
		a.Ready = true
		if err := st.SaveConversation(ctx, a); !errors.Is(err, store.ErrNotOwner) {
			t.Errorf("save by the lapsed owner = %v, want ErrNotOwner", err)
		}
	})

	t.Run("racing claims: one wins", func(t *testing.T) {
		st := newStore(t)
		const n = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		winners, owners := 0, map[string]bool{}
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cur, claimed, err := st.ClaimConversation(ctx, record("C3/with:odd chars", fmt.Sprintf("owner-%d", i), time.Minute), base)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if claimed {
					winners++
				}
				owners[cur.Owner] = true
			}()
		}
		wg.Wait()
		if winners != 1 || len(owners) != 1 {
			t.Errorf("%d claims won, %d owners seen; want 1 and 1", winners, len(owners))
		}
	})

	t.Run("expired records are gone", func(t *testing.T) {
		st := newStore(t)
		old := record("C4", "owner-a", time.Minute)
		old.Expires = time.Now().Add(-time.Minute)
		old.LeaseUntil = time.Now().Add(-2 * time.Minute)
		if _, claimed, err := st.ClaimConversation(ctx, old, time.Now().Add(-3*time.Minute)); err != nil || !claimed {
			t.Fatalf("claim = %v, %v", claimed, err)
		}
		if _, err := st.GetConversation(ctx, "C4"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetConversation of an expired record = %v, want ErrNotFound", err)
		}
	})

	t.Run("profile names", func(t *testing.T) {
		st := newStore(t)
		if _, err := st.ProfileName(ctx, "nexus"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ProfileName of a new tenant = %v, want ErrNotFound", err)
		}
		for _, name := range []string{"projects/p/locations/global/conversationProfiles/a", "projects/p/locations/europe-west3/conversationProfiles/b"} {
			if err := st.SetProfileName(ctx, "nexus", name); err != nil {
				t.Fatal(err)
			}
			if got, err := st.ProfileName(ctx, "nexus"); err != nil || got != name {
				t.Errorf("ProfileName = %q, %v; want %q", got, err, name)
			}
		}
		if _, err := st.ProfileName(ctx, "hanbit"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another tenant's name leaked: %v", err)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		st := newStore(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, _, err := st.ClaimConversation(cctx, record("C5", "o", time.Minute), base); !errors.Is(err, context.Canceled) {
			t.Errorf("ClaimConversation = %v, want context.Canceled", err)
		}
		if _, err := st.GetConversation(cctx, "C5"); !errors.Is(err, context.Canceled) {
			t.Errorf("GetConversation = %v", err)
		}
		if err := st.SetProfileName(cctx, "nexus", "x"); !errors.Is(err, context.Canceled) {
			t.Errorf("SetProfileName = %v", err)
		}
	})
}
