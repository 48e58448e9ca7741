package dialogflow

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// CallError is a failed Dialogflow call: which method, on which resource,
// and the gRPC status code Dialogflow (or the caller's deadline) gave.
type CallError struct {
	Call     string // "CreateConversationProfile" …
	Resource string // the parent or name the call was about
	Code     codes.Code
	Err      error
}

func (e *CallError) Error() string {
	return fmt.Sprintf("dialogflow: %s(%s): %s: %v", e.Call, e.Resource, e.Code, e.Err)
}

func (e *CallError) Unwrap() error { return e.Err }

// callError wraps err of call. A context's end is reported as Dialogflow's
// DEADLINE_EXCEEDED or CANCELLED, which is what the caller sees either way.
func callError(call, resource string, err error) error {
	return &CallError{Call: call, Resource: resource, Code: codeOf(err), Err: err}
}

func codeOf(err error) codes.Code {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	}
	return status.Code(err)
}

// Code is the gRPC code of a CallError in err's chain, codes.OK when there
// is none.
func Code(err error) codes.Code {
	var ce *CallError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return codes.OK
}
