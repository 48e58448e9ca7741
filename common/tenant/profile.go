package tenant

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // timeZone validates where the system has no zone files

	"strconv"
)

// ProfileSpec is tenant.yaml's profile: the tenant's Dialogflow
// conversation profile, which the profile function creates and keeps in
// line (use_bidi_streaming is always on: the SipRec integration and the
// stream service need it, so it is not a setting). Empty values take the
// defaults of common/dialogflow.
type ProfileSpec struct {
	DisplayName  string `yaml:"displayName"`  // default "routebot-<tenant id>"
	Project      string `yaml:"project"`      // default the deployment's Dialogflow project
	Location     string `yaml:"location"`     // default global
	LanguageCode string `yaml:"languageCode"` // default ko-KR
	TimeZone     string `yaml:"timeZone"`     // default Asia/Seoul

	// stt_config
	SttModel   string `yaml:"sttModel"`
	SampleRate int    `yaml:"sampleRateHertz"`
	Encoding   string `yaml:"audioEncoding"` // AUDIO_ENCODING_LINEAR_16 …

	Notifications           *NotificationSpec   `yaml:"notifications"`           // notification_config
	NewMessageNotifications *NotificationSpec   `yaml:"newMessageNotifications"` // new_message_event_notification_config
	Assist                  *AssistSpec         `yaml:"humanAgentAssistant"`     // human_agent_assistant_config
	AutomatedAgent          *AutomatedAgentSpec `yaml:"automatedAgent"`          // automated_agent_config
	Logging                 *LoggingSpec        `yaml:"logging"`                 // logging_config
}

// NotificationSpec is a Pub/Sub topic Dialogflow publishes to.
type NotificationSpec struct {
	Topic  string `yaml:"topic"`  // projects/P/topics/T
	Format string `yaml:"format"` // JSON (default) | PROTO
}

// AssistSpec is the Agent Assist configuration.
type AssistSpec struct {
	Notifications   *NotificationSpec `yaml:"notifications"`
	Features        []FeatureSpec     `yaml:"features"`        // suggestions for the human agent
	EndUserFeatures []FeatureSpec     `yaml:"endUserFeatures"` // suggestions for the end user
}

// FeatureSpec is one suggestion feature and where it looks for answers.
type FeatureSpec struct {
	Type                string   `yaml:"type"` // one of suggestionFeatures
	KnowledgeBases      []string `yaml:"knowledgeBases"`
	Documents           []string `yaml:"documents"`
	MaxResults          int      `yaml:"maxResults"`
	ConfidenceThreshold float64  `yaml:"confidenceThreshold"`
	EventBased          bool     `yaml:"eventBased"` // enable_event_based_suggestion
}

// AutomatedAgentSpec is the virtual agent the profile hands the
// conversation to first.
type AutomatedAgentSpec struct {
	Agent string `yaml:"agent"` // projects/P/locations/L/agent[/environments/E]
}

// LoggingSpec is the profile's logging_config.
type LoggingSpec struct {
	Stackdriver bool `yaml:"stackdriver"` // enable_stackdriver_logging
}

// suggestionFeatures are the feature types a profile may name, and whether
// each reads knowledge bases or documents: article suggestion and FAQ need
// them, smart reply (its allowlist) and knowledge assist/search may have
// them, summarization and Dialogflow assist take none.
var suggestionFeatures = map[string]featureSource{
	"ARTICLE_SUGGESTION":         needsSource,
	"FAQ":                        needsSource,
	"SMART_REPLY":                mayHaveSource,
	"KNOWLEDGE_ASSIST":           mayHaveSource,
	"KNOWLEDGE_SEARCH":           mayHaveSource,
	"CONVERSATION_SUMMARIZATION": noSource,
	"DIALOGFLOW_ASSIST":          noSource,
}

type featureSource int

const (
	noSource featureSource = iota
	mayHaveSource
	needsSource
)

// audioEncodings are the stt_config encodings BidiStreamingAnalyzeContent
// takes; telephony's MULAW and ALAW are 8 kHz only.
var audioEncodings = map[string]bool{
	"AUDIO_ENCODING_LINEAR_16":              true,
	"AUDIO_ENCODING_FLAC":                   true,
	"AUDIO_ENCODING_MULAW":                  true,
	"AUDIO_ENCODING_ALAW":                   true,
	"AUDIO_ENCODING_AMR":                    true,
	"AUDIO_ENCODING_AMR_WB":                 true,
	"AUDIO_ENCODING_OGG_OPUS":               true,
	"AUDIO_ENCODING_SPEEX_WITH_HEADER_BYTE": true,
}

var (
	topicRE         = regexp.MustCompile(`^projects/[^/]+/topics/[^/]+$`)
	knowledgeBaseRE = regexp.MustCompile(`^projects/[^/]+/(locations/[^/]+/)?knowledgeBases/[^/]+$`)
	documentRE      = regexp.MustCompile(`^projects/[^/]+/(locations/[^/]+/)?knowledgeBases/[^/]+/documents/[^/]+$`)
	agentRE         = regexp.MustCompile(`^projects/[^/]+/(locations/[^/]+/)?agent(/environments/[^/]+)?$`)
	locationRE      = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)
	languageRE      = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	projectRE       = regexp.MustCompile(`^[a-z][a-z0-9.:-]*[a-z0-9]$`)
)

// profile checks tenant.yaml's profile: settings, each problem at the line
// of the key (or list item) it is about.
func (p *parser) profile(s ProfileSpec, doc *yamlDoc) {
	line := func(key string) int { return doc.line("profile." + key) }
	bad := func(key, format string, args ...any) {
		p.addf(TenantFile, line(key), "", "profile."+key+": "+format, args...)
	}
	if len(s.DisplayName) > 1024 {
		bad("displayName", "at most 1024 characters")
	}
	if s.Project != "" && !projectRE.MatchString(s.Project) {
		bad("project", "%q is not a Google Cloud project id", s.Project)
	}
	if s.Location != "" && !locationRE.MatchString(s.Location) {
		bad("location", "%q is not a Dialogflow location such as global or europe-west3", s.Location)
	}
	if s.LanguageCode != "" && !languageRE.MatchString(s.LanguageCode) {
		bad("languageCode", "%q is not a language tag such as ko-KR", s.LanguageCode)
	}
	if s.TimeZone != "" && !validTimeZone(s.TimeZone) {
		bad("timeZone", "%q is not an IANA time zone such as Asia/Seoul", s.TimeZone)
	}
	if s.Encoding != "" && !audioEncodings[s.Encoding] {
		bad("audioEncoding", "%q is not supported: want one of AUDIO_ENCODING_LINEAR_16, _MULAW, _ALAW, _FLAC, _AMR, _AMR_WB, _OGG_OPUS, _SPEEX_WITH_HEADER_BYTE", s.Encoding)
	}
	switch {
	case s.SampleRate != 0 && (s.SampleRate < 8000 || s.SampleRate > 48000):
		bad("sampleRateHertz", "%d is not supported: want 8000 to 48000", s.SampleRate)
	case (s.Encoding == "AUDIO_ENCODING_MULAW" || s.Encoding == "AUDIO_ENCODING_ALAW") && s.SampleRate != 0 && s.SampleRate != 8000:
		bad("sampleRateHertz", "%d: %s is 8000 Hz only", s.SampleRate, s.Encoding)
	}
	p.notification(s.Notifications, "notifications", line("notifications"))
	p.notification(s.NewMessageNotifications, "newMessageNotifications", line("newMessageNotifications"))
	if a := s.Assist; a != nil {
		p.notification(a.Notifications, "humanAgentAssistant.notifications", line("humanAgentAssistant.notifications"))
		p.features(a.Features, "humanAgentAssistant.features", doc)
		p.features(a.EndUserFeatures, "humanAgentAssistant.endUserFeatures", doc)
	}
	if a := s.AutomatedAgent; a != nil && !agentRE.MatchString(a.Agent) {
		bad("automatedAgent", "agent %q: want projects/P/locations/L/agent or .../agent/environments/E", a.Agent)
	}
}

func (p *parser) notification(n *NotificationSpec, key string, line int) {
	if n == nil {
		return
	}
	if !topicRE.MatchString(n.Topic) {
		p.addf(TenantFile, line, "", "profile.%s.topic %q: notifications need a Pub/Sub topic projects/P/topics/T", key, n.Topic)
	}
	switch n.Format {
	case "", "JSON", "PROTO":
	default:
		p.addf(TenantFile, line, "", "profile.%s.format %q: want JSON or PROTO", key, n.Format)
	}
}

// features checks a feature list, each problem at its item's line.
func (p *parser) features(fs []FeatureSpec, key string, doc *yamlDoc) {
	seen := map[string]bool{}
	for i, f := range fs {
		line := doc.line("profile." + key + "[" + strconv.Itoa(i) + "]")
		addf := func(format string, args ...any) {
			p.addf(TenantFile, line, "", "profile.%s[%d]: %s", key, i, fmt.Sprintf(format, args...))
		}
		src, ok := suggestionFeatures[f.Type]
		if !ok {
			addf("type %q: unknown feature; want one of %s", f.Type, featureNames())
			continue
		}
		if seen[f.Type] {
			addf("%s is listed twice", f.Type)
		}
		seen[f.Type] = true
		switch {
		case src == noSource && (len(f.KnowledgeBases) > 0 || len(f.Documents) > 0):
			addf("%s takes no knowledge bases or documents", f.Type)
		case len(f.KnowledgeBases) > 0 && len(f.Documents) > 0:
			addf("%s reads knowledge bases or documents, not both", f.Type)
		case src == needsSource && len(f.KnowledgeBases) == 0 && len(f.Documents) == 0:
			addf("%s needs knowledgeBases or documents", f.Type)
		}
		for _, kb := range f.KnowledgeBases {
			if !knowledgeBaseRE.MatchString(kb) {
				addf("knowledge base %q: want projects/P/locations/L/knowledgeBases/K", kb)
			}
		}
		for _, d := range f.Documents {
			if !documentRE.MatchString(d) {
				addf("document %q: want projects/P/locations/L/knowledgeBases/K/documents/D", d)
			}
		}
		if f.MaxResults < 0 || f.ConfidenceThreshold < 0 || f.ConfidenceThreshold > 1 {
			addf("maxResults must not be negative, confidenceThreshold must be in 0..1")
		}
	}
}

func featureNames() string {
	return "ARTICLE_SUGGESTION, FAQ, SMART_REPLY, KNOWLEDGE_ASSIST, KNOWLEDGE_SEARCH, CONVERSATION_SUMMARIZATION, DIALOGFLOW_ASSIST"
}

func validTimeZone(name string) bool {
	if strings.Contains(name, "..") {
		return false
	}
	_, err := time.LoadLocation(name)
	return err == nil
}
