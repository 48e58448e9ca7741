package detectintent

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	dialogflow "cloud.google.com/go/dialogflow/apiv2"
	"cloud.google.com/go/dialogflow/apiv2/dialogflowpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/internal/grpctest"
	"github.com/routebot/routebot/internal/sessionsfake"
)

// startFake serves fake on bufconn and returns the real Dialogflow client
// pointed at it.
func startFake(t *testing.T, fake *sessionsfake.Server) *dialogflow.SessionsClient {
	t.Helper()
	conn := grpctest.Dial(t, fake.Register)
	client, err := NewSessionsClient(context.Background(), option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

func testTaxonomy(t *testing.T) *classify.Taxonomy {
	t.Helper()
	tax, err := classify.NewTaxonomy([]classify.Category{
		{Path: classify.Path{"주문배송", "배송", "배송조회"}},
		{Path: classify.Path{"주문배송", "배송", "배송지연"}},
		{Path: classify.Path{"결제환불", "환불", "환불요청"}},
		{Path: classify.Path{"기타", "기타", "담당자확인전달요청"}},
		{Path: classify.Path{"기타", "기타", "상담원연결"}},
	}, classify.Path{"기타", "기타", "담당자확인전달요청"})
	if err != nil {
		t.Fatal(err)
	}
	return tax
}

func matched(name string, conf float32, fallback bool) func(context.Context, *dialogflowpb.DetectIntentRequest) (*dialogflowpb.DetectIntentResponse, error) {
	return func(context.Context, *dialogflowpb.DetectIntentRequest) (*dialogflowpb.DetectIntentResponse, error) {
		return &dialogflowpb.DetectIntentResponse{
			ResponseId: "r-1",
			QueryResult: &dialogflowpb.QueryResult{
				QueryText:                 "ignored",
				Intent:                    &dialogflowpb.Intent{Name: "projects/p/agent/intents/1", DisplayName: name, IsFallback: fallback},
				IntentDetectionConfidence: conf,
			},
		}, nil
	}
}

func textRequest(session, text string) *dialogflowpb.DetectIntentRequest {
	return &dialogflowpb.DetectIntentRequest{
		Session: session,
		QueryInput: &dialogflowpb.QueryInput{Input: &dialogflowpb.QueryInput_Text{
			Text: &dialogflowpb.TextInput{Text: text, LanguageCode: "ko"},
		}},
	}
}

func TestClassify(t *testing.T) {
	tax := testTaxonomy(t)
	const (
		session  = "projects/routebot-demo/agent/sessions/call-42"
		regional = "projects/routebot-demo/locations/asia-northeast3/agent/sessions/call-42"
		text     = "택배가 아직 안 왔어요"
	)
	longID := strings.Repeat("x", 40)
	tests := []struct {
		name      string
		cfg       func(*Config)
		in        classify.Input
		respond   func(context.Context, *dialogflowpb.DetectIntentRequest) (*dialogflowpb.DetectIntentResponse, error)
		want      classify.Result
		wantErr   []error
		wantCode  codes.Code
		wantReq   *dialogflowpb.DetectIntentRequest // nil: not checked (random session)
		wantCalls int
		maxTook   time.Duration
	}{
		{
			name:      "mapped intent",
			respond:   matched("Delivery.Late", 0.85, false),
			want:      classify.Result{Path: classify.Path{"주문배송", "배송", "배송지연"}, Confidence: 0.85, Backend: "dialogflow"},
			wantReq:   textRequest(session, text),
			wantCalls: 1,
		},
		{
			name:      "intent named like a small category",
			respond:   matched("환불요청", 1, false),
			want:      classify.Result{Path: classify.Path{"결제환불", "환불", "환불요청"}, Confidence: 1, Backend: "dialogflow"},
			wantReq:   textRequest(session, text),
			wantCalls: 1,
		},
		{
			name:      "intent named like a whole path",
			respond:   matched("기타/기타/상담원연결", 0.7, false),
			want:      classify.Result{Path: classify.Path{"기타", "기타", "상담원연결"}, Confidence: 0.7, Backend: "dialogflow"},
			wantReq:   textRequest(session, text),
			wantCalls: 1,
		},
		{
			name:      "mapped to the taxonomy's fallback",
			respond:   matched("Handoff", 0.9, false),
			want:      classify.Result{Path: tax.Fallback, Confidence: 0.9, Backend: "dialogflow", Fallback: true},
			wantReq:   textRequest(session, text),
			wantCalls: 1,
		},
		{
			name:    "regional agent",
			cfg:     func(c *Config) { c.Location = "asia-northeast3"; c.LanguageCode = "ko-KR" },
			respond: matched("Delivery.Late", 0.85, false),
			want:    classify.Result{Path: classify.Path{"주문배송", "배송", "배송지연"}, Confidence: 0.85, Backend: "dialogflow"},
			wantReq: func() *dialogflowpb.DetectIntentRequest {
				r := textRequest(regional, text)
				r.GetQueryInput().GetText().LanguageCode = "ko-KR"
				return r
			}(),
			wantCalls: 1,
		},
		{
			name: "transcript sends the customer's turns",
			in: classify.Input{Transcript: true, SessionID: "call-42",
				Text: "상담원:안녕하세요 넥서스입니다\n고객:모의고사 언제\n 배송돼요?\n상담원:익일 발송됩니다.고객:아직 안 왔어요."},
			respond:   matched("Delivery.Late", 0.85, false),
			want:      classify.Result{Path: classify.Path{"주문배송", "배송", "배송지연"}, Confidence: 0.85, Backend: "dialogflow"},
			wantReq:   textRequest(session, "모의고사 언제 배송돼요? 아직 안 왔어요."),
			wantCalls: 1,
		},
		{
			name:      "long text is cut to 256 characters",
			in:        classify.Input{Text: strings.Repeat("가", 300), SessionID: "call-42"},
			respond:   matched("환불요청", 1, false),
			want:      classify.Result{Path: classify.Path{"결제환불", "환불", "환불요청"}, Confidence: 1, Backend: "dialogflow"},
			wantReq:   textRequest(session, strings.Repeat("가", 256)),
			wantCalls: 1,
		},
		{
			name:      "session id Dialogflow would refuse is hashed",
			in:        classify.Input{Text: text, SessionID: longID},
			respond:   matched("환불요청", 1, false),
			want:      classify.Result{Path: classify.Path{"결제환불", "환불", "환불요청"}, Confidence: 1, Backend: "dialogflow"},
			wantReq:   textRequest("projects/routebot-demo/agent/sessions/bd913ff68243d41b9611b2690dfbf2b0", text),
			wantCalls: 1,
		},
		{
			name:      "no session id: a random one",
			in:        classify.Input{Text: text},
			respond:   matched("환불요청", 1, false),
			want:      classify.Result{Path: classify.Path{"결제환불", "환불", "환불요청"}, Confidence: 1, Backend: "dialogflow"},
			wantCalls: 1,
		},
		{
			name:      "unmapped intent",
			respond:   matched("Weather", 0.99, false),
			wantErr:   []error{ErrNoMatch},
			wantReq:   textRequest(session, text),
			wantCalls: 1,
		},
		{
			name:      "fallback intent",
			respond:   matched("Default Fallback Intent", 1, true),
			wantErr:   []error{ErrNoMatch},
			wantReq:   textRequest(session, text),
			wantCalls: 1,
		},
		{
			name: "no intent",
			respond: func(context.Context, *dialogflowpb.DetectIntentRequest) (*dialogflowpb.DetectIntentResponse, error) {
				return &dialogflowpb.DetectIntentResponse{QueryResult: &dialogflowpb.QueryResult{}}, nil
			},
			wantErr:   []error{ErrNoMatch},
			wantCalls: 1,
		},
		{
			name:      "low confidence",
			respond:   matched("Delivery.Late", 0.3, false),
			wantErr:   []error{ErrLowConfidence},
			wantReq:   textRequest(session, text),
			wantCalls: 1,
		},
		{
			name: "server unavailable, retried then given up",
			cfg:  func(c *Config) { c.MaxRetries = 2 },
			respond: func(context.Context, *dialogflowpb.DetectIntentRequest) (*dialogflowpb.DetectIntentResponse, error) {
				return nil, status.Error(codes.Unavailable, "backend down")
			},
			wantErr:   []error{classify.ErrUnavailable},
			wantCode:  codes.Unavailable,
			wantReq:   textRequest(session, text),
			wantCalls: 3,
			maxTook:   2 * time.Second,
		},
		{
			name: "permission denied is not retried",
			cfg:  func(c *Config) { c.MaxRetries = 2 },
			respond: func(context.Context, *dialogflowpb.DetectIntentRequest) (*dialogflowpb.DetectIntentResponse, error) {
				return nil, status.Error(codes.PermissionDenied, "no")
			},
			wantErr:   []error{classify.ErrUnavailable},
			wantCode:  codes.PermissionDenied,
			wantReq:   textRequest(session, text),
			wantCalls: 1,
		},
		{
			name: "deadline",
			cfg:  func(c *Config) { c.Timeout = 100 * time.Millisecond; c.MaxRetries = 3 },
			respond: func(ctx context.Context, _ *dialogflowpb.DetectIntentRequest) (*dialogflowpb.DetectIntentResponse, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			},
			wantErr:   []error{classify.ErrUnavailable},
			wantCode:  codes.DeadlineExceeded,
			wantReq:   textRequest(session, text),
			wantCalls: 1,
			maxTook:   2 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := sessionsfake.New(tt.respond)
			client := startFake(t, fake)
			cfg := Config{
				Project:       "routebot-demo",
				IntentMap:     map[string]string{"Delivery.Late": "주문배송/배송/배송지연", "Handoff": "담당자확인전달요청"},
				MinConfidence: 0.5,
			}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			c, err := New(client, cfg, tax)
			if err != nil {
				t.Fatal(err)
			}
			in := tt.in
			if in.Text == "" {
				in = classify.Input{Text: text, SessionID: "call-42"}
			}

			start := time.Now()
			got, err := c.Classify(context.Background(), in)
			took := time.Since(start)

			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Classify: %v", err)
				}
				if got != tt.want {
					t.Errorf("Classify = %+v, want %+v", got, tt.want)
				}
			} else {
				if err == nil {
					t.Fatalf("Classify = %+v, want an error", got)
				}
				t.Logf("error: %v", err)
				for _, want := range tt.wantErr {
					if !errors.Is(err, want) {
						t.Errorf("error %q does not wrap %q", err, want)
					}
				}
				if !strings.HasPrefix(err.Error(), "detectintent: ") {
					t.Errorf("error %q does not name the package", err)
				}
				if code := status.Code(err); tt.wantCode != codes.OK && code != tt.wantCode {
					t.Errorf("status code = %v, want %v", code, tt.wantCode)
				}
			}
			reqs := fake.Requests()
			if len(reqs) != tt.wantCalls {
				t.Fatalf("DetectIntent calls = %d, want %d", len(reqs), tt.wantCalls)
			}
			for i, req := range reqs {
				if tt.wantReq != nil && !proto.Equal(req, tt.wantReq) {
					t.Errorf("request %d = %v, want %v", i, req, tt.wantReq)
				}
				if !strings.HasPrefix(req.GetSession(), "projects/routebot-demo/") {
					t.Errorf("request %d session = %q", i, req.GetSession())
				}
			}
			if tt.maxTook > 0 && took > tt.maxTook {
				t.Errorf("took %v, want under %v", took, tt.maxTook)
			}
		})
	}
}

// TestRandomSessions checks that calls without a session id do not share
// Dialogflow state.
func TestRandomSessions(t *testing.T) {
	fake := sessionsfake.New(matched("환불요청", 1, false))
	c, err := New(startFake(t, fake), Config{Project: "routebot-demo"}, testTaxonomy(t))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := c.Classify(context.Background(), classify.Input{Text: "환불해 주세요"}); err != nil {
			t.Fatal(err)
		}
	}
	reqs := fake.Requests()
	a, b := reqs[0].GetSession(), reqs[1].GetSession()
	const prefix = "projects/routebot-demo/agent/sessions/"
	if a == b || !strings.HasPrefix(a, prefix) || len(a) != len(prefix)+32 {
		t.Errorf("sessions %q and %q: want two distinct random ids", a, b)
	}
}

func TestNewRejects(t *testing.T) {
	tax := testTaxonomy(t)
	sessions := &dialogflow.SessionsClient{}
	tests := []struct {
		name string
		cfg  Config
	}{
		{name: "no project", cfg: Config{}},
		{name: "project with a slash", cfg: Config{Project: "a/b"}},
		{name: "location with a slash", cfg: Config{Project: "p-123456", Location: "us/x"}},
		{name: "intent mapped outside the taxonomy", cfg: Config{Project: "p-123456", IntentMap: map[string]string{"X": "a/b/c"}}},
		{name: "intent mapped to an unknown small category", cfg: Config{Project: "p-123456", IntentMap: map[string]string{"X": "없는분류"}}},
		{name: "confidence above 1", cfg: Config{Project: "p-123456", MinConfidence: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(sessions, tt.cfg, tax); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

func TestCustomerSpeech(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "lines", in: "상담원:네 넥서스입니다\n고객:환불하고 싶어요\n상담원:네\n고객:카드로요", want: "환불하고 싶어요 카드로요"},
		{name: "turns run together", in: "상담원:발송됩니다.고객:근데 아직 안 왔어요.\n상담원:네", want: "근데 아직 안 왔어요."},
		{name: "no tags", in: "배송 언제 와요", want: "배송 언제 와요"},
		{name: "only the agent", in: "상담원:안녕하세요", want: "상담원:안녕하세요"},
		{name: "empty customer turn", in: "고객:\n상담원:여보세요", want: "고객:\n상담원:여보세요"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := customerSpeech(tt.in); got != tt.want {
				t.Errorf("customerSpeech = %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzCustomerSpeech(f *testing.F) {
	for _, seed := range []string{"상담원:네\n고객:환불요", "고객:고객:상담원:", "배송", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, transcript string) {
		got := clipRunes(customerSpeech(transcript), maxTextRunes)
		if utf8.ValidString(transcript) && !utf8.ValidString(got) {
			t.Fatalf("customerSpeech(%q) = %q: invalid UTF-8", transcript, got)
		}
		if n := utf8.RuneCountInString(got); n > maxTextRunes {
			t.Fatalf("%d runes after clipping", n)
		}
	})
}
