package classify

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/store/memstore"
	"github.com/routebot/routebot/common/wire"
)

// owners is a call → tenant record.
type owners map[string]string

func (o owners) GetConversation(_ context.Context, callID string) (store.Conversation, error) {
	id, ok := o[callID]
	if !ok {
		return store.Conversation{}, store.ErrNotFound
	}
	return store.Conversation{CallID: callID, TenantID: id}, nil
}

type failingTranscripts struct{}

func (failingTranscripts) Transcript(context.Context, string) ([]store.TranscriptEntry, error) {
	return nil, errors.New("firestore: unavailable")
}

// TestClassifyByCallID classifies the transcript the stream service stored
// for a call when the body names its CallId instead of a question.
func TestClassifyByCallID(t *testing.T) {
	tr := memstore.NewTranscripts(nil, 0)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i, e := range []store.TranscriptEntry{
		{Role: "HUMAN_AGENT", Text: "안녕하세요 넥서스입니다", EndMs: 1500, Time: t0},
		{Role: "END_USER", Text: "배송이 아직 안 왔어요", EndMs: 2000, Time: t0.Add(2 * time.Second)},
		{Role: "HUMAN_AGENT", Text: "확인해 드리겠습니다", StartMs: 1500, EndMs: 4000, Time: t0.Add(4 * time.Second)},
	} {
		if err := tr.AppendTranscript(context.Background(), "DS-CALL-1", e); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	stored := "상담원: 안녕하세요 넥서스입니다\n고객: 배송이 아직 안 왔어요\n상담원: 확인해 드리겠습니다"
	tests := []struct {
		name        string
		transcripts Transcripts
		owners      CallOwners
		contentType string
		body        string
		wantStatus  int
		wantText    string // what the classifier is given; "" when it is not asked
	}{
		{"JSON CallId", tr, nil, "application/json", `{"CallId":"DS-CALL-1"}`, 200, stored},
		{"form CallId", tr, nil, form, "CallId=DS-CALL-1", 200, stored},
		{"a question wins over CallId", tr, nil, form, "CallId=DS-CALL-1&question=고객:환불해 주세요", 200, "고객: 환불해 주세요"},
		{"unknown CallId", tr, nil, "application/json", `{"CallId":"DS-NONE"}`, 404, ""},
		{"store down", failingTranscripts{}, nil, "application/json", `{"CallId":"DS-CALL-1"}`, 500, ""},
		{"no store: CallId alone is no question", nil, nil, "application/json", `{"CallId":"DS-CALL-1"}`, 400, ""},
		{"the scenario's tenant's call", tr, owners{"DS-CALL-1": "nexus"}, "application/json", `{"CallId":"DS-CALL-1"}`, 200, stored},
		{"another tenant's call", tr, owners{"DS-CALL-1": "hanbit"}, "application/json", `{"CallId":"DS-CALL-1"}`, wire.Forbidden.HTTPStatus(), ""},
		{"a call with no conversation", tr, owners{}, "application/json", `{"CallId":"DS-CALL-1"}`, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &stub{res: classify.Result{Path: classify.Path{"주문배송", "배송", "배송조회"}, Summary: "배송 문의", Backend: "llm"}}
			h, _ := stubHandler(t, s, Options{Transcripts: tt.transcripts, CallOwners: tt.owners})
			w := post(h, http.MethodPost, "/star-wars/chat-gpt", tt.contentType, tt.body)
			if w.Code != tt.wantStatus {
				t.Fatalf("HTTP %d, want %d: %s", w.Code, tt.wantStatus, w.Body)
			}
			var got []string
			for _, in := range s.asked() {
				got = append(got, in.Text)
			}
			var want []string
			if tt.wantText != "" {
				want = []string{tt.wantText}
			}
			if !slices.Equal(got, want) {
				t.Errorf("classifier asked %q, want %q", got, want)
			}
			if tt.wantStatus == 200 && !strings.Contains(w.Body.String(), `"category1":"주문배송"`) {
				t.Errorf("body %s", w.Body)
			}
		})
	}
}
