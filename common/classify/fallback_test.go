package classify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClassifier answers with fn and counts its calls.
type fakeClassifier struct {
	fn    func(ctx context.Context, in Input) (Result, error)
	calls atomic.Int32
}

func (f *fakeClassifier) Classify(ctx context.Context, in Input) (Result, error) {
	f.calls.Add(1)
	return f.fn(ctx, in)
}

func answers(res Result) func(context.Context, Input) (Result, error) {
	return func(context.Context, Input) (Result, error) { return res, nil }
}

func fails(err error) func(context.Context, Input) (Result, error) {
	return func(context.Context, Input) (Result, error) { return Result{}, err }
}

var (
	llmDelay      = Result{Path: Path{"주문배송", "배송", "배송지연"}, Confidence: 0.9, Backend: "llm"}
	llmSummarised = Result{Path: Path{"주문배송", "배송", "배송지연"}, Confidence: 0.9, Summary: "배송 지연 문의", Backend: "llm"}
	llmUnsure     = Result{Path: Path{"기타", "기타", "담당자확인전달요청"}, Confidence: 0.2, Backend: "llm", Fallback: true}
	dfRefund      = Result{Path: Path{"결제환불", "환불", "환불요청"}, Confidence: 1, Backend: "dialogflow"}
	embRefund     = Result{Path: Path{"결제환불", "환불", "환불요청"}, Confidence: 0.6, Summary: "고객이 환불을 요청함", Backend: "embedded"}
	errPrimary    = fmt.Errorf("llm: POST chat/completions: %w: HTTP 503", ErrUnavailable)
	errEmbedded   = errors.New("embedded: model not loaded")
)

const secretText = "고객:제 주민번호는 900101-1234567 이에요"

func TestWithFallback(t *testing.T) {
	tests := []struct {
		name          string
		primary       func(context.Context, Input) (Result, error)
		fallback      func(context.Context, Input) (Result, error)
		transcript    bool
		deadline      time.Duration // of the caller's context; 0: none
		want          Result
		wantErr       []error
		wantFallbacks int32
		wantLog       []string
		wantNoLog     bool
	}{
		{
			name:      "primary answers",
			primary:   answers(llmDelay),
			fallback:  answers(embRefund),
			want:      llmDelay,
			wantNoLog: true,
		},
		{
			name:      "primary's unsure answer is kept",
			primary:   answers(llmUnsure),
			fallback:  answers(embRefund),
			want:      llmUnsure,
			wantNoLog: true,
		},
		{
			name:       "transcript with a summary: fallback not asked",
			primary:    answers(llmSummarised),
			fallback:   answers(embRefund),
			transcript: true,
			want:       llmSummarised,
			wantNoLog:  true,
		},
		{
			name:          "transcript without a summary: summary from the fallback",
			primary:       answers(dfRefund),
			fallback:      answers(Result{Path: Path{"기타", "기타", "상담원연결"}, Summary: "고객이 환불을 요청함", Backend: "embedded"}),
			transcript:    true,
			want:          Result{Path: dfRefund.Path, Confidence: 1, Summary: "고객이 환불을 요청함", Backend: "dialogflow"},
			wantFallbacks: 1,
			wantNoLog:     true,
		},
		{
			name:          "transcript without a summary, fallback fails: answer kept",
			primary:       answers(dfRefund),
			fallback:      fails(errEmbedded),
			transcript:    true,
			want:          dfRefund,
			wantFallbacks: 1,
			wantLog:       []string{`"level":"WARN"`, `no summary from the fallback`, `model not loaded`},
		},
		{
			name:      "utterance without a summary: fallback not asked",
			primary:   answers(dfRefund),
			fallback:  answers(embRefund),
			want:      dfRefund,
			wantNoLog: true,
		},
		{
			name:          "primary unavailable",
			primary:       fails(errPrimary),
			fallback:      answers(embRefund),
			want:          embRefund,
			wantFallbacks: 1,
			wantLog:       []string{`"level":"WARN"`, `"primary":"*classify.fakeClassifier"`, `"unavailable":true`, `HTTP 503`},
		},
		{
			name:          "primary answers no path",
			primary:       answers(Result{Backend: "llm"}),
			fallback:      answers(embRefund),
			want:          embRefund,
			wantFallbacks: 1,
			wantLog:       []string{`"unavailable":false`, `answered no category`},
		},
		{
			name:          "both fail",
			primary:       fails(errPrimary),
			fallback:      fails(errEmbedded),
			wantErr:       []error{ErrUnavailable, errEmbedded},
			wantFallbacks: 1,
			wantLog:       []string{`HTTP 503`},
		},
		{
			name: "primary hangs: the fallback still has time",
			primary: func(ctx context.Context, _ Input) (Result, error) {
				<-ctx.Done()
				return Result{}, fmt.Errorf("llm: %w: %w", ErrUnavailable, ctx.Err())
			},
			fallback: func(ctx context.Context, _ Input) (Result, error) {
				if err := ctx.Err(); err != nil {
					return Result{}, err
				}
				return embRefund, nil
			},
			deadline:      400 * time.Millisecond,
			want:          embRefund,
			wantFallbacks: 1,
			wantLog:       []string{`deadline exceeded`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			primary := &fakeClassifier{fn: tt.primary}
			fallback := &fakeClassifier{fn: tt.fallback}
			var logs bytes.Buffer
			c := WithFallback(primary, fallback, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			in := Input{Text: secretText, Transcript: tt.transcript, SessionID: "call-42"}
			got, err := c.Classify(ctx, in)

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
				for _, want := range tt.wantErr {
					if !errors.Is(err, want) {
						t.Errorf("error %q does not wrap %q", err, want)
					}
				}
			}
			if n := primary.calls.Load(); n != 1 {
				t.Errorf("primary calls = %d, want 1", n)
			}
			if n := fallback.calls.Load(); n != tt.wantFallbacks {
				t.Errorf("fallback calls = %d, want %d", n, tt.wantFallbacks)
			}
			log := logs.String()
			if tt.wantNoLog && log != "" {
				t.Errorf("logged:\n%s", log)
			}
			for _, want := range tt.wantLog {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %s:\n%s", want, log)
				}
			}
			if strings.Contains(log, "900101") {
				t.Errorf("log holds the text:\n%s", log)
			}
		})
	}
}
