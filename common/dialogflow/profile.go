package dialogflow

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/routebot/routebot/common/tenant"
)

// Defaults of a tenant's profile settings.
const (
	DefaultLanguageCode = "ko-KR"
	DefaultTimeZone     = "Asia/Seoul"
)

// ManagedFields are the ConversationProfile fields a tenant's settings
// decide, in the order drift and update masks list them. Fields outside
// (name, create_time, sip_config, tts_config …) are left as they are.
func ManagedFields() []string { return slices.Clone(managedFields) }

var managedFields = []string{
	"display_name",
	"language_code",
	"time_zone",
	"stt_config",
	"use_bidi_streaming",
	"notification_config",
	"new_message_event_notification_config",
	"human_agent_assistant_config",
	"automated_agent_config",
	"logging_config",
}

// DisplayName is the profile's display name for tenantID: the settings'
// own, else "routebot-<tenant id>".
func DisplayName(tenantID string, s tenant.ProfileSpec) string {
	return cmp.Or(s.DisplayName, "routebot-"+tenantID)
}

// Desired is the profile a tenant's settings describe, with
// use_bidi_streaming always true. The settings are assumed validated by the
// tenant package; a value it let through that Dialogflow has no enum for is
// still an error here, not a silent default.
func Desired(tenantID string, s tenant.ProfileSpec) (*dialogflowpb.ConversationProfile, error) {
	p := &dialogflowpb.ConversationProfile{
		DisplayName:      DisplayName(tenantID, s),
		LanguageCode:     cmp.Or(s.LanguageCode, DefaultLanguageCode),
		TimeZone:         cmp.Or(s.TimeZone, DefaultTimeZone),
		UseBidiStreaming: true,
	}
	if s.SttModel != "" || s.SampleRate != 0 || s.Encoding != "" {
		stt := &dialogflowpb.SpeechToTextConfig{Model: s.SttModel, SampleRateHertz: int32(s.SampleRate)}
		if s.Encoding != "" {
			v, ok := dialogflowpb.AudioEncoding_value[s.Encoding]
			if !ok {
				return nil, fmt.Errorf("dialogflow: profile.audioEncoding %q is not a Dialogflow audio encoding", s.Encoding)
			}
			stt.AudioEncoding = dialogflowpb.AudioEncoding(v)
		}
		p.SttConfig = stt
	}
	var err error
	if p.NotificationConfig, err = notification(s.Notifications); err != nil {
		return nil, err
	}
	if p.NewMessageEventNotificationConfig, err = notification(s.NewMessageNotifications); err != nil {
		return nil, err
	}
	if a := s.Assist; a != nil {
		cfg := &dialogflowpb.HumanAgentAssistantConfig{}
		if cfg.NotificationConfig, err = notification(a.Notifications); err != nil {
			return nil, err
		}
		if cfg.HumanAgentSuggestionConfig, err = suggestions(a.Features); err != nil {
			return nil, err
		}
		if cfg.EndUserSuggestionConfig, err = suggestions(a.EndUserFeatures); err != nil {
			return nil, err
		}
		p.HumanAgentAssistantConfig = cfg
	}
	if a := s.AutomatedAgent; a != nil {
		p.AutomatedAgentConfig = &dialogflowpb.AutomatedAgentConfig{Agent: a.Agent}
	}
	if l := s.Logging; l != nil {
		p.LoggingConfig = &dialogflowpb.LoggingConfig{EnableStackdriverLogging: l.Stackdriver}
	}
	return p, nil
}

func notification(n *tenant.NotificationSpec) (*dialogflowpb.NotificationConfig, error) {
	if n == nil {
		return nil, nil
	}
	format := dialogflowpb.NotificationConfig_JSON
	switch n.Format {
	case "", "JSON":
	case "PROTO":
		format = dialogflowpb.NotificationConfig_PROTO
	default:
		return nil, fmt.Errorf("dialogflow: notification format %q: want JSON or PROTO", n.Format)
	}
	return &dialogflowpb.NotificationConfig{Topic: n.Topic, MessageFormat: format}, nil
}

func suggestions(fs []tenant.FeatureSpec) (*dialogflowpb.HumanAgentAssistantConfig_SuggestionConfig, error) {
	if len(fs) == 0 {
		return nil, nil
	}
	cfg := &dialogflowpb.HumanAgentAssistantConfig_SuggestionConfig{}
	for _, f := range fs {
		v, ok := dialogflowpb.SuggestionFeature_Type_value[f.Type]
		if !ok || v == 0 {
			return nil, fmt.Errorf("dialogflow: suggestion feature %q is not a Dialogflow feature type", f.Type)
		}
		fc := &dialogflowpb.HumanAgentAssistantConfig_SuggestionFeatureConfig{
			SuggestionFeature:          &dialogflowpb.SuggestionFeature{Type: dialogflowpb.SuggestionFeature_Type(v)},
			EnableEventBasedSuggestion: f.EventBased,
		}
		q := &dialogflowpb.HumanAgentAssistantConfig_SuggestionQueryConfig{
			MaxResults: int32(f.MaxResults), ConfidenceThreshold: float32(f.ConfidenceThreshold),
		}
		switch {
		case len(f.KnowledgeBases) > 0:
			q.QuerySource = &dialogflowpb.HumanAgentAssistantConfig_SuggestionQueryConfig_KnowledgeBaseQuerySource_{
				KnowledgeBaseQuerySource: &dialogflowpb.HumanAgentAssistantConfig_SuggestionQueryConfig_KnowledgeBaseQuerySource{KnowledgeBases: slices.Clone(f.KnowledgeBases)},
			}
		case len(f.Documents) > 0:
			q.QuerySource = &dialogflowpb.HumanAgentAssistantConfig_SuggestionQueryConfig_DocumentQuerySource_{
				DocumentQuerySource: &dialogflowpb.HumanAgentAssistantConfig_SuggestionQueryConfig_DocumentQuerySource{Documents: slices.Clone(f.Documents)},
			}
		}
		if proto.Size(q) > 0 {
			fc.QueryConfig = q
		}
		cfg.FeatureConfigs = append(cfg.FeatureConfigs, fc)
	}
	return cfg, nil
}

// Drift lists the managed fields where have differs from want, in
// ManagedFields order. Only what routebot writes is compared: fields
// Dialogflow fills in on its own inside a managed field (defaults, output
// fields) are not drift, or every reconcile would write.
func Drift(want, have *dialogflowpb.ConversationProfile) []string {
	var out []string
	wm, hm := want.ProtoReflect(), have.ProtoReflect()
	fields := wm.Descriptor().Fields()
	for _, name := range managedFields {
		if !sameField(wm, hm, fields.ByName(protoreflect.Name(name))) {
			out = append(out, name)
		}
	}
	return out
}

// written is every field Desired can set, found by building the profile of
// settings that set all of them.
var written = sync.OnceValue(func() map[protoreflect.FullName]bool {
	n := &tenant.NotificationSpec{Topic: "projects/p/topics/t", Format: "PROTO"}
	features := []tenant.FeatureSpec{
		{Type: "FAQ", KnowledgeBases: []string{"kb"}, MaxResults: 1, ConfidenceThreshold: 0.5, EventBased: true},
		{Type: "ARTICLE_SUGGESTION", Documents: []string{"d"}},
	}
	p, err := Desired("t", tenant.ProfileSpec{
		DisplayName: "d", LanguageCode: "l", TimeZone: "z", SttModel: "m", SampleRate: 1, Encoding: "AUDIO_ENCODING_LINEAR_16",
		Notifications: n, NewMessageNotifications: n,
		Assist:         &tenant.AssistSpec{Notifications: n, Features: features, EndUserFeatures: features},
		AutomatedAgent: &tenant.AutomatedAgentSpec{Agent: "a"},
		Logging:        &tenant.LoggingSpec{Stackdriver: true},
	})
	if err != nil {
		panic("dialogflow: the settings that set every field do not build: " + err.Error())
	}
	m := map[protoreflect.FullName]bool{}
	var collect func(protoreflect.Message)
	collect = func(msg protoreflect.Message) {
		msg.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			m[fd.FullName()] = true
			switch {
			case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
				for i := range v.List().Len() {
					collect(v.List().Get(i).Message())
				}
			case !fd.IsList() && !fd.IsMap() && fd.Kind() == protoreflect.MessageKind:
				collect(v.Message())
			}
			return true
		})
	}
	collect(p.ProtoReflect())
	return m
})

// sameField compares field fd of want and have as far as routebot writes it.
func sameField(want, have protoreflect.Message, fd protoreflect.FieldDescriptor) bool {
	switch {
	case fd.IsMap():
		return want.Get(fd).Equal(have.Get(fd))
	case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
		wl, hl := want.Get(fd).List(), have.Get(fd).List()
		if wl.Len() != hl.Len() {
			return false
		}
		for i := range wl.Len() {
			if !sameMessage(wl.Get(i).Message(), hl.Get(i).Message()) {
				return false
			}
		}
		return true
	case fd.Kind() == protoreflect.MessageKind:
		if want.Has(fd) != have.Has(fd) {
			return false
		}
		return !want.Has(fd) || sameMessage(want.Get(fd).Message(), have.Get(fd).Message())
	}
	return want.Get(fd).Equal(have.Get(fd)) // scalars and scalar lists; unset is the default
}

func sameMessage(want, have protoreflect.Message) bool {
	fields := want.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if written()[fd.FullName()] && !sameField(want, have, fd) {
			return false
		}
	}
	return true
}
