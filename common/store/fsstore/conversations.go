package fsstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/routebot/routebot/common/store"
)

// conversationDoc is conversations/{callDocID}: a call's Dialogflow
// conversation (store.Conversation). expires is the collection's TTL field.
type conversationDoc struct {
	CallID       string            `firestore:"callId"`
	TenantID     string            `firestore:"tenant"`
	Profile      string            `firestore:"profile"`
	Name         string            `firestore:"name"`
	Participants map[string]string `firestore:"participants"`
	Ready        bool              `firestore:"ready"`
	Completed    bool              `firestore:"completed"`
	Owner        string            `firestore:"owner"`
	LeaseUntil   time.Time         `firestore:"leaseUntil"`
	Expires      time.Time         `firestore:"expires"`
}

func toConversationDoc(c store.Conversation) conversationDoc {
	return conversationDoc{CallID: c.CallID, TenantID: c.TenantID, Profile: c.Profile, Name: c.Name,
		Participants: c.Participants, Ready: c.Ready, Completed: c.Completed, Owner: c.Owner,
		LeaseUntil: c.LeaseUntil, Expires: c.Expires}
}

func (d conversationDoc) conversation() store.Conversation {
	p := d.Participants
	if p == nil {
		p = map[string]string{}
	}
	return store.Conversation{CallID: d.CallID, TenantID: d.TenantID, Profile: d.Profile, Name: d.Name,
		Participants: p, Ready: d.Ready, Completed: d.Completed, Owner: d.Owner,
		LeaseUntil: d.LeaseUntil, Expires: d.Expires}
}

// profileDoc is profiles/{tenantId}: the tenant's conversation profile.
type profileDoc struct {
	Name    string    `firestore:"name"`
	Updated time.Time `firestore:"updated"`
}

func (s *Store) conversations() *firestore.CollectionRef { return s.collection("conversations") }
func (s *Store) profiles() *firestore.CollectionRef      { return s.collection("profiles") }

var _ store.Conversations = (*Store)(nil)
var _ store.ProfileNames = (*Store)(nil)

// errKept ends a transaction that found a record to keep.
var errKept = errors.New("record kept")

// ClaimConversation implements store.Conversations. The first claim is a
// Create, which fails for every other claimant at once (a transaction would
// make them contend for the document's lock); only taking over a lapsed
// claim needs a transaction.
func (s *Store) ClaimConversation(ctx context.Context, c store.Conversation, now time.Time) (store.Conversation, bool, error) {
	op := "claim conversation " + c.CallID
	if err := cancelled(ctx, op); err != nil {
		return store.Conversation{}, false, err
	}
	ref := s.conversations().Doc(callDocID(c.CallID))
	_, err := ref.Create(ctx, toConversationDoc(c))
	switch {
	case err == nil:
		return c, true, nil
	case status.Code(err) != codes.AlreadyExists:
		return store.Conversation{}, false, s.unavailable(ctx, op, err)
	}
	var cur store.Conversation
	err = s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil && !notFound(err) {
			return err
		}
		if err == nil {
			var d conversationDoc
			if err := snap.DataTo(&d); err != nil {
				return err
			}
			live := d.Expires.IsZero() || now.Before(d.Expires)
			if live && (d.Ready || d.Completed || now.Before(d.LeaseUntil)) {
				cur = d.conversation()
				return errKept
			}
		}
		cur = c
		return tx.Set(ref, toConversationDoc(c))
	}, firestore.MaxAttempts(s.opts.MaxAttempts))
	switch {
	case errors.Is(err, errKept):
		return cur, false, nil
	case err != nil:
		return store.Conversation{}, false, s.unavailable(ctx, op, err)
	}
	return cur, true, nil
}

// SaveConversation implements store.Conversations.
func (s *Store) SaveConversation(ctx context.Context, c store.Conversation) error {
	op := "save conversation " + c.CallID
	if err := cancelled(ctx, op); err != nil {
		return err
	}
	ref := s.conversations().Doc(callDocID(c.CallID))
	err := s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if notFound(err) {
			return store.ErrNotOwner
		}
		if err != nil {
			return err
		}
		var d conversationDoc
		if err := snap.DataTo(&d); err != nil {
			return err
		}
		if d.Owner != c.Owner {
			return store.ErrNotOwner
		}
		return tx.Set(ref, toConversationDoc(c))
	}, firestore.MaxAttempts(s.opts.MaxAttempts))
	switch {
	case errors.Is(err, store.ErrNotOwner):
		return fmt.Errorf("firestore: %s: %w", op, store.ErrNotOwner)
	case err != nil:
		return s.unavailable(ctx, op, err)
	}
	return nil
}

// GetConversation implements store.Conversations.
func (s *Store) GetConversation(ctx context.Context, callID string) (store.Conversation, error) {
	op := "get conversation " + callID
	if err := cancelled(ctx, op); err != nil {
		return store.Conversation{}, err
	}
	snap, err := s.conversations().Doc(callDocID(callID)).Get(ctx)
	if notFound(err) {
		return store.Conversation{}, fmt.Errorf("firestore: %s: %w", op, store.ErrNotFound)
	}
	if err != nil {
		return store.Conversation{}, s.unavailable(ctx, op, err)
	}
	var d conversationDoc
	if err := snap.DataTo(&d); err != nil {
		return store.Conversation{}, s.unavailable(ctx, op, err)
	}
	// The TTL deletes expired documents within a day or so; until then they are gone all the same.
	if !d.Expires.IsZero() && !time.Now().Before(d.Expires) {
		return store.Conversation{}, fmt.Errorf("firestore: %s: %w", op, store.ErrNotFound)
	}
	return d.conversation(), nil
}

// ProfileName implements store.ProfileNames.
func (s *Store) ProfileName(ctx context.Context, tenantID string) (string, error) {
	op := "profile name of tenant " + tenantID
	if err := cancelled(ctx, op); err != nil {
		return "", err
	}
	snap, err := s.profiles().Doc(tenantID).Get(ctx)
	if notFound(err) {
		return "", fmt.Errorf("firestore: %s: %w", op, store.ErrNotFound)
	}
	if err != nil {
		return "", s.unavailable(ctx, op, err)
	}
	var d profileDoc
	if err := snap.DataTo(&d); err != nil {
		return "", s.unavailable(ctx, op, err)
	}
	return d.Name, nil
}

// SetProfileName implements store.ProfileNames.
func (s *Store) SetProfileName(ctx context.Context, tenantID, name string) error {
	op := "set profile name of tenant " + tenantID
	if err := cancelled(ctx, op); err != nil {
		return err
	}
	if _, err := s.profiles().Doc(tenantID).Set(ctx, profileDoc{Name: name, Updated: time.Now().UTC()}); err != nil {
		return s.unavailable(ctx, op, err)
	}
	return nil
}
