package dialogflow

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"

	"github.com/routebot/routebot/common/store"
)

// The participant roles a call's conversation gets.
const (
	EndUser    = "END_USER"
	HumanAgent = "HUMAN_AGENT"
)

var roles = []string{EndUser, HumanAgent}

var (
	// ErrNoProfile reports a tenant whose conversation profile was never
	// applied (PUT /tenants/{id}/profile).
	ErrNoProfile = errors.New("the tenant has no conversation profile")
	// ErrCompleted reports a call whose conversation is already completed.
	ErrCompleted = errors.New("the call's conversation is completed")
)

// Call is a call's conversation and participants, ready for
// BidiStreamingAnalyzeContent on Clients.For(ctx, Location).Participants.
type Call struct {
	CallID       string
	TenantID     string
	Profile      string // conversation profile resource name
	Conversation string // conversation resource name
	Location     string // of the conversation: choose the endpoint with it
	EndUser      string // END_USER participant resource name
	HumanAgent   string // HUMAN_AGENT participant resource name
}

// LifecycleOptions tune a Lifecycle; zero values take the defaults.
type LifecycleOptions struct {
	Lease time.Duration // how long a claim lasts before another process may take over (30 s)
	TTL   time.Duration // how long a call's record is kept (24 h)
	Poll  time.Duration // how often a waiter re-reads a record being created (100 ms)
	Now   func() time.Time
}

// Lifecycle creates each call's conversation and participants once, even
// when two legs of the call (or two instances) ask at the same moment, and
// completes it. It is safe for concurrent use.
type Lifecycle struct {
	clients  *Clients
	records  store.Conversations
	profiles store.ProfileNames
	opts     LifecycleOptions

	mu      sync.Mutex
	opening map[string]*opening // callID → the one Open in flight in this process
}

type opening struct {
	done chan struct{}
	call Call
	err  error
}

// NewLifecycle returns a Lifecycle creating conversations through clients,
// keeping the CallId mapping in records and finding tenants' profiles in
// profiles.
func NewLifecycle(clients *Clients, records store.Conversations, profiles store.ProfileNames, opts LifecycleOptions) *Lifecycle {
	opts.Lease = cmp.Or(opts.Lease, 30*time.Second)
	opts.TTL = cmp.Or(opts.TTL, 24*time.Hour)
	opts.Poll = cmp.Or(opts.Poll, 100*time.Millisecond)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Lifecycle{clients: clients, records: records, profiles: profiles, opts: opts, opening: map[string]*opening{}}
}

// ConversationID is the conversation id routebot gives the call: derived
// from the tenant and CallId, so that a retried or racing create names the
// same conversation (Dialogflow answers ALREADY_EXISTS), and of the form
// Dialogflow accepts ([a-zA-Z][a-zA-Z0-9_-]{2,63}) whatever the CallId holds.
func ConversationID(tenantID, callID string) string {
	sum := sha256.Sum256([]byte(tenantID + "\x00" + callID))
	return "rb-" + hex.EncodeToString(sum[:16])
}

// Open returns the call's conversation and participants, creating what is
// missing with the tenant's profile. Concurrent Opens of one call in this
// process share one attempt; across processes the store's claim decides
// which one creates and the others wait for its record.
func (l *Lifecycle) Open(ctx context.Context, tenantID, callID string) (Call, error) {
	if callID == "" || tenantID == "" {
		return Call{}, errors.New("dialogflow: open conversation: tenant and CallId are required")
	}
	l.mu.Lock()
	if op, ok := l.opening[callID]; ok {
		l.mu.Unlock()
		select {
		case <-op.done:
			if op.err == nil && op.call.TenantID != tenantID {
				return Call{}, fmt.Errorf("dialogflow: open conversation of call %q: it belongs to tenant %q, not %q", callID, op.call.TenantID, tenantID)
			}
			return op.call, op.err
		case <-ctx.Done():
			return Call{}, fmt.Errorf("dialogflow: open conversation of call %q: %w", callID, ctx.Err())
		}
	}
	op := &opening{done: make(chan struct{})}
	l.opening[callID] = op
	l.mu.Unlock()

	op.call, op.err = l.open(ctx, tenantID, callID)
	l.mu.Lock()
	delete(l.opening, callID)
	l.mu.Unlock()
	close(op.done)
	return op.call, op.err
}

func (l *Lifecycle) open(ctx context.Context, tenantID, callID string) (Call, error) {
	for {
		rec, err := l.records.GetConversation(ctx, callID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return Call{}, fmt.Errorf("dialogflow: open conversation of call %q: %w", callID, err)
		default:
			if done, call, err := l.settled(rec, tenantID); done {
				return call, err
			}
		}
		if rec.Owner == "" || !l.opts.Now().Before(rec.LeaseUntil) {
			profile, err := l.profiles.ProfileName(ctx, tenantID)
			if errors.Is(err, store.ErrNotFound) {
				return Call{}, fmt.Errorf("dialogflow: open conversation of call %q: tenant %q: %w", callID, tenantID, ErrNoProfile)
			}
			if err != nil {
				return Call{}, fmt.Errorf("dialogflow: open conversation of call %q: profile of tenant %q: %w", callID, tenantID, err)
			}
			parent, err := parentOf(profile)
			if err != nil {
				return Call{}, err
			}
			now := l.opts.Now()
			want := store.Conversation{
				CallID: callID, TenantID: tenantID, Profile: profile,
				Name:         parent + "/conversations/" + ConversationID(tenantID, callID),
				Participants: map[string]string{},
				Owner:        newOwner(), LeaseUntil: now.Add(l.opts.Lease), Expires: now.Add(l.opts.TTL),
			}
			cur, claimed, err := l.records.ClaimConversation(ctx, want, now)
			if err != nil {
				return Call{}, fmt.Errorf("dialogflow: open conversation of call %q: claim: %w", callID, err)
			}
			if claimed {
				call, err := l.create(ctx, cur)
				if err != nil && !errors.Is(err, store.ErrNotOwner) {
					l.release(ctx, cur)
				}
				return call, err
			}
			if done, call, err := l.settled(cur, tenantID); done {
				return call, err
			}
		}
		// Another process is creating it: wait for its record.
		select {
		case <-time.After(l.opts.Poll):
		case <-ctx.Done():
			return Call{}, fmt.Errorf("dialogflow: open conversation of call %q: waiting for its creator: %w", callID, ctx.Err())
		}
	}
}

// settled reports whether rec ends an Open: ready, completed, or another
// tenant's.
func (l *Lifecycle) settled(rec store.Conversation, tenantID string) (bool, Call, error) {
	switch {
	case rec.TenantID != tenantID:
		return true, Call{}, fmt.Errorf("dialogflow: open conversation of call %q: it belongs to tenant %q, not %q", rec.CallID, rec.TenantID, tenantID)
	case rec.Completed:
		return true, Call{}, fmt.Errorf("dialogflow: open conversation of call %q: %w", rec.CallID, ErrCompleted)
	case rec.Ready:
		return true, callOf(rec), nil
	}
	return false, Call{}, nil
}

// create makes the claimed record's conversation and participants. Each
// step finds what an earlier owner may have made before its lease ran out,
// so a takeover creates nothing twice.
func (l *Lifecycle) create(ctx context.Context, rec store.Conversation) (Call, error) {
	parent, err := parentOf(rec.Name)
	if err != nil {
		return Call{}, err
	}
	set, err := l.clients.For(ctx, locationOf(parent))
	if err != nil {
		return Call{}, err
	}
	id := rec.Name[strings.LastIndexByte(rec.Name, '/')+1:]
	conv, err := set.Conversations.CreateConversation(ctx, &dialogflowpb.CreateConversationRequest{
		Parent:         parent,
		Conversation:   &dialogflowpb.Conversation{ConversationProfile: rec.Profile},
		ConversationId: id,
	}, retry()) // the id makes a retry safe: a second create is ALREADY_EXISTS
	if codeOf(err) == codes.AlreadyExists {
		conv, err = set.Conversations.GetConversation(ctx, &dialogflowpb.GetConversationRequest{Name: rec.Name}, retry())
		if err != nil {
			return Call{}, callError("GetConversation", rec.Name, err)
		}
	} else if err != nil {
		return Call{}, callError("CreateConversation", parent, err)
	}
	if conv.GetLifecycleState() == dialogflowpb.Conversation_COMPLETED {
		return Call{}, fmt.Errorf("dialogflow: open conversation of call %q: %s: %w", rec.CallID, rec.Name, ErrCompleted)
	}
	rec.Name = cmp.Or(conv.GetName(), rec.Name)

	have := map[string]string{}
	it := set.Participants.ListParticipants(ctx, &dialogflowpb.ListParticipantsRequest{Parent: rec.Name}, retry())
	for {
		p, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return Call{}, callError("ListParticipants", rec.Name, err)
		}
		if role := p.GetRole().String(); have[role] == "" {
			have[role] = p.GetName()
		}
	}
	for _, role := range roles {
		if name := have[role]; name != "" {
			rec.Participants[role] = name
			continue
		}
		p, err := set.Participants.CreateParticipant(ctx, &dialogflowpb.CreateParticipantRequest{
			Parent:      rec.Name,
			Participant: &dialogflowpb.Participant{Role: dialogflowpb.Participant_Role(dialogflowpb.Participant_Role_value[role])},
		}, noRetry()) // a retried create that had succeeded would leave two participants
		if err != nil {
			return Call{}, callError("CreateParticipant", rec.Name+" "+role, err)
		}
		rec.Participants[role] = p.GetName()
	}
	rec.Ready = true
	if err := l.records.SaveConversation(ctx, rec); err != nil {
		if errors.Is(err, store.ErrNotOwner) { // our lease ran out and a taker-over found what we made
			return l.open(ctx, rec.TenantID, rec.CallID)
		}
		return Call{}, fmt.Errorf("dialogflow: open conversation of call %q: save: %w", rec.CallID, err)
	}
	return callOf(rec), nil
}

// release gives up a claim whose creation failed, so that the next Open
// (the leg's retry) takes over at once instead of waiting out the lease;
// what was made is found again then. Best effort: a lease that stays runs
// out anyway.
func (l *Lifecycle) release(ctx context.Context, rec store.Conversation) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	rec.LeaseUntil = time.Time{}
	_ = l.records.SaveConversation(ctx, rec)
}

// Complete completes the call's conversation (the call ended). Completing
// a completed call does nothing.
func (l *Lifecycle) Complete(ctx context.Context, callID string) error {
	rec, err := l.records.GetConversation(ctx, callID)
	if err != nil {
		return fmt.Errorf("dialogflow: complete conversation of call %q: %w", callID, err)
	}
	if rec.Completed {
		return nil
	}
	parent, err := parentOf(rec.Name)
	if err != nil {
		return err
	}
	set, err := l.clients.For(ctx, locationOf(parent))
	if err != nil {
		return err
	}
	_, err = set.Conversations.CompleteConversation(ctx, &dialogflowpb.CompleteConversationRequest{Name: rec.Name}, retry())
	// NOT_FOUND: the owner had claimed but not created it yet; nothing to complete.
	if err != nil && codeOf(err) != codes.NotFound {
		return callError("CompleteConversation", rec.Name, err)
	}
	rec.Completed = true
	if err := l.records.SaveConversation(ctx, rec); err != nil && !errors.Is(err, store.ErrNotOwner) {
		return fmt.Errorf("dialogflow: complete conversation of call %q: save: %w", callID, err)
	}
	return nil
}

func callOf(rec store.Conversation) Call {
	parent, _ := parentOf(rec.Name)
	return Call{CallID: rec.CallID, TenantID: rec.TenantID, Profile: rec.Profile, Conversation: rec.Name,
		Location: locationOf(parent), EndUser: rec.Participants[EndUser], HumanAgent: rec.Participants[HumanAgent]}
}

// parentOf returns "projects/P/locations/L" of a resource name under it.
func parentOf(name string) (string, error) {
	parts := strings.Split(name, "/")
	if len(parts) < 4 || parts[0] != "projects" || parts[1] == "" || parts[2] != "locations" || !ValidLocation(parts[3]) {
		return "", fmt.Errorf("dialogflow: resource name %q is not under projects/P/locations/L", name)
	}
	return strings.Join(parts[:4], "/"), nil
}

// locationOf is L of "projects/P/locations/L".
func locationOf(parent string) string { return parent[strings.LastIndexByte(parent, '/')+1:] }

func newOwner() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
