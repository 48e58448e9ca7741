// Package dialogflow is the seam every Dialogflow use of routebot goes
// through (cloud.google.com/go/dialogflow/apiv2beta1): clients per endpoint,
// the regional endpoint rule, each tenant's conversation profile, and the
// conversation lifecycle of a call.
//
// Clients and endpoints:
//
//   - Endpoint(location) is "dialogflow.googleapis.com:443" for "" and
//     "global", "{location}-dialogflow.googleapis.com:443" otherwise: a
//     regional resource must be called on its regional host.
//   - NewClients(Options) caches one Set (ConversationProfiles,
//     Conversations, Participants clients) per endpoint; Clients.For(ctx,
//     location) builds it on first use. Options.Endpoint
//     (ROUTEBOT_DIALOGFLOW_ENDPOINT) overrides every location's endpoint; a
//     loopback host:port is dialled in plaintext without credentials.
//     Clients.ClientOptions(ctx, location) gives another client (the v2
//     Sessions client of the DetectIntent classifier) the same endpoint.
//   - Failed calls are *CallError{Call, Resource, Code}; Code(err) extracts
//     the gRPC code.
//
// Profiles:
//
//   - Desired(tenantID, tenant.ProfileSpec) is the ConversationProfile a
//     tenant's settings describe, use_bidi_streaming always true;
//     Drift(want, have) names the ManagedFields that differ.
//   - NewReconciler(clients, tenants, names, project): Apply(ctx, tenantID)
//     creates the profile, updates exactly the drifted fields (the update
//     mask), or writes nothing, and records the profile's name
//     (store.ProfileNames); Diff(ctx, tenantID) reports drift, writing
//     nothing.
//
// Conversation lifecycle (for the stream service):
//
//   - NewLifecycle(clients, records store.Conversations, names
//     store.ProfileNames, LifecycleOptions).
//   - Open(ctx, tenantID, callID) returns the call's Call: the conversation
//     created with the tenant's recorded profile and its END_USER and
//     HUMAN_AGENT participants, created once per CallId even when legs or
//     instances race (an in-process single flight, the store's claim, and a
//     conversation id derived from the CallId, ConversationID). Stream with
//     clients.For(ctx, call.Location) → Participants.BidiStreamingAnalyzeContent
//     using call.EndUser or call.HumanAgent.
//   - Complete(ctx, callID) completes the conversation when the call ends.
//   - ErrNoProfile: the tenant's profile was never applied; ErrCompleted:
//     the call's conversation is already completed.
package dialogflow
