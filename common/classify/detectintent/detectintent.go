// Package detectintent classifies an utterance with Dialogflow ES
// DetectIntent, the pipeline of seed 000: the agent's intents are mapped onto
// the tenant's taxonomy, and anything Dialogflow is unsure of becomes an
// error so that the caller falls back to another classifier.
package detectintent

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	dialogflow "cloud.google.com/go/dialogflow/apiv2"
	"cloud.google.com/go/dialogflow/apiv2/dialogflowpb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/routebot/routebot/common/classify"
)

// Defaults for the zero values of Config.
const (
	DefaultLocation     = "global"
	DefaultLanguageCode = "ko"
	DefaultTimeout      = 5 * time.Second
)

// maxTextRunes is Dialogflow ES's limit on a text query; longer ones are
// refused with InvalidArgument.
const maxTextRunes = 256

var (
	// ErrNoMatch marks a query Dialogflow answered with its fallback intent,
	// with no intent, or with an intent that maps to no taxonomy path.
	ErrNoMatch = errors.New("no intent of the taxonomy matched")
	// ErrLowConfidence marks an intent matched below Config.MinConfidence.
	ErrLowConfidence = errors.New("intent matched below the minimum confidence")
)

// Sessions is the part of the Dialogflow ES sessions client used here;
// *dialogflow.SessionsClient satisfies it.
type Sessions interface {
	DetectIntent(ctx context.Context, req *dialogflowpb.DetectIntentRequest, opts ...gax.CallOption) (*dialogflowpb.DetectIntentResponse, error)
}

// Config names the agent and how its intents map onto the taxonomy.
type Config struct {
	Project string
	// Location is the agent's region; default "global". A regional agent is
	// only reachable on its regional endpoint (common/dialogflow.Endpoint).
	Location     string
	LanguageCode string // default "ko"
	// IntentMap maps an intent display name to a category path "a/b/c" or to
	// a small category name. Intents not in it match when their display name
	// is a small category name or a whole path.
	IntentMap     map[string]string
	MinConfidence float32
	// Timeout bounds a call, retries included; the caller's deadline wins
	// when it is sooner. Default DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is how many times an Unavailable answer is retried; 0 means
	// never. It replaces the client's default of retrying for 220 s.
	MaxRetries int
}

// Classifier is a classify.Classifier backed by a Dialogflow ES agent. It is
// safe for concurrent use.
type Classifier struct {
	sessions   Sessions
	tax        *classify.Taxonomy
	prefix     string // "projects/P/agent/sessions/" or ".../locations/L/agent/sessions/"
	lang       string
	intents    map[string]classify.Path
	minConf    float32
	timeout    time.Duration
	maxRetries int
}

var _ classify.Classifier = (*Classifier)(nil)

var (
	projectRE  = regexp.MustCompile(`^[a-z][a-z0-9.:-]*[a-z0-9]$`) // domain-scoped ids hold "." and ":"
	locationRE = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)
	sessionRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,36}$`)
)

// NewSessionsClient dials the ES sessions service with opts, which name
// the agent location's endpoint (dialogflow.Clients.ClientOptions: the
// regional rule and ROUTEBOT_DIALOGFLOW_ENDPOINT, shared with every other
// Dialogflow client).
func NewSessionsClient(ctx context.Context, opts ...option.ClientOption) (*dialogflow.SessionsClient, error) {
	c, err := dialogflow.NewSessionsClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("detectintent: dialogflow.NewSessionsClient: %w", err)
	}
	return c, nil
}

// New builds a classifier for one tenant taxonomy; the intent map is
// resolved and checked against it here, once.
func New(sessions Sessions, cfg Config, tax *classify.Taxonomy) (*Classifier, error) {
	if sessions == nil || tax == nil {
		return nil, errors.New("detectintent: sessions client and taxonomy are required")
	}
	if !projectRE.MatchString(cfg.Project) {
		return nil, fmt.Errorf("detectintent: project %q is not a Google Cloud project id", cfg.Project)
	}
	loc := cmp.Or(cfg.Location, DefaultLocation)
	if !locationRE.MatchString(loc) {
		return nil, fmt.Errorf("detectintent: location %q is not a region", loc)
	}
	if cfg.MinConfidence < 0 || cfg.MinConfidence > 1 || cfg.MaxRetries < 0 || cfg.Timeout < 0 {
		return nil, errors.New("detectintent: MinConfidence must be in 0..1, MaxRetries and Timeout not negative")
	}
	intents := make(map[string]classify.Path, len(cfg.IntentMap))
	for name, target := range cfg.IntentMap {
		p, ok := resolve(tax, target)
		if !ok {
			return nil, fmt.Errorf("detectintent: intent %q maps to %q, which is not in the taxonomy", name, target)
		}
		intents[name] = p
	}
	prefix := "projects/" + cfg.Project + "/agent/sessions/"
	if loc != DefaultLocation {
		prefix = "projects/" + cfg.Project + "/locations/" + loc + "/agent/sessions/"
	}
	return &Classifier{
		sessions:   sessions,
		tax:        tax,
		prefix:     prefix,
		lang:       cmp.Or(cfg.LanguageCode, DefaultLanguageCode),
		intents:    intents,
		minConf:    cfg.MinConfidence,
		timeout:    cmp.Or(cfg.Timeout, DefaultTimeout),
		maxRetries: cfg.MaxRetries,
	}, nil
}

// resolve reads "a/b/c" or a small category name.
func resolve(tax *classify.Taxonomy, s string) (classify.Path, bool) {
	if strings.Contains(s, "/") {
		p, err := classify.ParsePath(s)
		return p, err == nil && tax.Contains(p)
	}
	return tax.Leaf(strings.TrimSpace(s))
}

// Classify detects the intent of in.Text. For a transcript only the
// customer's turns are sent (an ES text query holds 256 characters), and the
// result has no summary: Dialogflow gives none.
func (c *Classifier) Classify(ctx context.Context, in classify.Input) (classify.Result, error) {
	text := in.Text
	if in.Transcript {
		text = customerSpeech(text)
	}
	text = clipRunes(strings.TrimSpace(text), maxTextRunes)
	if text == "" {
		return classify.Result{}, errors.New("detectintent: nothing to classify")
	}
	session, err := c.sessionPath(in.SessionID)
	if err != nil {
		return classify.Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	resp, err := c.sessions.DetectIntent(ctx, &dialogflowpb.DetectIntentRequest{
		Session: session,
		QueryInput: &dialogflowpb.QueryInput{Input: &dialogflowpb.QueryInput_Text{
			Text: &dialogflowpb.TextInput{Text: text, LanguageCode: c.lang},
		}},
	}, gax.WithRetry(c.retryer))
	if err != nil {
		return classify.Result{}, fmt.Errorf("detectintent: DetectIntent: %w: %w", classify.ErrUnavailable, err)
	}

	qr := resp.GetQueryResult()
	intent := qr.GetIntent()
	name, conf := intent.GetDisplayName(), qr.GetIntentDetectionConfidence()
	switch {
	case intent == nil:
		return classify.Result{}, fmt.Errorf("detectintent: %w: no intent", ErrNoMatch)
	case intent.GetIsFallback():
		return classify.Result{}, fmt.Errorf("detectintent: %w: fallback intent %q", ErrNoMatch, name)
	}
	p, ok := c.intents[name]
	if !ok {
		if p, ok = resolve(c.tax, name); !ok {
			return classify.Result{}, fmt.Errorf("detectintent: %w: intent %q is not mapped", ErrNoMatch, name)
		}
	}
	if conf < c.minConf {
		return classify.Result{}, fmt.Errorf("detectintent: %w: intent %q at %.2f < %.2f", ErrLowConfidence, name, conf, c.minConf)
	}
	return classify.Result{
		Path: p,
		// float32 → float64 would show as 0.8500000238; four decimals is all
		// Dialogflow means.
		Confidence: math.Round(float64(conf)*1e4) / 1e4,
		Backend:    "dialogflow",
		Fallback:   p == c.tax.Fallback,
	}, nil
}

// sessionPath uses the caller's session id when Dialogflow accepts it as is,
// a hash of it otherwise (so the conversation state still follows the call),
// and a random one when there is none.
func (c *Classifier) sessionPath(id string) (string, error) {
	switch {
	case sessionRE.MatchString(id):
	case id != "":
		sum := sha256.Sum256([]byte(id))
		id = hex.EncodeToString(sum[:16])
	default:
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("detectintent: session id: %w", err)
		}
		id = hex.EncodeToString(b[:])
	}
	return c.prefix + id, nil
}

// retryer retries Unavailable up to MaxRetries times with short backoff;
// the call's deadline still bounds the waits.
func (c *Classifier) retryer() gax.Retryer {
	return &boundedRetryer{
		left:    c.maxRetries,
		backoff: gax.Backoff{Initial: 50 * time.Millisecond, Max: time.Second, Multiplier: 2},
	}
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

const (
	customerTag = "고객:"
	agentTag    = "상담원:"
)

// customerSpeech keeps the customer's turns of a 상담원:/고객: transcript,
// where the intent is, joined by spaces; turns may run onto one line, as in
// the seed's sample. A text with no 고객: turn is returned whole.
func customerSpeech(transcript string) string {
	var parts []string
	rest := transcript
	for {
		i := strings.Index(rest, customerTag)
		if i < 0 {
			break
		}
		rest = rest[i+len(customerTag):]
		end := len(rest)
		for _, tag := range []string{agentTag, customerTag} {
			if j := strings.Index(rest, tag); j >= 0 && j < end {
				end = j
			}
		}
		if turn := strings.Join(strings.Fields(rest[:end]), " "); turn != "" {
			parts = append(parts, turn)
		}
		rest = rest[end:]
	}
	if len(parts) == 0 {
		return transcript
	}
	return strings.Join(parts, " ")
}

// clipRunes cuts s to at most n runes.
func clipRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
