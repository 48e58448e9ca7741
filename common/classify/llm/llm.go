// Package llm classifies utterances and transcripts with any OpenAI-compatible
// chat-completions endpoint (OpenAI, Azure OpenAI, vLLM, Ollama, Gemini on
// Vertex AI through its OpenAI-compatible endpoint), with plain net/http.
//
// The answer is constrained by a strict JSON schema whose enums are the
// tenant's category names; the system prompt and schema are built once per
// taxonomy, so a call marshals nothing but the user's text. The static prefix
// also lets providers that cache prompt prefixes reuse it across calls.
package llm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/routebot/routebot/common/classify"
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout         = 8 * time.Second
	DefaultSummaryMaxRunes = 300
)

const (
	callName         = "llm: POST chat/completions"
	maxResponseBytes = 1 << 20
	maxErrorBytes    = 4 << 10
	backoffBase      = 100 * time.Millisecond
	backoffMax       = 2 * time.Second
)

// Config says which endpoint and model to use and how patiently.
type Config struct {
	// BaseURL is the API root "chat/completions" is joined to:
	// https://api.openai.com/v1, https://RESOURCE.openai.azure.com/openai/v1,
	// http://localhost:11434/v1 (Ollama), http://HOST:8000/v1 (vLLM),
	// https://LOCATION-aiplatform.googleapis.com/v1/projects/P/locations/L/endpoints/openapi
	// (Vertex AI). A query string (Azure's api-version) is kept.
	BaseURL string
	Model   string
	// APIKey returns the current key; it is called per request so a rotated
	// secret is picked up. nil sends no key.
	APIKey func() []byte
	// APIKeyHeader names the header carrying the key; "" sends
	// "Authorization: Bearer <key>". Azure OpenAI keys go in "api-key".
	APIKeyHeader string
	// TokenSource, when set, returns an OAuth access token (Vertex AI) sent as
	// "Authorization: Bearer <token>" instead of the API key.
	TokenSource func(ctx context.Context) (string, error)
	// Headers are extra, non-secret request headers.
	Headers map[string]string
	// Timeout bounds a whole Classify call, retries included; the caller's
	// deadline wins when it is sooner. Default DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is how many times a 429, a 5xx or a transport error is
	// retried after the first attempt; 0 means never.
	MaxRetries int
	// SummaryMaxRunes cuts the summary; default DefaultSummaryMaxRunes.
	SummaryMaxRunes int
	// HTTPClient defaults to a client on http.DefaultTransport.
	HTTPClient *http.Client
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Classifier is a classify.Classifier backed by a chat-completions endpoint.
// It is safe for concurrent use.
type Classifier struct {
	tax        *classify.Taxonomy
	url        string
	model      string
	apiKey     func() []byte
	keyHeader  string
	token      func(context.Context) (string, error)
	headers    map[string]string
	timeout    time.Duration
	maxRetries int
	summaryMax int
	client     *http.Client
	logger     *slog.Logger

	transcript, utterance requestTemplate
}

var _ classify.Classifier = (*Classifier)(nil)

// New builds a classifier for one tenant taxonomy: the system prompts and
// the response schema are made here, once.
func New(cfg Config, tax *classify.Taxonomy) (*Classifier, error) {
	if tax == nil {
		return nil, errors.New("llm: no taxonomy")
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("llm: no model")
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("llm: base URL %q: want an absolute http(s) URL", cfg.BaseURL)
	}
	if base.User != nil {
		return nil, errors.New("llm: base URL must not carry credentials; use APIKey")
	}
	if cfg.MaxRetries < 0 {
		return nil, fmt.Errorf("llm: MaxRetries %d is negative", cfg.MaxRetries)
	}
	if cfg.Timeout < 0 || cfg.SummaryMaxRunes < 0 {
		return nil, errors.New("llm: Timeout and SummaryMaxRunes must not be negative")
	}
	for name := range cfg.Headers {
		if k := http.CanonicalHeaderKey(name); k == "Authorization" || k == http.CanonicalHeaderKey(cfg.APIKeyHeader) {
			return nil, fmt.Errorf("llm: header %q is for credentials; use APIKey or TokenSource", name)
		}
	}
	c := &Classifier{
		tax:        tax,
		url:        base.JoinPath("chat/completions").String(),
		model:      cfg.Model,
		apiKey:     cfg.APIKey,
		keyHeader:  cfg.APIKeyHeader,
		token:      cfg.TokenSource,
		headers:    cfg.Headers,
		timeout:    cmp.Or(cfg.Timeout, DefaultTimeout),
		maxRetries: cfg.MaxRetries,
		summaryMax: cmp.Or(cfg.SummaryMaxRunes, DefaultSummaryMaxRunes),
		client:     cfg.HTTPClient,
		logger:     cfg.Logger,
	}
	if c.client == nil {
		c.client = &http.Client{}
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	format := newResponseFormat(tax)
	if c.transcript, err = newRequestTemplate(cfg.Model, format, systemPrompt(tax, true)); err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	if c.utterance, err = newRequestTemplate(cfg.Model, format, systemPrompt(tax, false)); err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	return c, nil
}

// Classify asks the model for the category of in.Text. Errors wrap
// classify.ErrUnavailable when the endpoint gave no usable response
// (deadline, transport, HTTP errors), ErrMalformedAnswer or
// ErrOutsideTaxonomy when it answered unusably.
func (c *Classifier) Classify(ctx context.Context, in classify.Input) (classify.Result, error) {
	if strings.TrimSpace(in.Text) == "" {
		return classify.Result{}, errors.New("llm: nothing to classify")
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	tmpl := c.utterance
	if in.Transcript {
		tmpl = c.transcript
	}
	content, finish, err := c.complete(ctx, tmpl.build(in.Text))
	if err != nil {
		return classify.Result{}, err
	}
	res, err := DecodeAnswer(content, c.tax)
	if err != nil {
		return classify.Result{}, fmt.Errorf("llm: decode answer (finish_reason %q): %w", finish, err)
	}
	res.Summary = strings.TrimSpace(clipRunes(res.Summary, c.summaryMax))
	return res, nil
}

type chatResponse struct {
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Content string `json:"content"`
			Refusal string `json:"refusal"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

// complete POSTs body, retrying what may pass (429, 5xx, transport errors)
// while the deadline allows, and returns the first choice's content.
func (c *Classifier) complete(ctx context.Context, body []byte) (content, finish string, err error) {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		resp, err := c.post(ctx, body)
		if err != nil {
			if ctx.Err() != nil {
				return "", "", fmt.Errorf("%s: %w: %w (attempt %d)", callName, classify.ErrUnavailable, context.Cause(ctx), attempt)
			}
			err = fmt.Errorf("%s: %w: %w (attempt %d)", callName, classify.ErrUnavailable, err, attempt)
			if err := c.retry(ctx, attempt, 0, err); err != nil {
				return "", "", err
			}
			continue
		}
		if resp.StatusCode/100 == 2 {
			return c.readCompletion(ctx, resp, attempt, time.Since(start))
		}
		err = c.statusError(resp, attempt)
		if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
			return "", "", err
		}
		if err := c.retry(ctx, attempt, retryAfter(resp.Header, time.Now()), err); err != nil {
			return "", "", err
		}
	}
}

// post sends one attempt. Transport errors lose their *url.Error wrapping:
// the URL is already named by callName.
func (c *Classifier) post(ctx context.Context, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	switch {
	case c.token != nil:
		tok, err := c.token(ctx)
		if err != nil {
			return nil, fmt.Errorf("access token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	case c.apiKey != nil:
		if key := c.apiKey(); len(key) > 0 {
			if c.keyHeader == "" {
				req.Header.Set("Authorization", "Bearer "+string(key))
			} else {
				req.Header.Set(c.keyHeader, string(key))
			}
		}
	}
	resp, err := c.client.Do(req)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		return nil, ue.Err
	}
	return resp, err
}

// retry waits before attempt+1 and returns nil to make it, or cause, said
// more precisely, to give up: when retries are spent, or when the wait
// (Retry-After if the server gave one, else jittered exponential backoff)
// would end past the deadline.
func (c *Classifier) retry(ctx context.Context, attempt int, after time.Duration, cause error) error {
	if attempt > c.maxRetries {
		return cause
	}
	wait := after
	if wait <= 0 {
		d := min(backoffBase<<(attempt-1), backoffMax)
		wait = d/2 + rand.N(d/2)
	}
	if deadline, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(deadline) {
		if after > 0 {
			return fmt.Errorf("%w; Retry-After %v ends past the deadline", cause, after)
		}
		return cause
	}
	c.logger.LogAttrs(ctx, slog.LevelWarn, "llm: retrying chat completion",
		slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", cause.Error()))
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w; %w while waiting to retry", cause, context.Cause(ctx))
	case <-t.C:
		return nil
	}
}

// retryAfter reads retry-after-ms (OpenAI, Azure) or Retry-After (seconds or
// an HTTP date); 0 when absent.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && ms > 0 {
		return time.Duration(ms * float64(time.Millisecond))
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// statusError describes a non-2xx response from the provider's error
// envelope. The message is dropped for 401/403 (providers echo part of the
// key there) and any occurrence of the key is redacted.
func (c *Classifier) statusError(resp *http.Response, attempt int) error {
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	var env struct {
		Error struct {
			Message string `json:"message"`
			Type    string `json:"type"`
			Code    any    `json:"code"`
		} `json:"error"`
	}
	detail := ""
	if json.Unmarshal(raw, &env) == nil {
		e := env.Error
		parts := []string{}
		if e.Type != "" {
			parts = append(parts, "type "+e.Type)
		}
		if e.Code != nil {
			parts = append(parts, fmt.Sprintf("code %v", e.Code))
		}
		if e.Message != "" && resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
			parts = append(parts, clipRunes(c.redact(e.Message), 200))
		}
		if len(parts) > 0 {
			detail = ": " + strings.Join(parts, ", ")
		}
	}
	return fmt.Errorf("%s: %w: HTTP %d%s (attempt %d)", callName, classify.ErrUnavailable, resp.StatusCode, detail, attempt)
}

func (c *Classifier) redact(s string) string {
	if c.apiKey == nil {
		return s
	}
	if key := string(c.apiKey()); len(key) >= 4 {
		s = strings.ReplaceAll(s, key, "[redacted]")
	}
	return s
}

// readCompletion decodes a 2xx body and logs the token usage.
func (c *Classifier) readCompletion(ctx context.Context, resp *http.Response, attempts int, took time.Duration) (content, finish string, err error) {
	defer resp.Body.Close()
	var cr chatResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(&cr); err != nil {
		return "", "", fmt.Errorf("%s: %w: decode response: %w", callName, classify.ErrUnavailable, err)
	}
	c.logger.LogAttrs(ctx, slog.LevelInfo, "llm: chat completion",
		slog.String("model", cmp.Or(cr.Model, c.model)),
		slog.Int("prompt_tokens", cr.Usage.PromptTokens),
		slog.Int("completion_tokens", cr.Usage.CompletionTokens),
		slog.Int("total_tokens", cr.Usage.TotalTokens),
		slog.Int("attempts", attempts),
		slog.Int64("latency_ms", took.Milliseconds()),
	)
	if len(cr.Choices) == 0 {
		return "", "", fmt.Errorf("%s: %w: no choices", callName, ErrMalformedAnswer)
	}
	ch := cr.Choices[0]
	if ch.Message.Refusal != "" {
		return "", ch.FinishReason, fmt.Errorf("%s: %w: the model refused", callName, ErrMalformedAnswer)
	}
	return ch.Message.Content, ch.FinishReason, nil
}
