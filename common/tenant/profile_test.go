package tenant

import (
	"strings"
	"testing"
)

func TestProfileValidation(t *testing.T) {
	tests := []struct {
		name    string
		profile string
		want    string // a problem, "" for valid settings
	}{
		{"none", "", ""},
		{"demo settings", "profile:\n  displayName: acme\n  languageCode: ko-KR\n  sampleRateHertz: 8000\n  audioEncoding: AUDIO_ENCODING_LINEAR_16\n", ""},
		{"everything", `profile:
  project: acme-cc
  location: europe-west3
  timeZone: Asia/Seoul
  sttModel: telephony
  audioEncoding: AUDIO_ENCODING_MULAW
  sampleRateHertz: 8000
  notifications: {topic: projects/acme-cc/topics/events, format: PROTO}
  newMessageNotifications: {topic: projects/acme-cc/topics/messages}
  humanAgentAssistant:
    notifications: {topic: projects/acme-cc/topics/suggestions}
    features:
      - type: ARTICLE_SUGGESTION
        knowledgeBases: [projects/acme-cc/locations/europe-west3/knowledgeBases/kb]
      - type: FAQ
        documents: [projects/acme-cc/knowledgeBases/kb/documents/d]
      - {type: SMART_REPLY}
      - {type: KNOWLEDGE_ASSIST}
      - {type: CONVERSATION_SUMMARIZATION}
    endUserFeatures: [{type: FAQ, knowledgeBases: [projects/acme-cc/knowledgeBases/kb]}]
  automatedAgent: {agent: projects/acme-cc/locations/europe-west3/agent}
  logging: {stackdriver: true}
`, ""},
		{"unknown encoding", "profile:\n  audioEncoding: MP3\n", `acme/tenant.yaml:9: profile.audioEncoding: "MP3" is not supported`},
		{"low sample rate", "profile:\n  sampleRateHertz: 4000\n", "acme/tenant.yaml:9: profile.sampleRateHertz: 4000 is not supported"},
		{"mulaw at 16k", "profile:\n  audioEncoding: AUDIO_ENCODING_MULAW\n  sampleRateHertz: 16000\n", "acme/tenant.yaml:10: profile.sampleRateHertz: 16000: AUDIO_ENCODING_MULAW is 8000 Hz only"},
		{"notifications without topic", "profile:\n  notifications: {format: JSON}\n", "acme/tenant.yaml:9: profile.notifications.topic \"\": notifications need a Pub/Sub topic"},
		{"bad format", "profile:\n  newMessageNotifications: {topic: projects/p/topics/t, format: XML}\n", `profile.newMessageNotifications.format "XML": want JSON or PROTO`},
		{"unknown feature", "profile:\n  humanAgentAssistant:\n    features:\n      - {type: SMART_REPLY}\n      - {type: TELEPATHY}\n", `acme/tenant.yaml:12: profile.humanAgentAssistant.features[1]: type "TELEPATHY": unknown feature`},
		{"faq without source", "profile:\n  humanAgentAssistant:\n    features: [{type: FAQ}]\n", "profile.humanAgentAssistant.features[0]: FAQ needs knowledgeBases or documents"},
		{"both sources", "profile:\n  humanAgentAssistant:\n    features: [{type: FAQ, knowledgeBases: [projects/p/knowledgeBases/k], documents: [projects/p/knowledgeBases/k/documents/d]}]\n", "not both"},
		{"summary with source", "profile:\n  humanAgentAssistant:\n    features: [{type: CONVERSATION_SUMMARIZATION, documents: [projects/p/knowledgeBases/k/documents/d]}]\n", "takes no knowledge bases"},
		{"bad knowledge base", "profile:\n  humanAgentAssistant:\n    features: [{type: FAQ, knowledgeBases: [kb1]}]\n", `knowledge base "kb1"`},
		{"twice", "profile:\n  humanAgentAssistant:\n    features: [{type: SMART_REPLY}, {type: SMART_REPLY}]\n", "SMART_REPLY is listed twice"},
		{"bad agent", "profile:\n  automatedAgent: {agent: my-agent}\n", `profile.automatedAgent: agent "my-agent"`},
		{"bad location", "profile:\n  location: Europe\n", `profile.location: "Europe"`},
		{"bad time zone", "profile:\n  timeZone: Mars/Olympus\n", `profile.timeZone: "Mars/Olympus"`},
		{"bad language", "profile:\n  languageCode: korean language\n", `profile.languageCode: "korean language"`},
		{"unknown key", "profile:\n  useBidiStreaming: false\n", "acme/tenant.yaml:9: profile: unknown key \"useBidiStreaming\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tf := acmeFiles()
			tf.Files[TenantFile] = []byte(strings.TrimRight(acmeTenant, "\n") + "\n" + tt.profile)
			_, err := Parse(tf)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tt.want == "":
				return
			case err == nil:
				t.Fatalf("Parse accepted %q", tt.profile)
			case !strings.Contains(err.Error(), tt.want):
				t.Errorf("Parse = %v\nwant a problem %q", err, tt.want)
			}
		})
	}
}
