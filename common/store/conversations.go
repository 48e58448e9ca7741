package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotOwner reports a SaveConversation by a process whose claim on the
// call was taken over (its lease ran out): what it made is not kept.
var ErrNotOwner = errors.New("conversation claimed by another owner")

// Conversation is one call's Dialogflow conversation: which conversation the
// CallId maps to and its participants. A record is claimed by one owner,
// which creates the conversation and participants and saves them (Ready);
// everyone else waits for that record.
type Conversation struct {
	CallID   string
	TenantID string
	Profile  string // conversation profile resource name the conversation was created with
	Name     string // conversation resource name; known before it is created (a deterministic id)
	// Participants maps a role (END_USER, HUMAN_AGENT) to its participant's
	// resource name.
	Participants map[string]string
	Ready        bool // the conversation and every participant exist
	Completed    bool // CompleteConversation succeeded

	// Owner and LeaseUntil are the claim: Owner creates what is missing
	// until LeaseUntil, after which another process may take over.
	Owner      string
	LeaseUntil time.Time
	Expires    time.Time // the record may be deleted after this (a TTL, as for sessions)
}

// Conversations keeps the CallId → conversation mapping.
type Conversations interface {
	// ClaimConversation atomically returns the call's record (claimed=false)
	// or, when there is none or its owner's lease ran out before it was
	// Ready, stores c as the record (claimed=true) and returns it.
	ClaimConversation(ctx context.Context, c Conversation, now time.Time) (cur Conversation, claimed bool, err error)
	// SaveConversation replaces the call's record by c if c.Owner still owns
	// it, else fails with ErrNotOwner.
	SaveConversation(ctx context.Context, c Conversation) error
	// GetConversation returns the call's record, or ErrNotFound.
	GetConversation(ctx context.Context, callID string) (Conversation, error)
}

// ProfileNames keeps, per tenant, the resource name of the Dialogflow
// conversation profile the profile function manages for it.
type ProfileNames interface {
	// ProfileName returns the tenant's profile name, or ErrNotFound.
	ProfileName(ctx context.Context, tenantID string) (string, error)
	// SetProfileName records the tenant's profile name.
	SetProfileName(ctx context.Context, tenantID, name string) error
}
