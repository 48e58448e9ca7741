package dialogflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/tenant"
)

// Action is what a reconcile did.
type Action string

// The actions.
const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
)

// ErrAmbiguous reports several profiles with the tenant's display name and
// none recorded for the tenant: routebot will not guess which one it owns.
var ErrAmbiguous = errors.New("several conversation profiles have the display name")

// Reconciler keeps each tenant's conversation profile in line with the
// tenant's profile settings.
type Reconciler struct {
	clients *Clients
	tenants store.Tenants
	names   store.ProfileNames
	project string
}

// NewReconciler reconciles the profiles of tenants (read from tenants),
// recording their names in names. project is where profiles live when a
// tenant names none (ROUTEBOT_DIALOGFLOW_PROJECT).
func NewReconciler(clients *Clients, tenants store.Tenants, names store.ProfileNames, project string) *Reconciler {
	return &Reconciler{clients: clients, tenants: tenants, names: names, project: project}
}

// Outcome is what Apply did.
type Outcome struct {
	Action  Action
	Name    string   // the profile's resource name
	Changed []string // Updated: the fields the update mask named
	Profile *dialogflowpb.ConversationProfile
}

// Report is a profile as Dialogflow has it and how it drifted from the
// tenant's settings.
type Report struct {
	Name    string // "" when the profile does not exist yet
	Want    *dialogflowpb.ConversationProfile
	Have    *dialogflowpb.ConversationProfile // nil when it does not exist
	Drift   []string                          // the fields Apply would update; every field when it would create
	Missing bool                              // Apply would create it
}

// target is one tenant's reconcile: where, what, and the state found.
type target struct {
	tenantID string
	parent   string // projects/P/locations/L
	set      *Set
	want     *dialogflowpb.ConversationProfile
	have     *dialogflowpb.ConversationProfile
}

// Apply creates the tenant's profile, or updates exactly the fields that
// drifted, or does nothing; the profile's name is recorded for the tenant.
// Errors: store.ErrNotFound (unknown tenant), *tenant.Error (invalid
// settings), *CallError (Dialogflow refused or failed), ErrAmbiguous.
func (r *Reconciler) Apply(ctx context.Context, tenantID string) (Outcome, error) {
	t, err := r.find(ctx, tenantID)
	if err != nil {
		return Outcome{}, err
	}
	var out Outcome
	switch {
	case t.have == nil:
		p, err := t.set.Profiles.CreateConversationProfile(ctx, &dialogflowpb.CreateConversationProfileRequest{
			Parent: t.parent, ConversationProfile: t.want,
		}, noRetry()) // a retried create that had succeeded would leave two profiles
		if err != nil {
			return Outcome{}, callError("CreateConversationProfile", t.parent, err)
		}
		out = Outcome{Action: Created, Name: p.GetName(), Profile: p}
	default:
		changed := Drift(t.want, t.have)
		if len(changed) == 0 {
			out = Outcome{Action: Unchanged, Name: t.have.GetName(), Profile: t.have}
			break
		}
		upd := proto.Clone(t.want).(*dialogflowpb.ConversationProfile)
		upd.Name = t.have.GetName()
		p, err := t.set.Profiles.UpdateConversationProfile(ctx, &dialogflowpb.UpdateConversationProfileRequest{
			ConversationProfile: upd, UpdateMask: &fieldmaskpb.FieldMask{Paths: changed},
		}, retry())
		if err != nil {
			return Outcome{}, callError("UpdateConversationProfile", upd.Name, err)
		}
		out = Outcome{Action: Updated, Name: p.GetName(), Changed: changed, Profile: p}
	}
	if out.Name == "" {
		return Outcome{}, &CallError{Call: "CreateConversationProfile", Resource: t.parent, Code: codes.Internal,
			Err: errors.New("the answer has no profile name")}
	}
	if err := r.names.SetProfileName(ctx, tenantID, out.Name); err != nil {
		return Outcome{}, fmt.Errorf("dialogflow: record profile %s of tenant %q: %w", out.Name, tenantID, err)
	}
	return out, nil
}

// Diff reports the tenant's profile and its drift, writing nothing.
func (r *Reconciler) Diff(ctx context.Context, tenantID string) (Report, error) {
	t, err := r.find(ctx, tenantID)
	if err != nil {
		return Report{}, err
	}
	if t.have == nil {
		return Report{Want: t.want, Drift: Drift(t.want, &dialogflowpb.ConversationProfile{}), Missing: true}, nil
	}
	return Report{Name: t.have.GetName(), Want: t.want, Have: t.have, Drift: Drift(t.want, t.have)}, nil
}

// find reads the tenant's settings and its profile as Dialogflow has it: the
// one recorded for the tenant, else the one with its display name.
func (r *Reconciler) find(ctx context.Context, tenantID string) (*target, error) {
	files, err := r.tenants.Files(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("dialogflow: tenant %q: %w", tenantID, err)
	}
	ten, err := tenant.Parse(files)
	if err != nil {
		return nil, fmt.Errorf("dialogflow: tenant %q: %w", tenantID, err)
	}
	spec := ten.Profile
	project := cmp.Or(spec.Project, r.project)
	if project == "" {
		return nil, fmt.Errorf("dialogflow: tenant %q: %w", tenantID, &tenant.Error{Problems: []tenant.Problem{{
			File: tenantID + "/" + tenant.TenantFile, Msg: "profile.project is unset and the deployment has no ROUTEBOT_DIALOGFLOW_PROJECT",
		}}})
	}
	location := cmp.Or(spec.Location, GlobalLocation)
	want, err := Desired(tenantID, spec)
	if err != nil {
		return nil, err
	}
	set, err := r.clients.For(ctx, location)
	if err != nil {
		return nil, err
	}
	t := &target{tenantID: tenantID, parent: "projects/" + project + "/locations/" + location, set: set, want: want}

	// The recorded name wins while it is under the settings' project and
	// location; a moved profile is looked up (or created) where it now is.
	name, err := r.names.ProfileName(ctx, tenantID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("dialogflow: profile name of tenant %q: %w", tenantID, err)
	case strings.HasPrefix(name, t.parent+"/conversationProfiles/"):
		p, err := set.Profiles.GetConversationProfile(ctx, &dialogflowpb.GetConversationProfileRequest{Name: name}, retry())
		switch {
		case err == nil:
			t.have = p
			return t, nil
		case codeOf(err) != codes.NotFound: // deleted by hand: find or create it again
			return nil, callError("GetConversationProfile", name, err)
		}
	}
	it := set.Profiles.ListConversationProfiles(ctx, &dialogflowpb.ListConversationProfilesRequest{Parent: t.parent, PageSize: 100}, retry())
	for {
		p, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, callError("ListConversationProfiles", t.parent, err)
		}
		if p.GetDisplayName() != want.DisplayName {
			continue
		}
		if t.have != nil {
			return nil, fmt.Errorf("dialogflow: tenant %q: %w %q under %s (%s, %s): delete or rename all but one", tenantID, ErrAmbiguous, want.DisplayName, t.parent, t.have.GetName(), p.GetName())
		}
		t.have = p
	}
	return t, nil
}
