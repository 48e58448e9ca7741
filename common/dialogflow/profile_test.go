package dialogflow_test

import (
	"slices"
	"testing"

	pb "cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"

	"github.com/routebot/routebot/common/dialogflow"
	"github.com/routebot/routebot/common/tenant"
)

// FuzzDesired feeds tenant.yaml profile: sections through the tenant
// format's validation and Desired: whatever validation accepts must build,
// with bidirectional streaming on, and be in sync with itself.
func FuzzDesired(f *testing.F) {
	f.Add(fullProfile)
	f.Add("profile:\n  sampleRateHertz: 8000\n  audioEncoding: AUDIO_ENCODING_MULAW\n")
	f.Add("profile:\n  humanAgentAssistant:\n    features: [{type: SMART_REPLY}, {type: FAQ, documents: [projects/p/knowledgeBases/k/documents/d]}]\n")
	f.Add("profile:\n  notifications: {topic: projects/p/topics/t, format: PROTO}\n  automatedAgent: {agent: projects/p/agent}\n")
	f.Fuzz(func(t *testing.T, profileYAML string) {
		ten, err := tenant.Parse(nexusWith(t, profileYAML))
		if err != nil {
			return
		}
		p, err := dialogflow.Desired("nexus", ten.Profile)
		if err != nil {
			t.Fatalf("validated settings do not build: %v\n%s", err, profileYAML)
		}
		if !p.GetUseBidiStreaming() {
			t.Fatal("use_bidi_streaming off")
		}
		if d := dialogflow.Drift(p, p); len(d) != 0 {
			t.Fatalf("a profile drifts from itself: %v", d)
		}
		if d := dialogflow.Drift(p, &pb.ConversationProfile{}); !slices.Contains(d, "use_bidi_streaming") {
			t.Fatalf("drift from an empty profile misses use_bidi_streaming: %v", d)
		}
	})
}

func TestDriftIgnoresWhatRoutebotDoesNotWrite(t *testing.T) {
	want := fullWant()
	have := fullWant()
	have.Name = "projects/p/locations/global/conversationProfiles/x"
	have.SttConfig.SpeechModelVariant = pb.SpeechModelVariant_USE_ENHANCED
	have.HumanAgentAssistantConfig.HumanAgentSuggestionConfig.GroupSuggestionResponses = true
	have.SipConfig = &pb.SipConfig{}
	if d := dialogflow.Drift(want, have); len(d) != 0 {
		t.Errorf("drift %v from fields routebot does not write", d)
	}
	have.HumanAgentAssistantConfig.HumanAgentSuggestionConfig.FeatureConfigs[1].QueryConfig.ConfidenceThreshold = 0.9
	have.LoggingConfig.EnableStackdriverLogging = false // turned off: routebot writes it
	if d := dialogflow.Drift(want, have); !slices.Equal(d, []string{"human_agent_assistant_config", "logging_config"}) {
		t.Errorf("drift = %v", d)
	}
}

// BenchmarkDrift is the cost of comparing a full profile on every reconcile.
func BenchmarkDrift(b *testing.B) {
	want, have := fullWant(), fullWant()
	have.SttConfig.SpeechModelVariant = pb.SpeechModelVariant_USE_ENHANCED
	b.ReportAllocs()
	for b.Loop() {
		if d := dialogflow.Drift(want, have); len(d) != 0 {
			b.Fatal(d)
		}
	}
}
