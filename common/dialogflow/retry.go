package dialogflow

import (
	"time"

	"github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// retries is how often an UNAVAILABLE answer is retried. The clients'
// default retries it for up to 60 s; an operator's request or a call's
// set-up wants the 503 sooner.
const retries = 2

// retry is the call option of every call made here.
func retry() gax.CallOption {
	return gax.WithRetry(func() gax.Retryer {
		return &boundedRetryer{left: retries, backoff: gax.Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2}}
	})
}

// noRetry is the call option of calls that are not idempotent.
func noRetry() gax.CallOption {
	return gax.WithRetry(func() gax.Retryer { return nil })
}

type boundedRetryer struct {
	left    int
	backoff gax.Backoff
}

func (r *boundedRetryer) Retry(err error) (time.Duration, bool) {
	if r.left <= 0 || status.Code(err) != codes.Unavailable {
		return 0, false
	}
	r.left--
	return r.backoff.Pause(), true
}
