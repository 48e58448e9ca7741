// Package retry bounds how Google's Go clients retry: only UNAVAILABLE, a
// few times, with a short backoff. The clients' defaults retry for up to a
// minute, longer than a caller on the line or an operator's request waits.
package retry

import (
	"time"

	"github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Unavailable retries an UNAVAILABLE answer up to times times, backing off
// from initial to at most a second. Make one per call: it counts.
func Unavailable(times int, initial time.Duration) gax.Retryer {
	return &bounded{left: times, backoff: gax.Backoff{Initial: initial, Max: time.Second, Multiplier: 2}}
}

type bounded struct {
	left    int
	backoff gax.Backoff
}

func (r *bounded) Retry(err error) (time.Duration, bool) {
	if r.left <= 0 || status.Code(err) != codes.Unavailable {
		return 0, false
	}
	r.left--
	return r.backoff.Pause(), true
}
