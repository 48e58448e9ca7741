// Package config reads routebot's environment variables once, at start, and
// validates them: a misconfigured deployment fails with a message naming the
// variable instead of misbehaving on the first call.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // ROUTEBOT_TIMEZONE works where the system has no zone files (distroless, functions)

	"github.com/routebot/routebot/common/logging"
	"github.com/routebot/routebot/common/secrets"
	"github.com/routebot/routebot/common/session"
)

// DevToken is the bearer token of a local run when ROUTEBOT_API_TOKEN is
// unset. It is public: never use it in production (Load refuses it with the
// Firestore store).
const DevToken = "routebot-dev-token"

// Config is every setting routebot reads. Secret settings hold either the
// value or a Secret Manager version name (projects/P/secrets/S/versions/V).
type Config struct {
	Port    string // PORT
	Project string // GOOGLE_CLOUD_PROJECT
	// ListenHost is the local run's interface (ROUTEBOT_LISTEN_HOST): by
	// default 127.0.0.1 while it accepts the public development token, every
	// interface ("") once real tokens or JWT keys are configured.
	ListenHost string

	Store   string // ROUTEBOT_STORE: memory | firestore (default: memory locally, firestore deployed)
	Tenants string // ROUTEBOT_TENANTS: tenant folder for the memory store; "" = the embedded demo tenants

	APITokens []string      // ROUTEBOT_API_TOKEN: comma-separated static tokens (or secret names)
	JWTKeys   []string      // ROUTEBOT_JWT_KEY: comma-separated HS256 keys (or secret names)
	JWTMaxAge time.Duration // ROUTEBOT_JWT_MAX_AGE: how long after its iat a JWT without exp is accepted
	DevToken  bool          // no token configured: the local run accepts DevToken

	// SessionKey keys the digest of the last request each session keeps
	// (ROUTEBOT_SESSION_KEY, value or secret name, at least 32 bytes); ""
	// is a random key per process, refused for deployed Firestore, whose
	// instances share sessions.
	SessionKey string

	SessionTTL      time.Duration // ROUTEBOT_SESSION_TTL
	TurnTimeout     time.Duration // ROUTEBOT_TURN_TIMEOUT: a whole turn
	ClassifyTimeout time.Duration // ROUTEBOT_CLASSIFY_TIMEOUT: a live turn's classification
	PostCallTimeout time.Duration // ROUTEBOT_POSTCALL_TIMEOUT: the classify function
	SecretRefresh   time.Duration // ROUTEBOT_SECRET_REFRESH

	Classifier    string // ROUTEBOT_CLASSIFIER: embedded | llm | dialogflow (tenants may choose their own)
	LLMBaseURL    string // ROUTEBOT_LLM_BASE_URL
	LLMModel      string // ROUTEBOT_LLM_MODEL
	LLMAPIKey     string // ROUTEBOT_LLM_API_KEY (value or secret name)
	LLMAuth       string // ROUTEBOT_LLM_AUTH: bearer | api-key (Azure) | google (Vertex AI)
	DFProject     string // ROUTEBOT_DIALOGFLOW_PROJECT (default GOOGLE_CLOUD_PROJECT)
	DFLocation    string // ROUTEBOT_DIALOGFLOW_LOCATION
	DFEndpoint    string // ROUTEBOT_DIALOGFLOW_ENDPOINT: every location's endpoint (host:port; a loopback one is a plaintext fake)
	DFLanguage    string // ROUTEBOT_DIALOGFLOW_LANGUAGE
	TimeZone      *time.Location
	TimeZoneName  string     // ROUTEBOT_TIMEZONE
	LogLevel      slog.Level // ROUTEBOT_LOG_LEVEL
	FirestoreHost string     // FIRESTORE_EMULATOR_HOST, when set
}

// ListenAddr is the local run's listen address, host and PORT.
func (c Config) ListenAddr() string {
	return net.JoinHostPort(strings.Trim(c.ListenHost, "[]"), c.Port)
}

// Load reads the configuration from getenv. local selects the local run's
// defaults (the memory store, a development token when none is set); a
// deployed function defaults to Firestore, because the memory store's
// sessions live in one instance and Cloud Run spreads a call's turns over
// several.
func Load(getenv func(string) string, local bool) (Config, error) {
	env := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	var errs []error
	dur := func(name string, def time.Duration) time.Duration {
		v := env(name, "")
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a positive duration such as 1500ms or 1h", name, v))
			return def
		}
		return d
	}
	c := Config{
		Port:            env("PORT", "8080"),
		Project:         env("GOOGLE_CLOUD_PROJECT", ""),
		Store:           env("ROUTEBOT_STORE", ""),
		Tenants:         env("ROUTEBOT_TENANTS", ""),
		APITokens:       list(env("ROUTEBOT_API_TOKEN", "")),
		JWTKeys:         list(env("ROUTEBOT_JWT_KEY", "")),
		JWTMaxAge:       dur("ROUTEBOT_JWT_MAX_AGE", time.Hour),
		SessionKey:      env("ROUTEBOT_SESSION_KEY", ""),
		SessionTTL:      dur("ROUTEBOT_SESSION_TTL", time.Hour),
		TurnTimeout:     dur("ROUTEBOT_TURN_TIMEOUT", 3*time.Second),
		ClassifyTimeout: dur("ROUTEBOT_CLASSIFY_TIMEOUT", 1500*time.Millisecond),
		PostCallTimeout: dur("ROUTEBOT_POSTCALL_TIMEOUT", 20*time.Second),
		SecretRefresh:   dur("ROUTEBOT_SECRET_REFRESH", 5*time.Minute),
		Classifier:      env("ROUTEBOT_CLASSIFIER", "embedded"),
		LLMBaseURL:      strings.TrimRight(env("ROUTEBOT_LLM_BASE_URL", ""), "/"),
		LLMModel:        env("ROUTEBOT_LLM_MODEL", ""),
		LLMAPIKey:       env("ROUTEBOT_LLM_API_KEY", ""),
		LLMAuth:         env("ROUTEBOT_LLM_AUTH", "bearer"),
		DFLocation:      env("ROUTEBOT_DIALOGFLOW_LOCATION", "global"),
		DFEndpoint:      env("ROUTEBOT_DIALOGFLOW_ENDPOINT", ""),
		DFLanguage:      env("ROUTEBOT_DIALOGFLOW_LANGUAGE", "ko"),
		TimeZoneName:    env("ROUTEBOT_TIMEZONE", "Asia/Seoul"),
		FirestoreHost:   env("FIRESTORE_EMULATOR_HOST", ""),
	}
	c.DFProject = env("ROUTEBOT_DIALOGFLOW_PROJECT", c.Project)

	if _, err := strconv.Atoi(c.Port); err != nil {
		errs = append(errs, fmt.Errorf("PORT=%q: want a port number", c.Port))
	}
	var ok bool
	if c.LogLevel, ok = logging.ParseLevel(getenv("ROUTEBOT_LOG_LEVEL")); !ok {
		errs = append(errs, fmt.Errorf("ROUTEBOT_LOG_LEVEL=%q: want DEBUG, INFO, WARNING or ERROR", getenv("ROUTEBOT_LOG_LEVEL")))
	}
	if loc, err := time.LoadLocation(c.TimeZoneName); err != nil {
		errs = append(errs, fmt.Errorf("ROUTEBOT_TIMEZONE=%q: %w", c.TimeZoneName, err))
	} else {
		c.TimeZone = loc
	}
	storeSet := c.Store != ""
	if !storeSet {
		c.Store = "firestore"
		if local {
			c.Store = "memory"
		}
	}
	switch c.Store {
	case "memory":
	case "firestore":
		if c.Project == "" && storeSet {
			errs = append(errs, errors.New("ROUTEBOT_STORE=firestore needs GOOGLE_CLOUD_PROJECT"))
		} else if c.Project == "" {
			errs = append(errs, errors.New("ROUTEBOT_STORE is unset, so this deployed function uses Firestore (ROUTEBOT_STORE=firestore), which needs GOOGLE_CLOUD_PROJECT; ROUTEBOT_STORE=memory serves the in-memory demo tenants, one session store per instance"))
		}
		if c.Tenants != "" {
			errs = append(errs, errors.New("ROUTEBOT_TENANTS is for the memory store; with Firestore, push tenants with routebotctl"))
		}
	default:
		errs = append(errs, fmt.Errorf("ROUTEBOT_STORE=%q: want memory or firestore", c.Store))
	}
	if len(c.APITokens) == 0 && len(c.JWTKeys) == 0 {
		// The emulator, like the memory store, holds no real data.
		if local && (c.Store == "memory" || c.FirestoreHost != "") {
			c.DevToken, c.APITokens = true, []string{DevToken}
		} else {
			errs = append(errs, errors.New("set ROUTEBOT_API_TOKEN and/or ROUTEBOT_JWT_KEY (values or Secret Manager version names): the gateway's requests cannot be authenticated without one"))
		}
	}
	// The development token is public: a run accepting it is reachable from
	// this machine only, unless ROUTEBOT_LISTEN_HOST asks otherwise.
	c.ListenHost = env("ROUTEBOT_LISTEN_HOST", "")
	if c.ListenHost == "" && c.DevToken {
		c.ListenHost = "127.0.0.1"
	}
	if c.ListenHost == "*" {
		c.ListenHost = "" // every interface, said explicitly
	}
	if c.ListenHost != "" && net.ParseIP(strings.Trim(c.ListenHost, "[]")) == nil && c.ListenHost != "localhost" {
		errs = append(errs, fmt.Errorf("ROUTEBOT_LISTEN_HOST=%q: want an IP address of this machine (127.0.0.1, ::1, 0.0.0.0), localhost, or * for every interface", c.ListenHost))
	}
	switch {
	case c.SessionKey == "" && c.Store == "firestore" && !local:
		errs = append(errs, errors.New("set ROUTEBOT_SESSION_KEY (a Secret Manager version name of at least 32 random bytes): instances sharing Firestore sessions must share the key that recognises a retried turn"))
	case c.SessionKey != "" && !secrets.IsVersionName(c.SessionKey) && len(c.SessionKey) < session.MinRequestKeyBytes:
		errs = append(errs, fmt.Errorf("ROUTEBOT_SESSION_KEY: want at least %d random bytes (or a Secret Manager version name)", session.MinRequestKeyBytes))
	}
	for _, tok := range c.APITokens {
		if tok == DevToken && !c.DevToken && c.Store == "firestore" {
			errs = append(errs, errors.New("ROUTEBOT_API_TOKEN is the public development token; refusing it with the Firestore store"))
		}
	}
	switch c.Classifier {
	case "embedded":
	case "dialogflow":
		if c.DFProject == "" {
			errs = append(errs, errors.New("ROUTEBOT_CLASSIFIER=dialogflow needs ROUTEBOT_DIALOGFLOW_PROJECT or GOOGLE_CLOUD_PROJECT"))
		}
	case "llm":
		if c.LLMBaseURL == "" || c.LLMModel == "" {
			errs = append(errs, errors.New("ROUTEBOT_CLASSIFIER=llm needs ROUTEBOT_LLM_BASE_URL and ROUTEBOT_LLM_MODEL"))
		}
	default:
		errs = append(errs, fmt.Errorf("ROUTEBOT_CLASSIFIER=%q: want embedded, llm or dialogflow", c.Classifier))
	}
	if c.DFEndpoint != "" {
		if _, port, err := net.SplitHostPort(c.DFEndpoint); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("ROUTEBOT_DIALOGFLOW_ENDPOINT=%q: want host:port such as 127.0.0.1:9090", c.DFEndpoint))
		}
	}
	if c.LLMBaseURL != "" {
		if u, err := url.Parse(c.LLMBaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("ROUTEBOT_LLM_BASE_URL=%q: want an http(s) URL such as https://api.openai.com/v1", c.LLMBaseURL))
		}
	}
	switch c.LLMAuth {
	case "bearer", "api-key", "google":
	default:
		errs = append(errs, fmt.Errorf("ROUTEBOT_LLM_AUTH=%q: want bearer, api-key or google", c.LLMAuth))
	}
	if c.ClassifyTimeout >= c.TurnTimeout {
		errs = append(errs, fmt.Errorf("ROUTEBOT_CLASSIFY_TIMEOUT (%s) must be shorter than ROUTEBOT_TURN_TIMEOUT (%s): the turn needs time to answer after it", c.ClassifyTimeout, c.TurnTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
