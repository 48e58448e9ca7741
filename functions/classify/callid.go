package classify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/transcript"
	"github.com/routebot/routebot/common/wire"
)

// Transcripts reads the transcripts the stream service stored
// (store.Transcripts).
type Transcripts interface {
	Transcript(ctx context.Context, callID string) ([]store.TranscriptEntry, error)
}

// CallOwners says which tenant a call's conversation belongs to
// (store.Conversations), so one tenant's scenario never reads another's call.
type CallOwners interface {
	GetConversation(ctx context.Context, callID string) (store.Conversation, error)
}

// question is the text to classify: the body's question or, when the body
// names a CallId and no question, that call's stored transcript as
// "상담원: …" / "고객: …" lines.
func (h *Handler) question(ctx context.Context, r *http.Request) (string, *wire.Error) {
	if h.opts.Transcripts == nil {
		return readQuestion(r)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return "", wire.Failed(wire.BadParameter, "the request body could not be read", fmt.Errorf("reading the body: %w", err))
	}
	r.Body = io.NopCloser(bytes.NewReader(body)) // readQuestion reads it again
	callID, hasQuestion := callIDOf(r.Header.Get("Content-Type"), body)
	if callID == "" || hasQuestion {
		return readQuestion(r)
	}
	if werr := h.checkOwner(ctx, r, callID); werr != nil {
		return "", werr
	}
	entries, err := h.opts.Transcripts.Transcript(ctx, callID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", wire.Errorf(wire.NotFound, "no transcript is stored for CallId %q", callID)
	case err != nil:
		h.logger.ErrorContext(ctx, "reading a call's transcript failed", "call_id", callID, "error", err)
		return "", wire.Errorf(wire.ServerDB, "the call's transcript could not be read")
	}
	turns := make(transcript.Turns, 0, len(entries))
	for _, e := range entries {
		sp := transcript.Customer
		if e.Role == "HUMAN_AGENT" {
			sp = transcript.Agent
		}
		turns = append(turns, transcript.Turn{Speaker: sp, Text: e.Text})
	}
	return turns.String(), nil
}

// callIDOf reads CallId from a JSON or form body, and whether it also holds
// a non-blank question (which then wins).
func callIDOf(contentType string, body []byte) (callID string, hasQuestion bool) {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	trimmed := bytes.TrimSpace(body)
	if mediaType == "application/json" || (mediaType == "" && len(trimmed) > 0 && trimmed[0] == '{') {
		var v struct {
			Question string `json:"question"`
			CallID   string `json:"CallId"`
		}
		if json.Unmarshal(trimmed, &v) != nil {
			return "", false
		}
		return strings.TrimSpace(v.CallID), strings.TrimSpace(v.Question) != ""
	}
	return strings.TrimSpace(formValue(string(body), "CallId")), strings.TrimSpace(formValue(string(body), "question")) != ""
}

// checkOwner refuses a CallId whose conversation is another tenant's than
// the scenario code's. A call with no conversation record has no stored
// transcript either (the stream service creates the record first).
func (h *Handler) checkOwner(ctx context.Context, r *http.Request, callID string) *wire.Error {
	if h.opts.CallOwners == nil {
		return nil
	}
	conv, err := h.opts.CallOwners.GetConversation(ctx, callID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return wire.Errorf(wire.NotFound, "no transcript is stored for CallId %q", callID)
	case err != nil:
		h.logger.ErrorContext(ctx, "reading a call's conversation failed", "call_id", callID, "error", err)
		return wire.Errorf(wire.ServerDB, "the call's transcript could not be read")
	}
	flow, err := h.flows.Flow(ctx, scenarioCode(r.URL.Path))
	if err != nil {
		return nil // the edge reports the scenario's own error next
	}
	if conv.TenantID != flow.Tenant.ID {
		return wire.Errorf(wire.Forbidden, "CallId %q is not a call of this scenario's tenant", callID)
	}
	return nil
}
