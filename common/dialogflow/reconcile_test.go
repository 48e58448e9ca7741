package dialogflow_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	pb "cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/routebot/routebot/common/dialogflow"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/store/memstore"
	"github.com/routebot/routebot/common/tenant"
	"github.com/routebot/routebot/examples"
	"github.com/routebot/routebot/internal/dialogflowfake"
)

const project = "acme-cc"

// fakes serves one fake per endpoint and records which endpoints were dialled.
type fakes struct {
	t      *testing.T
	mu     sync.Mutex
	by     map[string]*dialogflowfake.Server // endpoint → fake
	dialed []string
}

func newFakes(t *testing.T, endpoints ...string) *fakes {
	f := &fakes{t: t, by: map[string]*dialogflowfake.Server{}}
	for _, e := range endpoints {
		loc := "global"
		if host, ok := strings.CutSuffix(e, "-dialogflow.googleapis.com:443"); ok {
			loc = host
		}
		f.by[e] = dialogflowfake.NewAt(loc)
	}
	return f
}

func (f *fakes) clients() *dialogflow.Clients {
	c, err := dialogflow.NewClients(dialogflow.Options{Dial: func(_ context.Context, endpoint string) (*grpc.ClientConn, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.dialed = append(f.dialed, endpoint)
		fake, ok := f.by[endpoint]
		if !ok {
			return nil, errors.New("no fake serves " + endpoint)
		}
		return fake.Dial(f.t), nil
	}})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = c.Close() }) // grpctest has closed the connections (TestLoopbackEndpoint checks Close)
	return c
}

const global = "dialogflow.googleapis.com:443"

// nexusWith returns the demo tenant nexus with its profile: section replaced.
func nexusWith(t testing.TB, profileYAML string) store.TenantFiles {
	t.Helper()
	tfs, err := tenant.ReadFS(examples.Tenants, "tenants")
	if err != nil {
		t.Fatal(err)
	}
	for _, tf := range tfs {
		if tf.ID != "nexus" {
			continue
		}
		y := string(tf.Files[tenant.TenantFile])
		i := strings.Index(y, "\nprofile:")
		if i < 0 {
			t.Fatal("nexus tenant.yaml has no profile: section")
		}
		tf.Files[tenant.TenantFile] = []byte(y[:i+1] + profileYAML)
		return tf
	}
	t.Fatal("no demo tenant nexus")
	return store.TenantFiles{}
}

type env struct {
	tenants *memstore.Store
	names   *memstore.ProfileNames
	rec     *dialogflow.Reconciler
}

func newEnv(t *testing.T, f *fakes, profileYAML string) *env {
	t.Helper()
	e := &env{}
	e.tenants, e.names = memstoreWithNexus(t, profileYAML)
	e.rec = dialogflow.NewReconciler(f.clients(), e.tenants, e.names, project)
	return e
}

func memstoreWithNexus(t *testing.T, profileYAML string) (*memstore.Store, *memstore.ProfileNames) {
	t.Helper()
	e := &env{tenants: memstore.New(nil), names: memstore.NewProfileNames()}
	e.put(t, profileYAML)
	return e.tenants, e.names
}

func (e *env) put(t *testing.T, profileYAML string) {
	t.Helper()
	tf := nexusWith(t, profileYAML)
	parsed, err := tenant.Parse(tf)
	if err != nil {
		t.Fatalf("tenant.Parse: %v", err)
	}
	if _, _, err := e.tenants.PutTenant(context.Background(), tf, parsed.ScenarioCodes(), parsed.Customers); err != nil {
		t.Fatal(err)
	}
}

const fullProfile = `profile:
  displayName: nexus-agent-assist
  languageCode: ko-KR
  sttModel: telephony
  sampleRateHertz: 8000
  audioEncoding: AUDIO_ENCODING_LINEAR_16
  notifications:
    topic: projects/acme-cc/topics/conversation-events
  newMessageNotifications:
    topic: projects/acme-cc/topics/new-messages
    format: JSON
  humanAgentAssistant:
    notifications:
      topic: projects/acme-cc/topics/suggestions
    features:
      - type: ARTICLE_SUGGESTION
        knowledgeBases: [projects/acme-cc/locations/global/knowledgeBases/kb1]
        maxResults: 3
      - type: FAQ
        documents: [projects/acme-cc/locations/global/knowledgeBases/kb2/documents/d1]
        confidenceThreshold: 0.4
      - type: SMART_REPLY
      - type: CONVERSATION_SUMMARIZATION
  logging:
    stackdriver: true
`

func fullWant() *pb.ConversationProfile {
	json := pb.NotificationConfig_JSON
	return &pb.ConversationProfile{
		DisplayName:      "nexus-agent-assist",
		LanguageCode:     "ko-KR",
		TimeZone:         "Asia/Seoul",
		UseBidiStreaming: true,
		SttConfig:        &pb.SpeechToTextConfig{Model: "telephony", SampleRateHertz: 8000, AudioEncoding: pb.AudioEncoding_AUDIO_ENCODING_LINEAR_16},
		NotificationConfig: &pb.NotificationConfig{
			Topic: "projects/acme-cc/topics/conversation-events", MessageFormat: json,
		},
		NewMessageEventNotificationConfig: &pb.NotificationConfig{
			Topic: "projects/acme-cc/topics/new-messages", MessageFormat: json,
		},
		HumanAgentAssistantConfig: &pb.HumanAgentAssistantConfig{
			NotificationConfig: &pb.NotificationConfig{Topic: "projects/acme-cc/topics/suggestions", MessageFormat: json},
			HumanAgentSuggestionConfig: &pb.HumanAgentAssistantConfig_SuggestionConfig{
				FeatureConfigs: []*pb.HumanAgentAssistantConfig_SuggestionFeatureConfig{
					{
						SuggestionFeature: &pb.SuggestionFeature{Type: pb.SuggestionFeature_ARTICLE_SUGGESTION},
						QueryConfig: &pb.HumanAgentAssistantConfig_SuggestionQueryConfig{
							MaxResults: 3,
							QuerySource: &pb.HumanAgentAssistantConfig_SuggestionQueryConfig_KnowledgeBaseQuerySource_{
								KnowledgeBaseQuerySource: &pb.HumanAgentAssistantConfig_SuggestionQueryConfig_KnowledgeBaseQuerySource{
									KnowledgeBases: []string{"projects/acme-cc/locations/global/knowledgeBases/kb1"},
								},
							},
						},
					},
					{
						SuggestionFeature: &pb.SuggestionFeature{Type: pb.SuggestionFeature_FAQ},
						QueryConfig: &pb.HumanAgentAssistantConfig_SuggestionQueryConfig{
							ConfidenceThreshold: 0.4,
							QuerySource: &pb.HumanAgentAssistantConfig_SuggestionQueryConfig_DocumentQuerySource_{
								DocumentQuerySource: &pb.HumanAgentAssistantConfig_SuggestionQueryConfig_DocumentQuerySource{
									Documents: []string{"projects/acme-cc/locations/global/knowledgeBases/kb2/documents/d1"},
								},
							},
						},
					},
					{SuggestionFeature: &pb.SuggestionFeature{Type: pb.SuggestionFeature_SMART_REPLY}},
					{SuggestionFeature: &pb.SuggestionFeature{Type: pb.SuggestionFeature_CONVERSATION_SUMMARIZATION}},
				},
			},
		},
		LoggingConfig: &pb.LoggingConfig{EnableStackdriverLogging: true},
	}
}

func TestApplyCreatesThenLeavesAlone(t *testing.T) {
	f := newFakes(t, global)
	fake := f.by[global]
	e := newEnv(t, f, fullProfile)
	ctx := context.Background()

	out, err := e.rec.Apply(ctx, "nexus")
	if err != nil {
		t.Fatal(err)
	}
	if out.Action != dialogflow.Created || !strings.HasPrefix(out.Name, "projects/acme-cc/locations/global/conversationProfiles/") {
		t.Fatalf("first Apply = %s %q, want created under projects/acme-cc/locations/global", out.Action, out.Name)
	}
	writes := fake.Writes()
	if len(writes) != 1 || writes[0].Method != "CreateConversationProfile" {
		t.Fatalf("writes = %v, want one CreateConversationProfile", methods(writes))
	}
	want := &pb.CreateConversationProfileRequest{Parent: "projects/acme-cc/locations/global", ConversationProfile: fullWant()}
	if got := writes[0].Request; !proto.Equal(got, want) {
		t.Errorf("create request:\n%s\nwant:\n%s", prototext.Format(got), prototext.Format(want))
	}
	if !writes[0].Request.(*pb.CreateConversationProfileRequest).GetConversationProfile().GetUseBidiStreaming() {
		t.Error("use_bidi_streaming is not true")
	}
	if name, err := e.names.ProfileName(ctx, "nexus"); err != nil || name != out.Name {
		t.Errorf("recorded name = %q, %v; want %q", name, err, out.Name)
	}

	// Identical settings: the recorded profile is read and nothing written.
	out2, err := e.rec.Apply(ctx, "nexus")
	if err != nil {
		t.Fatal(err)
	}
	if out2.Action != dialogflow.Unchanged || out2.Name != out.Name {
		t.Errorf("second Apply = %s %q, want unchanged %q", out2.Action, out2.Name, out.Name)
	}
	if n := len(fake.Writes()); n != 1 {
		t.Errorf("second Apply wrote: %v", methods(fake.Writes()))
	}
	if last := fake.Calls()[len(fake.Calls())-1]; last.Method != "GetConversationProfile" {
		t.Errorf("second Apply ended with %s, want GetConversationProfile of the recorded name", last.Method)
	}
}

func methods(cs []dialogflowfake.Call) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Method)
	}
	return out
}

func TestApplyUpdatesExactlyTheChangedField(t *testing.T) {
	base := `profile:
  displayName: nexus-agent-assist
  sampleRateHertz: 8000
  audioEncoding: AUDIO_ENCODING_LINEAR_16
`
	tests := []struct {
		name     string
		settings string
		wantMask []string
	}{
		{"language", base + "  languageCode: en-US\n", []string{"language_code"}},
		{"time zone", base + "  timeZone: Asia/Tokyo\n", []string{"time_zone"}},
		{"sample rate", strings.Replace(base, "8000", "16000", 1), []string{"stt_config"}},
		{"stt model", base + "  sttModel: telephony\n", []string{"stt_config"}},
		{"notifications", base + "  notifications: {topic: projects/acme-cc/topics/t}\n", []string{"notification_config"}},
		{"new message notifications", base + "  newMessageNotifications: {topic: projects/acme-cc/topics/t, format: PROTO}\n", []string{"new_message_event_notification_config"}},
		{"assist feature", base + "  humanAgentAssistant:\n    features: [{type: SMART_REPLY}]\n", []string{"human_agent_assistant_config"}},
		{"virtual agent", base + "  automatedAgent: {agent: projects/acme-cc/locations/global/agent}\n", []string{"automated_agent_config"}},
		{"logging", base + "  logging: {stackdriver: true}\n", []string{"logging_config"}},
		{"stt removed", "profile:\n  displayName: nexus-agent-assist\n", []string{"stt_config"}},
		{"two fields", strings.Replace(base, "8000", "16000", 1) + "  languageCode: en-US\n", []string{"language_code", "stt_config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakes(t, global)
			fake := f.by[global]
			e := newEnv(t, f, base)
			ctx := context.Background()
			first, err := e.rec.Apply(ctx, "nexus")
			if err != nil {
				t.Fatal(err)
			}
			e.put(t, tt.settings)
			out, err := e.rec.Apply(ctx, "nexus")
			if err != nil {
				t.Fatal(err)
			}
			if out.Action != dialogflow.Updated || out.Name != first.Name || !slices.Equal(out.Changed, tt.wantMask) {
				t.Errorf("Apply = %s %q %v, want updated %q %v", out.Action, out.Name, out.Changed, first.Name, tt.wantMask)
			}
			writes := fake.Writes()
			if len(writes) != 2 || writes[1].Method != "UpdateConversationProfile" {
				t.Fatalf("writes = %v, want create then update", methods(writes))
			}
			upd := writes[1].Request.(*pb.UpdateConversationProfileRequest)
			if !slices.Equal(upd.GetUpdateMask().GetPaths(), tt.wantMask) {
				t.Errorf("update mask = %v, want %v", upd.GetUpdateMask().GetPaths(), tt.wantMask)
			}
			if upd.GetConversationProfile().GetName() != first.Name || !upd.GetConversationProfile().GetUseBidiStreaming() {
				t.Errorf("update names %q (bidi %v), want %q with use_bidi_streaming", upd.GetConversationProfile().GetName(), upd.GetConversationProfile().GetUseBidiStreaming(), first.Name)
			}
			// Dialogflow now has the settings: a third reconcile writes nothing.
			again, err := e.rec.Apply(ctx, "nexus")
			if err != nil || again.Action != dialogflow.Unchanged || len(fake.Writes()) != 2 {
				t.Errorf("third Apply = %s, %v; writes %v", again.Action, err, methods(fake.Writes()))
			}
		})
	}
}

// A profile edited by hand (bidi streaming turned off in the console) is
// found by its display name when none is recorded, and put back.
func TestApplyRepairsAProfileMadeElsewhere(t *testing.T) {
	f := newFakes(t, global)
	fake := f.by[global]
	e := newEnv(t, f, fullProfile)
	drifted := fullWant()
	drifted.UseBidiStreaming = false
	drifted.SttConfig.SpeechModelVariant = pb.SpeechModelVariant_USE_ENHANCED // not routebot's: no drift
	name := fake.AddProfile("projects/acme-cc/locations/global", drifted)
	fake.AddProfile("projects/acme-cc/locations/global", &pb.ConversationProfile{DisplayName: "someone-else"})

	rep, err := e.rec.Diff(context.Background(), "nexus")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Name != name || rep.Missing || !slices.Equal(rep.Drift, []string{"use_bidi_streaming"}) {
		t.Errorf("Diff = %q missing=%v drift=%v, want %q drift [use_bidi_streaming]", rep.Name, rep.Missing, rep.Drift, name)
	}
	if n := len(fake.Writes()); n != 0 {
		t.Errorf("Diff wrote %v", methods(fake.Writes()))
	}
	out, err := e.rec.Apply(context.Background(), "nexus")
	if err != nil {
		t.Fatal(err)
	}
	if out.Action != dialogflow.Updated || out.Name != name || !slices.Equal(out.Changed, []string{"use_bidi_streaming"}) {
		t.Errorf("Apply = %s %q %v", out.Action, out.Name, out.Changed)
	}
	if !fake.Profile(name).GetUseBidiStreaming() {
		t.Error("use_bidi_streaming still off")
	}
}

func TestDiffOfAMissingProfile(t *testing.T) {
	f := newFakes(t, global)
	e := newEnv(t, f, fullProfile)
	rep, err := e.rec.Diff(context.Background(), "nexus")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Missing || rep.Have != nil || !proto.Equal(rep.Want, fullWant()) {
		t.Errorf("Diff = missing %v have %v", rep.Missing, rep.Have)
	}
	if len(f.by[global].Writes()) != 0 {
		t.Error("Diff wrote")
	}
}

func TestAmbiguousDisplayName(t *testing.T) {
	f := newFakes(t, global)
	e := newEnv(t, f, fullProfile)
	for range 2 {
		f.by[global].AddProfile("projects/acme-cc/locations/global", &pb.ConversationProfile{DisplayName: "nexus-agent-assist"})
	}
	if _, err := e.rec.Apply(context.Background(), "nexus"); !errors.Is(err, dialogflow.ErrAmbiguous) {
		t.Fatalf("Apply = %v, want ErrAmbiguous", err)
	}
	if len(f.by[global].Writes()) != 0 {
		t.Error("an ambiguous profile was written")
	}
}

func TestRegionalProfileUsesTheRegionalEndpoint(t *testing.T) {
	const regional = "europe-west3-dialogflow.googleapis.com:443"
	f := newFakes(t, global, regional)
	e := newEnv(t, f, "profile:\n  location: europe-west3\n")
	out, err := e.rec.Apply(context.Background(), "nexus")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.Name, "projects/acme-cc/locations/europe-west3/") {
		t.Errorf("name %q is not regional", out.Name)
	}
	if n := len(f.by[regional].Writes()); n != 1 {
		t.Errorf("regional endpoint got %d writes", n)
	}
	if n := len(f.by[global].Calls()); n != 0 {
		t.Errorf("global endpoint got %d calls", n)
	}
	if !slices.Equal(f.dialed, []string{regional}) {
		t.Errorf("dialled %v, want only %s", f.dialed, regional)
	}
	// What the rule prevents: the global host refuses the regional profile.
	_, err = dialogflow.NewReconciler(globalOnly(t, f.by[global]), e.tenants, memstore.NewProfileNames(), project).Apply(context.Background(), "nexus")
	if dialogflow.Code(err) != codes.InvalidArgument {
		t.Errorf("regional profile on the global host: %v, want INVALID_ARGUMENT", err)
	}
	if got := dialogflow.Endpoint("global"); got != global {
		t.Errorf("Endpoint(global) = %s", got)
	}
	if got := dialogflow.Endpoint(""); got != global {
		t.Errorf("Endpoint(\"\") = %s", got)
	}
}

func TestDialogflowErrorsNameTheCall(t *testing.T) {
	tests := []struct {
		name   string
		method string
		err    error
		want   codes.Code
	}{
		{"permission on list", "ListConversationProfiles", status.Error(codes.PermissionDenied, "IAM permission 'dialogflow.conversationProfiles.list' denied"), codes.PermissionDenied},
		{"quota on create", "CreateConversationProfile", status.Error(codes.ResourceExhausted, "quota"), codes.ResourceExhausted},
		{"invalid on create", "CreateConversationProfile", status.Error(codes.InvalidArgument, "knowledge base not found"), codes.InvalidArgument},
		{"not found on list", "ListConversationProfiles", status.Error(codes.NotFound, "project"), codes.NotFound},
		// Retried twice, then given up.
		{"unavailable on list", "ListConversationProfiles", status.Error(codes.Unavailable, "down"), codes.Unavailable},
		{"deadline on create", "CreateConversationProfile", status.Error(codes.DeadlineExceeded, "slow"), codes.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakes(t, global)
			e := newEnv(t, f, fullProfile)
			f.by[global].Fail(tt.method, tt.err, tt.err, tt.err)
			_, err := e.rec.Apply(context.Background(), "nexus")
			var ce *dialogflow.CallError
			if !errors.As(err, &ce) || ce.Code != tt.want || ce.Call != tt.method {
				t.Fatalf("Apply = %v, want a CallError of %s with %s", err, tt.method, tt.want)
			}
			if !strings.Contains(err.Error(), tt.method) {
				t.Errorf("%q does not name %s", err, tt.method)
			}
			if _, err := e.names.ProfileName(context.Background(), "nexus"); !errors.Is(err, store.ErrNotFound) {
				t.Error("a failed Apply recorded a profile name")
			}
		})
	}
}

func TestCreateIsNotRetried(t *testing.T) {
	f := newFakes(t, global)
	e := newEnv(t, f, fullProfile)
	f.by[global].Fail("CreateConversationProfile", status.Error(codes.Unavailable, "down"))
	if _, err := e.rec.Apply(context.Background(), "nexus"); dialogflow.Code(err) != codes.Unavailable {
		t.Fatalf("Apply = %v, want UNAVAILABLE", err)
	}
	if n := f.by[global].Count("CreateConversationProfile"); n != 1 {
		t.Errorf("create sent %d times", n)
	}
}

func TestUnknownAndInvalidTenants(t *testing.T) {
	f := newFakes(t, global)
	e := newEnv(t, f, fullProfile)
	if _, err := e.rec.Apply(context.Background(), "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
	e.put(t, fullProfile) // valid; now push a broken one past validation
	tf := nexusWith(t, "profile:\n  audioEncoding: AUDIO_ENCODING_MP3\n")
	if _, _, err := e.tenants.PutTenant(context.Background(), tf, []string{"SCENARIO01", "star-wars"}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := e.rec.Apply(context.Background(), "nexus")
	var te *tenant.Error
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "profile.audioEncoding") {
		t.Errorf("invalid settings: %v", err)
	}
	if len(f.by[global].Calls()) != 0 {
		t.Error("Dialogflow was called for invalid settings")
	}
}

// globalOnly sends every location to the global fake, as a client without
// the regional rule would.
func globalOnly(t *testing.T, fake *dialogflowfake.Server) *dialogflow.Clients {
	c, err := dialogflow.NewClients(dialogflow.Options{Dial: func(context.Context, string) (*grpc.ClientConn, error) {
		return fake.Dial(t), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
