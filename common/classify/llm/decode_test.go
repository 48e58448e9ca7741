package llm

import (
	"errors"
	"testing"

	"github.com/routebot/routebot/common/classify"
)

func TestDecodeAnswer(t *testing.T) {
	tax := testTaxonomy(t)
	refund := classify.Path{"결제환불", "환불", "환불요청"}
	tests := []struct {
		name    string
		content string
		want    classify.Result
		wantErr error
	}{
		{
			name:    "plain",
			content: `{"answer":" 환불 문의 \n\n","category1":"결제환불","category2":"환불","category3":"환불요청","confidence":0.7}`,
			want:    classify.Result{Path: refund, Confidence: 0.7, Summary: "환불 문의", Backend: "llm"},
		},
		{
			name:    "fenced",
			content: "```json\n{\"category1\":\"결제환불\",\"category2\":\"환불\",\"category3\":\"환불요청\",\"confidence\":0.5}\n```",
			want:    classify.Result{Path: refund, Confidence: 0.5, Backend: "llm"},
		},
		{
			name:    "wrapped in another object",
			content: `{"result":{"category1":"결제환불","category2":"환불","category3":"환불요청","confidence":0.5}}`,
			want:    classify.Result{Path: refund, Confidence: 0.5, Backend: "llm"},
		},
		{
			name:    "braces in the prose before",
			content: `결과 {형식} 입니다: {"category1":"결제환불","category2":"환불","category3":"환불요청"} 끝`,
			want:    classify.Result{Path: refund, Confidence: 1, Backend: "llm"},
		},
		{
			name:    "spaces around names",
			content: `{"category1":" 결제환불","category2":"환불 ","category3":" 환불요청 ","confidence":"0.6"}`,
			want:    classify.Result{Path: refund, Confidence: 0.6, Backend: "llm"},
		},
		{
			name:    "percent confidence",
			content: `{"category1":"결제환불","category2":"환불","category3":"환불요청","confidence":85}`,
			want:    classify.Result{Path: refund, Confidence: 0.85, Backend: "llm"},
		},
		{
			name:    "confidence out of range",
			content: `{"category1":"결제환불","category2":"환불","category3":"환불요청","confidence":-3}`,
			want:    classify.Result{Path: refund, Confidence: 0, Backend: "llm"},
		},
		{
			name:    "only category3",
			content: `{"category3":"환불요청","confidence":0.4}`,
			want:    classify.Result{Path: refund, Confidence: 0.4, Backend: "llm"},
		},
		{
			name:    "fallback",
			content: `{"category1":"기타","category2":"기타","category3":"담당자확인전달요청","confidence":0.2}`,
			want:    classify.Result{Path: tax.Fallback, Confidence: 0.2, Backend: "llm", Fallback: true},
		},
		{name: "empty", content: "", wantErr: ErrMalformedAnswer},
		{name: "prose only", content: "죄송하지만 분류할 수 없습니다.", wantErr: ErrMalformedAnswer},
		{name: "truncated", content: `{"category1":"결제환불","category2":"환`, wantErr: ErrMalformedAnswer},
		{name: "no category3", content: `{"category1":"결제환불","category2":"환불"}`, wantErr: ErrMalformedAnswer},
		{name: "wrong type", content: `{"category3":7}`, wantErr: ErrMalformedAnswer},
		{name: "unknown leaf", content: `{"category1":"결제환불","category2":"환불","category3":"부분환불"}`, wantErr: ErrOutsideTaxonomy},
		{name: "a level name as leaf", content: `{"category1":"기타","category2":"기타","category3":"기타"}`, wantErr: ErrOutsideTaxonomy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeAnswer(tt.content, tax)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("DecodeAnswer = %+v, %v; want %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeAnswer: %v", err)
			}
			if got != tt.want {
				t.Errorf("DecodeAnswer = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzDecodeAnswer(f *testing.F) {
	tax := testTaxonomy(f)
	for _, seed := range []string{
		goodAnswer,
		"```json\n" + goodAnswer + "\n```",
		`{"category3":"상담원연결","confidence":"99%"}`,
		`{"result":{"category3":"환불요청"}}`,
		`{"category1":"기타","category2":"기타","category3":"없는분류"}`,
		`{{{{"category3"`,
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, content string) {
		got, err := DecodeAnswer(content, tax)
		if err != nil {
			if !errors.Is(err, ErrMalformedAnswer) && !errors.Is(err, ErrOutsideTaxonomy) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		if !tax.Contains(got.Path) {
			t.Fatalf("path %s is outside the taxonomy", got.Path)
		}
		if got.Confidence < 0 || got.Confidence > 1 {
			t.Fatalf("confidence %v outside 0..1", got.Confidence)
		}
		if got.Fallback != (got.Path == tax.Fallback) {
			t.Fatalf("Fallback = %v for %s", got.Fallback, got.Path)
		}
	})
}

func BenchmarkDecodeAnswer(b *testing.B) {
	tax := testTaxonomy(b)
	for _, bc := range []struct{ name, content string }{
		{"plain", `{"answer":"고객이 봉투 모의고사 패키지 배송 일정을 문의하였고 상담원은 화요일과 금요일에 일괄 발송된다고 안내함","category1":"주문배송","category2":"배송","category3":"배송지연","confidence":0.92}`},
		{"fenced", "분류 결과입니다.\n```json\n" + goodAnswer + "\n```\n"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeAnswer(bc.content, tax); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
