package wire

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestHTTPStatus(t *testing.T) {
	tests := []struct {
		code Code
		want int
	}{
		{OK, http.StatusOK},
		{Unauthorized, http.StatusUnauthorized},
		{Forbidden, http.StatusForbidden},
		{NotFound, http.StatusNotFound},
		{BadParameter, http.StatusBadRequest},
		{BadData, http.StatusBadRequest},
		{Timeout, http.StatusGatewayTimeout},
		{ServerDB, http.StatusInternalServerError},
		{EditorDB, http.StatusInternalServerError},
		{SendFailed, http.StatusInternalServerError},
		{InternalError, http.StatusInternalServerError},
		{Code("999"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			if got := tt.code.HTTPStatus(); got != tt.want {
				t.Errorf("Code(%s).HTTPStatus() = %d, want %d", tt.code, got, tt.want)
			}
		})
	}
}

func TestCodeValues(t *testing.T) {
	// The TransCodes are the seed's strings, sent as they are.
	tests := []struct {
		code    Code
		want    string
		message string
	}{
		{OK, "200", "정상"},
		{Forbidden, "400", "ForbiddenException"},
		{Unauthorized, "401", "UnauthorizedException"},
		{NotFound, "404", "[Error]Not found!"},
		{Timeout, "411", "[Error] timeout"},
		{BadParameter, "412", "[Error] parameter error"},
		{BadData, "413", "[Error] Not found (server)."},
		{ServerDB, "501", "[Error] Server DB (server)"},
		{EditorDB, "502", "[Error] Server DB (editor)"},
		{SendFailed, "600", "FailedToSendMessageException"},
		{InternalError, "601", "InternalSystemErrorException"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if string(tt.code) != tt.want {
				t.Errorf("code = %q, want %q", tt.code, tt.want)
			}
			if got := tt.code.Message(); got != tt.message {
				t.Errorf("Message() = %q, want %q", got, tt.message)
			}
		})
	}
}

func TestErrorStatusAndCause(t *testing.T) {
	cause := errors.New("read tcp 127.0.0.1:18504->127.0.0.1:51014: i/o timeout")
	tests := []struct {
		name       string
		err        *Error
		wantStatus int
		wantCode   Code
	}{
		{"method", MethodNotAllowed("GET"), http.StatusMethodNotAllowed, BadParameter},
		{"unauthenticated", Unauthenticated(cause), http.StatusUnauthorized, Unauthorized},
		{"failed", Failed(BadParameter, "the request body could not be read", cause), http.StatusBadRequest, BadParameter},
		{"errorf", Errorf(ServerDB, "x"), http.StatusInternalServerError, ServerDB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.HTTPStatus(); got != tt.wantStatus {
				t.Errorf("HTTPStatus() = %d, want %d", got, tt.wantStatus)
			}
			if tt.err.Code != tt.wantCode {
				t.Errorf("Code = %s, want %s", tt.err.Code, tt.wantCode)
			}
			// The cause is the log's: never in what the caller reads.
			if resp := ErrorResponse(Request{}, tt.err); strings.Contains(string(resp.AppendJSON(nil)), "127.0.0.1") {
				t.Errorf("answer tells the caller the cause: %s", resp.AppendJSON(nil))
			}
			if tt.err.Cause != nil && !errors.Is(tt.err, cause) {
				t.Errorf("the error does not unwrap to its cause")
			}
		})
	}
}
