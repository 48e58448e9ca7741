// Package wire is the seed-003 envelope between the AI Gateway and the
// scenario function: lenient request decoding (the gateway's trailing comma,
// Agent as number or string, unknown fields ignored), the field limits of the
// interface table, TransCodes with their HTTP status, and a byte-exact
// response encoder (TransfterNumber, Result, TransCode as a string).
package wire

import (
	"fmt"
	"net/http"
)

// MaxBody is the largest request body accepted; larger ones get TransCode 412.
const MaxBody = 64 << 10

// Code is a TransCode of seed 003 §1.3.2.
type Code string

// The TransCodes.
const (
	OK            Code = "200"
	Forbidden     Code = "400" // ForbiddenException: ChatBotKey not of this scenario's tenant
	Unauthorized  Code = "401" // UnauthorizedException
	NotFound      Code = "404" // unknown scenario or step
	Timeout       Code = "411" // a dependency did not answer in time and the flow has no fallback
	BadParameter  Code = "412" // a required parameter missing or malformed
	BadData       Code = "413" // the tenant's scenario data is broken
	ServerDB      Code = "501" // server DB error
	EditorDB      Code = "502" // editor DB error
	SendFailed    Code = "600" // FailedToSendMessageException
	InternalError Code = "601" // InternalSystemErrorException
)

// HTTPStatus is the HTTP status sent with a TransCode (CONTRACT.md §2).
func (c Code) HTTPStatus() int {
	switch c {
	case OK:
		return http.StatusOK
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case BadParameter, BadData:
		return http.StatusBadRequest
	case Timeout:
		return http.StatusGatewayTimeout
	default:
		return http.StatusInternalServerError
	}
}

// Message is the seed's message for a TransCode.
func (c Code) Message() string {
	switch c {
	case OK:
		return "정상"
	case Forbidden:
		return "ForbiddenException"
	case Unauthorized:
		return "UnauthorizedException"
	case NotFound:
		return "[Error]Not found!"
	case Timeout:
		return "[Error] timeout"
	case BadParameter:
		return "[Error] parameter error"
	case BadData:
		return "[Error] Not found (server)."
	case ServerDB:
		return "[Error] Server DB (server)"
	case EditorDB:
		return "[Error] Server DB (editor)"
	case SendFailed:
		return "FailedToSendMessageException"
	default:
		return "InternalSystemErrorException"
	}
}

// Error is a failed turn: a TransCode and why, for the caller's Description.
// Reason is short and generic: it goes to the caller, who must learn nothing
// of routebot's insides (addresses, key names, store paths). Cause is the
// failure itself, for the log only.
type Error struct {
	Code   Code
	Reason string
	Cause  error // for the log, never the answer; may be nil
	Status int   // the HTTP status when not Code's own (405); 0 otherwise
}

func (e *Error) Error() string { return string(e.Code) + " " + e.Code.Message() + ": " + e.Reason }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// HTTPStatus is the status to answer with.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	return e.Code.HTTPStatus()
}

// Errorf builds an *Error.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// Failed builds an *Error whose detail, cause, goes to the log only.
func Failed(code Code, reason string, cause error) *Error {
	return &Error{Code: code, Reason: reason, Cause: cause}
}

// Unauthenticated is the refusal of a request whose bearer token failed:
// the caller learns only that (which check failed would help a forger), the
// log gets cause.
func Unauthenticated(cause error) *Error {
	return &Error{Code: Unauthorized, Reason: "the bearer token is missing or not accepted", Cause: cause}
}

// MethodNotAllowed is the refusal of a method other than POST: HTTP 405 with
// TransCode 412; the edge adds the Allow header (AllowedMethods).
func MethodNotAllowed(method string) *Error {
	return &Error{Code: BadParameter, Reason: "method " + method + " is not allowed: use POST", Status: http.StatusMethodNotAllowed}
}

// AllowedMethods is the Allow header of every turn and classify URL.
const AllowedMethods = http.MethodPost
