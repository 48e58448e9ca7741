package transcript

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// seedSample is seed 003 §1.2.2's curl body, literal backslash-n included.
const seedSample = `상담원:안녕하세요 넥서스 상담원 서민지입니다 무엇을 도와드 릴까요?\n고객:제가 봉투 모의고사 패키지를 신청했는데 언제쯤 배송될까요?\n상담원:시험일 기준 익일에 문제지, 해설지, 답 안지가 일괄 발송됩니다.고객:근데 아직 안 왔어요.\n상담원:혹시 지난 모의고사 신청하셨나요?\n고객:네 맞아요 지난번 꺼 신청했어요\n상담원:그러시면 매주 화요일 금요일에 일괄 발송되니까 조금만 더 기다려주세요\n고객:네 알겠습니다.\n상담원:네 감사합니다`

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Turns
	}{
		{name: "empty", in: "", want: nil},
		{name: "blank lines only", in: " \n\t\n  ", want: nil},
		{
			name: "real newlines",
			in:   "상담원:무엇을 도와드릴까요?\n고객:환불하고 싶어요",
			want: Turns{{Agent, "무엇을 도와드릴까요?"}, {Customer, "환불하고 싶어요"}},
		},
		{
			name: "CRLF",
			in:   "상담원:네\r\n고객:환불요\r\n",
			want: Turns{{Agent, "네"}, {Customer, "환불요"}},
		},
		{
			name: "literal backslash-n",
			in:   `상담원:네 넥서스입니다\n고객:배송 문의요`,
			want: Turns{{Agent, "네 넥서스입니다"}, {Customer, "배송 문의요"}},
		},
		{
			name: "two turns on one line",
			in:   "상담원:일괄 발송됩니다.고객:근데 아직 안 왔어요.",
			want: Turns{{Agent, "일괄 발송됩니다."}, {Customer, "근데 아직 안 왔어요."}},
		},
		{
			name: "three turns on one line without punctuation",
			in:   "고객:책이요 상담원:네 고객:언제 와요",
			want: Turns{{Customer, "책이요"}, {Agent, "네"}, {Customer, "언제 와요"}},
		},
		{
			name: "spaces around the colon",
			in:   "  상담원 : 네 말씀하세요 \n 고객  :  주소 바꿀게요  ",
			want: Turns{{Agent, "네 말씀하세요"}, {Customer, "주소 바꿀게요"}},
		},
		{
			name: "full-width colon",
			in:   "상담원：네\n고객 ：정오표 있나요",
			want: Turns{{Agent, "네"}, {Customer, "정오표 있나요"}},
		},
		{
			name: "상담사 is an agent",
			in:   "상담사: 네 고객님\n고객: 네",
			want: Turns{{Agent, "네 고객님"}, {Customer, "네"}},
		},
		{
			name: "unlabelled line continues the previous turn",
			in:   "고객:제가 어제 주문했는데\n  아직 출고가 안 됐대요\n상담원:확인해 보겠습니다",
			want: Turns{{Customer, "제가 어제 주문했는데 아직 출고가 안 됐대요"}, {Agent, "확인해 보겠습니다"}},
		},
		{
			name: "text before any label",
			in:   "통화 녹취\n상담원:네",
			want: Turns{{Unknown, "통화 녹취"}, {Agent, "네"}},
		},
		{
			name: "no labels at all",
			in:   "상담원 연결해 주세요",
			want: Turns{{Unknown, "상담원 연결해 주세요"}},
		},
		{
			name: "empty turn is dropped and its continuation kept",
			in:   "상담원:\n고객:\n환불이요",
			want: Turns{{Customer, "환불이요"}},
		},
		{
			name: "고객님 without colon is text",
			in:   "상담원:고객님 성함이요?",
			want: Turns{{Agent, "고객님 성함이요?"}},
		},
		{
			name: "colon that is not a label",
			in:   "고객:시간은 10:30 이에요",
			want: Turns{{Customer, "시간은 10:30 이에요"}},
		},
		{
			name: "whitespace collapsed",
			in:   "고객:책이\t\t안  와요\u3000요",
			want: Turns{{Customer, "책이 안 와요 요"}},
		},
		{
			name: "seed sample",
			in:   seedSample,
			want: Turns{
				{Agent, "안녕하세요 넥서스 상담원 서민지입니다 무엇을 도와드 릴까요?"},
				{Customer, "제가 봉투 모의고사 패키지를 신청했는데 언제쯤 배송될까요?"},
				{Agent, "시험일 기준 익일에 문제지, 해설지, 답 안지가 일괄 발송됩니다."},
				{Customer, "근데 아직 안 왔어요."},
				{Agent, "혹시 지난 모의고사 신청하셨나요?"},
				{Customer, "네 맞아요 지난번 꺼 신청했어요"},
				{Agent, "그러시면 매주 화요일 금요일에 일괄 발송되니까 조금만 더 기다려주세요"},
				{Customer, "네 알겠습니다."},
				{Agent, "네 감사합니다"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSpeakerString(t *testing.T) {
	tests := []struct {
		sp   Speaker
		want string
	}{{Agent, "상담원"}, {Customer, "고객"}, {Unknown, "unknown"}}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.sp.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		seedSample,
		"",
		"고객:",
		"상담원 ： 네\r\n고객 : 네",
		`\n\n고객:\\n`,
		"고객고객::상담원:",
		"상담\xff원:고객\xfe:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts := Parse(s)
		for i, turn := range ts {
			if turn.Speaker > Customer {
				t.Fatalf("turn %d: speaker %d out of range", i, turn.Speaker)
			}
			if turn.Text == "" || turn.Text != strings.TrimSpace(turn.Text) {
				t.Fatalf("turn %d: text %q is empty or untrimmed", i, turn.Text)
			}
			if i > 0 && turn.Speaker == Unknown {
				t.Fatalf("turn %d: only the first turn may be Unknown", i)
			}
			// Text only comes from input: every word is a piece of it.
			for _, w := range strings.Fields(turn.Text) {
				if !strings.Contains(s, w) {
					t.Fatalf("turn %d: word %q is not in the input %q", i, w, s)
				}
			}
			if utf8.ValidString(s) && !utf8.ValidString(turn.Text) {
				t.Fatalf("turn %d: invalid UTF-8 from valid input", i)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Parse(seedSample)
	}
}
