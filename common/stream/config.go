package stream

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// LoadOptions reads the stream service's settings from getenv, failing with
// a message naming each bad variable:
//
//	ROUTEBOT_STREAM_MAX_DURATION    one Dialogflow stream's life (14m; Dialogflow allows 15m)
//	ROUTEBOT_STREAM_MAX_STREAMS     legs per instance (1000)
//	ROUTEBOT_STREAM_RESUME_GRACE    how long a leg waits for a new socket (30s)
//	ROUTEBOT_STREAM_COMPLETE_GRACE  from a call's last leg to completing its conversation (30s)
//	ROUTEBOT_STREAM_REPLAY_WINDOW   audio kept for a replay (30s)
func LoadOptions(getenv func(string) string) (Options, error) {
	var errs []error
	dur := func(name string) time.Duration {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return 0
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a positive duration such as 14m or 30s", name, v))
		}
		return d
	}
	var o Options
	o.Relay.MaxDuration = dur("ROUTEBOT_STREAM_MAX_DURATION")
	if o.Relay.MaxDuration > 15*time.Minute {
		errs = append(errs, fmt.Errorf("ROUTEBOT_STREAM_MAX_DURATION=%s: Dialogflow ends a stream after 15m", o.Relay.MaxDuration))
	}
	o.ResumeGrace = dur("ROUTEBOT_STREAM_RESUME_GRACE")
	o.CompleteGrace = dur("ROUTEBOT_STREAM_COMPLETE_GRACE")
	o.Relay.ReplayWindow = dur("ROUTEBOT_STREAM_REPLAY_WINDOW")
	if v := strings.TrimSpace(getenv("ROUTEBOT_STREAM_MAX_STREAMS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("ROUTEBOT_STREAM_MAX_STREAMS=%q: want a positive number", v))
		}
		o.MaxStreams = n
	}
	if err := errors.Join(errs...); err != nil {
		return Options{}, fmt.Errorf("configuration: %w", err)
	}
	return o, nil
}
