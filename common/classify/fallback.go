package classify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// fallbackReserve is the most of the caller's remaining time kept back from
// the primary for the fallback, so that a primary which hangs until its
// deadline does not leave the fallback an expired context.
const fallbackReserve = 500 * time.Millisecond

// WithFallback asks primary first and fallback when primary fails: an error,
// or a result with no path. An answer of primary inside the taxonomy is kept
// whatever its confidence, its "unsure" (the taxonomy's fallback path)
// included: backends report confidence on different scales, so the chain
// does not second-guess one with another; backends that should not answer
// when unsure (detectintent's MinConfidence) return an error instead.
//
// When primary answers a transcript without a summary (Dialogflow), the
// summary is taken from fallback's answer. If both fail, the error wraps
// both. Failures are logged at warning with the backend and the error, never
// the text.
func WithFallback(primary, fallback Classifier, logger *slog.Logger) Classifier {
	if logger == nil {
		logger = slog.Default()
	}
	return &chain{primary: primary, fallback: fallback, logger: logger}
}

type chain struct {
	primary, fallback Classifier
	logger            *slog.Logger
}

func (c *chain) Classify(ctx context.Context, in Input) (Result, error) {
	res, err := c.classifyPrimary(ctx, in)
	if err == nil && res.Path.IsZero() {
		err = errors.New("answered no category")
	}
	if err == nil {
		if in.Transcript && res.Summary == "" {
			res.Summary = c.summary(ctx, in)
		}
		return res, nil
	}
	c.logger.LogAttrs(ctx, slog.LevelWarn, "classify: primary classifier failed, using the fallback",
		slog.String("primary", backendName(c.primary)),
		slog.String("fallback", backendName(c.fallback)),
		slog.Bool("unavailable", errors.Is(err, ErrUnavailable)),
		slog.String("error", err.Error()))
	fb, ferr := c.fallback.Classify(ctx, in)
	if ferr != nil {
		return Result{}, fmt.Errorf("classify: %s: %w; fallback %s: %w", backendName(c.primary), err, backendName(c.fallback), ferr)
	}
	return fb, nil
}

// classifyPrimary runs primary under a deadline that leaves the fallback a
// share of the caller's: a quarter of what remains, at most fallbackReserve.
func (c *chain) classifyPrimary(ctx context.Context, in Input) (Result, error) {
	if deadline, ok := ctx.Deadline(); ok {
		reserve := min(time.Until(deadline)/4, fallbackReserve)
		if reserve > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline.Add(-reserve))
			defer cancel()
		}
	}
	return c.primary.Classify(ctx, in)
}

// summary asks the fallback for what the primary did not give; a failure
// leaves the summary empty rather than failing a classification that worked.
func (c *chain) summary(ctx context.Context, in Input) string {
	fb, err := c.fallback.Classify(ctx, in)
	if err != nil {
		c.logger.LogAttrs(ctx, slog.LevelWarn, "classify: no summary from the fallback classifier",
			slog.String("fallback", backendName(c.fallback)),
			slog.String("error", err.Error()))
		return ""
	}
	return fb.Summary
}

// backendName names a classifier in logs and errors by its type
// ("*llm.Classifier"): Result.Backend is not there when it failed.
func backendName(c Classifier) string { return fmt.Sprintf("%T", c) }
