package dialogflow

import (
	"time"

	"github.com/googleapis/gax-go/v2"

	"github.com/routebot/routebot/common/retry"
)

// retries is how often an UNAVAILABLE answer is retried. The clients'
// default retries it for up to 60 s; an operator's request or a call's
// set-up wants the 503 sooner.
const retries = 2

// retryUnavailable is the call option of every idempotent call made here.
func retryUnavailable() gax.CallOption {
	return gax.WithRetry(func() gax.Retryer {
		return retry.Unavailable(retries, 100*time.Millisecond)
	})
}

// noRetry is the call option of calls that are not idempotent.
func noRetry() gax.CallOption {
	return gax.WithRetry(func() gax.Retryer { return nil })
}
