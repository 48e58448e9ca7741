package stream

import (
	"context"
	"errors"
	"fmt"

	"github.com/routebot/routebot/common/dialogflow"
	"github.com/routebot/routebot/common/store"
)

// Lifecycle is the call → conversation lifecycle (*dialogflow.Lifecycle).
type Lifecycle interface {
	Open(ctx context.Context, tenantID, callID string) (dialogflow.Call, error)
	Complete(ctx context.Context, callID string) error
}

// Endpoints gives the clients of a location's endpoint (*dialogflow.Clients).
type Endpoints interface {
	For(ctx context.Context, location string) (*dialogflow.Set, error)
}

// Bots finds the tenant a chatBotKey belongs to, or store.ErrNotFound.
type Bots interface {
	TenantOfBot(ctx context.Context, chatBotKey string) (string, error)
}

// DialogflowConversations is Conversations on common/dialogflow: the bot's
// tenant, the call's conversation with that tenant's profile, and the
// Participants client of the conversation's location.
func DialogflowConversations(l Lifecycle, e Endpoints, bots Bots) Conversations {
	return dfConversations{l, e, bots}
}

type dfConversations struct {
	lifecycle Lifecycle
	endpoints Endpoints
	bots      Bots
}

func (c dfConversations) Participant(ctx context.Context, callID, chatBotKey, role string) (Participant, error) {
	tenantID, err := c.bots.TenantOfBot(ctx, chatBotKey)
	if errors.Is(err, store.ErrNotFound) {
		return Participant{}, fmt.Errorf("stream: chatBotKey %q: %w", chatBotKey, ErrUnknownBot)
	} else if err != nil {
		return Participant{}, fmt.Errorf("stream: tenant of chatBotKey %q: %w", chatBotKey, err)
	}
	call, err := c.lifecycle.Open(ctx, tenantID, callID)
	switch {
	case errors.Is(err, dialogflow.ErrNoProfile):
		return Participant{}, fmt.Errorf("stream: %w: %w", ErrNoProfile, err)
	case errors.Is(err, dialogflow.ErrCompleted):
		return Participant{}, fmt.Errorf("stream: %w: %w", ErrCompleted, err)
	case err != nil:
		return Participant{}, fmt.Errorf("stream: %w", err)
	}
	name := call.EndUser
	if role == RoleHumanAgent {
		name = call.HumanAgent
	}
	if name == "" {
		return Participant{}, fmt.Errorf("stream: call %q's conversation %s has no %s participant", callID, call.Conversation, role)
	}
	set, err := c.endpoints.For(ctx, call.Location)
	if err != nil {
		return Participant{}, fmt.Errorf("stream: Dialogflow clients of %s: %w", call.Location, err)
	}
	return Participant{Name: name, Client: set.Participants}, nil
}

func (c dfConversations) Complete(ctx context.Context, callID string) error {
	return c.lifecycle.Complete(ctx, callID)
}
