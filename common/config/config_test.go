package config

import (
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const sessionKey = "projects/routebot-prod/secrets/session-key/versions/latest"

func TestLoad(t *testing.T) {
	const token = "gateway-token-1b7e"
	tests := []struct {
		name    string
		env     map[string]string
		local   bool
		check   func(t *testing.T, c Config) // when Load succeeds
		wantErr []string                     // substrings of the error when it fails
	}{
		{name: "local run defaults", local: true, check: func(t *testing.T, c Config) {
			if !c.DevToken || !slices.Equal(c.APITokens, []string{DevToken}) || len(c.JWTKeys) != 0 {
				t.Errorf("DevToken %v tokens %v JWT keys %v: want the development token alone", c.DevToken, c.APITokens, c.JWTKeys)
			}
			want := Config{Port: "8080", ListenHost: "127.0.0.1", Store: "memory", JWTMaxAge: time.Hour, SessionTTL: time.Hour, TurnTimeout: 3 * time.Second,
				ClassifyTimeout: 1500 * time.Millisecond, PostCallTimeout: 20 * time.Second, SecretRefresh: 5 * time.Minute,
				Classifier: "embedded", LLMAuth: "bearer", DFLocation: "global", DFLanguage: "ko",
				TimeZoneName: "Asia/Seoul", LogLevel: slog.LevelInfo}
			got := c
			got.APITokens, got.DevToken, got.TimeZone = nil, false, nil
			if !equal(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			if c.TimeZone == nil || c.TimeZone.String() != "Asia/Seoul" {
				t.Errorf("TimeZone %v", c.TimeZone)
			}
		}},
		{name: "deployed function with a token", env: map[string]string{"ROUTEBOT_API_TOKEN": token}, check: func(t *testing.T, c Config) {
			if c.DevToken || !slices.Equal(c.APITokens, []string{token}) {
				t.Errorf("DevToken %v tokens %v", c.DevToken, c.APITokens)
			}
		}},
		// The development token is public: its run listens on loopback only.
		{name: "development token: loopback only", local: true, check: func(t *testing.T, c Config) {
			if c.ListenAddr() != "127.0.0.1:8080" {
				t.Errorf("ListenAddr %q, want 127.0.0.1:8080", c.ListenAddr())
			}
		}},
		{name: "real token: every interface", local: true, env: map[string]string{"ROUTEBOT_API_TOKEN": token, "PORT": "9000"}, check: func(t *testing.T, c Config) {
			if c.ListenAddr() != ":9000" {
				t.Errorf("ListenAddr %q, want :9000", c.ListenAddr())
			}
		}},
		{name: "JWT key: every interface", local: true, env: map[string]string{"ROUTEBOT_JWT_KEY": "k"}, check: func(t *testing.T, c Config) {
			if c.ListenAddr() != ":8080" {
				t.Errorf("ListenAddr %q, want :8080", c.ListenAddr())
			}
		}},
		{name: "development token on every interface when asked", local: true, env: map[string]string{"ROUTEBOT_LISTEN_HOST": "*"}, check: func(t *testing.T, c Config) {
			if !c.DevToken || c.ListenAddr() != ":8080" {
				t.Errorf("DevToken %v ListenAddr %q, want :8080", c.DevToken, c.ListenAddr())
			}
		}},
		{name: "listen host given", local: true, env: map[string]string{"ROUTEBOT_LISTEN_HOST": "::1", "ROUTEBOT_API_TOKEN": token}, check: func(t *testing.T, c Config) {
			if c.ListenAddr() != "[::1]:8080" {
				t.Errorf("ListenAddr %q, want [::1]:8080", c.ListenAddr())
			}
		}},
		{name: "listen host not an address", local: true, env: map[string]string{"ROUTEBOT_LISTEN_HOST": "my laptop"}, wantErr: []string{"ROUTEBOT_LISTEN_HOST"}},
		{name: "JWT max age", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_JWT_MAX_AGE": "15m"}, check: func(t *testing.T, c Config) {
			if c.JWTMaxAge != 15*time.Minute {
				t.Errorf("JWTMaxAge %v", c.JWTMaxAge)
			}
		}},
		{name: "JWT max age not a duration", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_JWT_MAX_AGE": "1 day"}, wantErr: []string{"ROUTEBOT_JWT_MAX_AGE"}},
		{name: "deployed function without a token", wantErr: []string{"ROUTEBOT_API_TOKEN", "ROUTEBOT_JWT_KEY"}},
		{name: "no development token with Firestore, even locally", local: true,
			env: map[string]string{"ROUTEBOT_STORE": "firestore", "GOOGLE_CLOUD_PROJECT": "p"}, wantErr: []string{"ROUTEBOT_API_TOKEN"}},
		{name: "the public development token refused with Firestore",
			env:     map[string]string{"ROUTEBOT_STORE": "firestore", "GOOGLE_CLOUD_PROJECT": "p", "ROUTEBOT_API_TOKEN": "other," + DevToken},
			wantErr: []string{"ROUTEBOT_API_TOKEN is the public development token"}},
		{name: "the public development token refused with Firestore, locally too", local: true,
			env:     map[string]string{"ROUTEBOT_STORE": "firestore", "GOOGLE_CLOUD_PROJECT": "p", "ROUTEBOT_API_TOKEN": DevToken},
			wantErr: []string{"public development token"}},
		{name: "JWT key alone: no development token", local: true, env: map[string]string{"ROUTEBOT_JWT_KEY": "k1, k2"}, check: func(t *testing.T, c Config) {
			if c.DevToken || len(c.APITokens) != 0 || !slices.Equal(c.JWTKeys, []string{"k1", "k2"}) {
				t.Errorf("DevToken %v tokens %v JWT keys %v", c.DevToken, c.APITokens, c.JWTKeys)
			}
		}},
		{name: "token list trimmed", env: map[string]string{"ROUTEBOT_API_TOKEN": " a, b ,,c ,"}, check: func(t *testing.T, c Config) {
			if !slices.Equal(c.APITokens, []string{"a", "b", "c"}) {
				t.Errorf("tokens %q", c.APITokens)
			}
		}},
		{name: "secret version names kept as given",
			env: map[string]string{"ROUTEBOT_API_TOKEN": "projects/p/secrets/s/versions/latest", "ROUTEBOT_LLM_API_KEY": "projects/p/secrets/k/versions/3"},
			check: func(t *testing.T, c Config) {
				if c.APITokens[0] != "projects/p/secrets/s/versions/latest" || c.LLMAPIKey != "projects/p/secrets/k/versions/3" {
					t.Errorf("tokens %q key %q", c.APITokens, c.LLMAPIKey)
				}
			}},
		{name: "blank values mean the defaults", local: true,
			env: map[string]string{"PORT": " ", "ROUTEBOT_STORE": "\t", "ROUTEBOT_TURN_TIMEOUT": " ", "ROUTEBOT_CLASSIFIER": " "},
			check: func(t *testing.T, c Config) {
				if c.Port != "8080" || c.Store != "memory" || c.TurnTimeout != 3*time.Second || c.Classifier != "embedded" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "Firestore", env: map[string]string{"ROUTEBOT_STORE": "firestore", "GOOGLE_CLOUD_PROJECT": "routebot-prod",
			"ROUTEBOT_API_TOKEN": token, "FIRESTORE_EMULATOR_HOST": "127.0.0.1:8686", "ROUTEBOT_SESSION_KEY": sessionKey}, check: func(t *testing.T, c Config) {
			if c.Store != "firestore" || c.Project != "routebot-prod" || c.FirestoreHost != "127.0.0.1:8686" || c.DFProject != "routebot-prod" ||
				c.SessionKey != sessionKey {
				t.Errorf("%+v", c)
			}
		}},
		{name: "deployed Firestore without a session key", env: map[string]string{"ROUTEBOT_STORE": "firestore", "GOOGLE_CLOUD_PROJECT": "p", "ROUTEBOT_API_TOKEN": token},
			wantErr: []string{"set ROUTEBOT_SESSION_KEY"}},
		{name: "local Firestore: a random session key per process", local: true,
			env: map[string]string{"ROUTEBOT_STORE": "firestore", "GOOGLE_CLOUD_PROJECT": "p", "ROUTEBOT_API_TOKEN": token},
			check: func(t *testing.T, c Config) {
				if c.SessionKey != "" {
					t.Errorf("SessionKey %q", c.SessionKey)
				}
			}},
		{name: "session key too short", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_SESSION_KEY": "short-SECRET"},
			wantErr: []string{"ROUTEBOT_SESSION_KEY: want at least 32 random bytes"}},
		{name: "session key of 32 bytes", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_SESSION_KEY": strings.Repeat("k", 32)},
			check: func(t *testing.T, c Config) {
				if c.SessionKey != strings.Repeat("k", 32) {
					t.Errorf("SessionKey %q", c.SessionKey)
				}
			}},
		{name: "Firestore without a project", env: map[string]string{"ROUTEBOT_STORE": "firestore", "ROUTEBOT_API_TOKEN": token},
			wantErr: []string{"ROUTEBOT_STORE=firestore needs GOOGLE_CLOUD_PROJECT"}},
		{name: "Firestore with a tenants folder",
			env:     map[string]string{"ROUTEBOT_STORE": "firestore", "GOOGLE_CLOUD_PROJECT": "p", "ROUTEBOT_API_TOKEN": token, "ROUTEBOT_TENANTS": "/srv/tenants"},
			wantErr: []string{"ROUTEBOT_TENANTS"}},
		{name: "unknown store", env: map[string]string{"ROUTEBOT_STORE": "redis", "ROUTEBOT_API_TOKEN": token}, wantErr: []string{`ROUTEBOT_STORE="redis"`}},
		{name: "durations", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_SESSION_TTL": "90m", "ROUTEBOT_TURN_TIMEOUT": "2s",
			"ROUTEBOT_CLASSIFY_TIMEOUT": "300ms", "ROUTEBOT_POSTCALL_TIMEOUT": "45s", "ROUTEBOT_SECRET_REFRESH": "1m30s"},
			check: func(t *testing.T, c Config) {
				if c.SessionTTL != 90*time.Minute || c.TurnTimeout != 2*time.Second || c.ClassifyTimeout != 300*time.Millisecond ||
					c.PostCallTimeout != 45*time.Second || c.SecretRefresh != 90*time.Second {
					t.Errorf("%+v", c)
				}
			}},
		{name: "duration without a unit", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_TURN_TIMEOUT": "3"},
			wantErr: []string{`ROUTEBOT_TURN_TIMEOUT="3"`}},
		{name: "negative duration", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_SESSION_TTL": "-1h"},
			wantErr: []string{`ROUTEBOT_SESSION_TTL="-1h"`}},
		{name: "zero duration", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_POSTCALL_TIMEOUT": "0s"},
			wantErr: []string{`ROUTEBOT_POSTCALL_TIMEOUT="0s"`}},
		{name: "classify timeout equal to the turn timeout",
			env:     map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_TURN_TIMEOUT": "2s", "ROUTEBOT_CLASSIFY_TIMEOUT": "2000ms"},
			wantErr: []string{"ROUTEBOT_CLASSIFY_TIMEOUT (2s) must be shorter than ROUTEBOT_TURN_TIMEOUT (2s)"}},
		{name: "classify timeout longer than the default turn timeout",
			env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_CLASSIFY_TIMEOUT": "5s"}, wantErr: []string{"ROUTEBOT_CLASSIFY_TIMEOUT"}},
		{name: "LLM", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_CLASSIFIER": "llm",
			"ROUTEBOT_LLM_BASE_URL": "https://api.openai.com/v1/", "ROUTEBOT_LLM_MODEL": "gpt-4o-mini", "ROUTEBOT_LLM_AUTH": "api-key"},
			check: func(t *testing.T, c Config) {
				if c.Classifier != "llm" || c.LLMBaseURL != "https://api.openai.com/v1" || c.LLMModel != "gpt-4o-mini" || c.LLMAuth != "api-key" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "LLM without a URL", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_CLASSIFIER": "llm", "ROUTEBOT_LLM_MODEL": "m"},
			wantErr: []string{"ROUTEBOT_CLASSIFIER=llm needs ROUTEBOT_LLM_BASE_URL"}},
		{name: "LLM without a model", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_CLASSIFIER": "llm", "ROUTEBOT_LLM_BASE_URL": "http://127.0.0.1:9/v1"},
			wantErr: []string{"ROUTEBOT_LLM_MODEL"}},
		{name: "LLM URL not http", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_LLM_BASE_URL": "ftp://example.com/v1"},
			wantErr: []string{`ROUTEBOT_LLM_BASE_URL="ftp://example.com/v1"`}},
		{name: "LLM URL without a host", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_LLM_BASE_URL": "https:///v1"},
			wantErr: []string{"ROUTEBOT_LLM_BASE_URL"}},
		{name: "unknown LLM auth", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_LLM_AUTH": "basic"},
			wantErr: []string{`ROUTEBOT_LLM_AUTH="basic"`}},
		{name: "unknown classifier", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_CLASSIFIER": "bert"},
			wantErr: []string{`ROUTEBOT_CLASSIFIER="bert"`}},
		{name: "Dialogflow project from GOOGLE_CLOUD_PROJECT",
			env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_CLASSIFIER": "dialogflow", "GOOGLE_CLOUD_PROJECT": "p1"},
			check: func(t *testing.T, c Config) {
				if c.DFProject != "p1" || c.DFLocation != "global" || c.DFLanguage != "ko" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "Dialogflow settings", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_CLASSIFIER": "dialogflow",
			"GOOGLE_CLOUD_PROJECT": "p1", "ROUTEBOT_DIALOGFLOW_PROJECT": "agent-p", "ROUTEBOT_DIALOGFLOW_LOCATION": "asia-northeast3",
			"ROUTEBOT_DIALOGFLOW_LANGUAGE": "ko-KR"},
			check: func(t *testing.T, c Config) {
				if c.DFProject != "agent-p" || c.DFLocation != "asia-northeast3" || c.DFLanguage != "ko-KR" || c.Project != "p1" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "Dialogflow without a project", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_CLASSIFIER": "dialogflow"},
			wantErr: []string{"ROUTEBOT_CLASSIFIER=dialogflow needs ROUTEBOT_DIALOGFLOW_PROJECT or GOOGLE_CLOUD_PROJECT"}},
		{name: "log levels", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_LOG_LEVEL": "warning"}, check: func(t *testing.T, c Config) {
			if c.LogLevel != slog.LevelWarn {
				t.Errorf("LogLevel %v", c.LogLevel)
			}
		}},
		{name: "unknown log level", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_LOG_LEVEL": "verbose"},
			wantErr: []string{`ROUTEBOT_LOG_LEVEL="verbose"`}},
		{name: "time zone", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_TIMEZONE": "UTC"}, check: func(t *testing.T, c Config) {
			if c.TimeZone != time.UTC && c.TimeZone.String() != "UTC" {
				t.Errorf("TimeZone %v", c.TimeZone)
			}
		}},
		{name: "unknown time zone", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "ROUTEBOT_TIMEZONE": "Mars/Olympus"},
			wantErr: []string{`ROUTEBOT_TIMEZONE="Mars/Olympus"`}},
		{name: "port not a number", env: map[string]string{"ROUTEBOT_API_TOKEN": token, "PORT": "http"}, wantErr: []string{`PORT="http"`}},
		{name: "every problem at once",
			env:     map[string]string{"PORT": "x", "ROUTEBOT_STORE": "redis", "ROUTEBOT_TURN_TIMEOUT": "soon", "ROUTEBOT_CLASSIFIER": "bert"},
			wantErr: []string{"PORT", "ROUTEBOT_STORE", "ROUTEBOT_TURN_TIMEOUT", "ROUTEBOT_CLASSIFIER", "ROUTEBOT_API_TOKEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := maps.Clone(tt.env)
			if _, ok := env["ROUTEBOT_STORE"]; !ok && !tt.local {
				// Deployed cases here are about something else: name the
				// store (the default is TestDeployedStoreDefault's).
				if env == nil {
					env = map[string]string{}
				}
				env["ROUTEBOT_STORE"] = "memory"
			}
			c, err := Load(func(k string) string { return env[k] }, tt.local)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Load succeeded: %+v", c)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error does not mention %q:\n%v", want, err)
					}
				}
				if !equal(c, Config{}) {
					t.Errorf("a failed Load returned %+v", c)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// TestDeployedStoreDefault: a deployed function never falls back to the
// in-memory store silently: unset, ROUTEBOT_STORE means Firestore, and
// without a project that is a start-up error naming both variables.
func TestDeployedStoreDefault(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		local     bool
		wantStore string
		wantErr   []string
	}{
		{name: "deployed, project set", env: map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "ROUTEBOT_SESSION_KEY": sessionKey}, wantStore: "firestore"},
		{name: "deployed, no project", wantErr: []string{"ROUTEBOT_STORE is unset", "GOOGLE_CLOUD_PROJECT", "ROUTEBOT_STORE=memory"}},
		{name: "deployed, memory named", env: map[string]string{"ROUTEBOT_STORE": "memory"}, wantStore: "memory"},
		{name: "local run", local: true, wantStore: "memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := maps.Clone(tt.env)
			if env == nil {
				env = map[string]string{}
			}
			env["ROUTEBOT_API_TOKEN"] = "gateway-token-1b7e"
			c, err := Load(func(k string) string { return env[k] }, tt.local)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Load succeeded with store %q", c.Store)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error does not mention %q:\n%v", want, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Store != tt.wantStore {
				t.Errorf("Store = %q, want %q", c.Store, tt.wantStore)
			}
		})
	}
}

// TestLoadNeverEchoesSecrets: a misconfiguration is reported without the
// tokens, keys or secret values of the environment.
func TestLoadNeverEchoesSecrets(t *testing.T) {
	env := map[string]string{"ROUTEBOT_API_TOKEN": "tok-SECRET-1", "ROUTEBOT_JWT_KEY": "jwt-SECRET-2",
		"ROUTEBOT_LLM_API_KEY": "sk-SECRET-3", "ROUTEBOT_STORE": "redis", "ROUTEBOT_CLASSIFIER": "llm", "ROUTEBOT_SESSION_KEY": "key-SECRET-4"}
	_, err := Load(func(k string) string { return env[k] }, false)
	if err == nil {
		t.Fatal("Load succeeded")
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error echoes a secret: %v", err)
	}
}

// equal compares configs; Config holds slices and a *time.Location, so it
// is not comparable with ==.
func equal(a, b Config) bool { return reflect.DeepEqual(a, b) }
