package yesno

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Answer
	}{
		{"네", "네", Yes},
		{"예", "예.", Yes},
		{"응", "응", Yes},
		{"넵", "넵!", Yes},
		{"네네", "네네", Yes},
		{"맞아요", "맞아요", Yes},
		{"있어요", "있어요", Yes},
		{"네 있어요", "네 있어요 하나 더요", Yes},
		{"아니 있어요", "아니 하나 더 있어요", Yes},
		{"yes", "Yes", Yes},
		{"아니요", "아니요", No},
		{"아니오", "아니오", No},
		{"아뇨", "아뇨", No},
		{"아니", "아니", No},
		{"없어요", "없어요", No},
		{"네 없어요", "네 없어요", No},
		{"괜찮아요", "괜찮아요", No},
		{"아니요 됐습니다", "아니요 됐습니다", No},
		{"no", "no", No},
		{"empty", "", Unknown},
		{"unrelated", "배송 언제 와요", Unknown},
		{"both particles", "네 아니요", Unknown},
		{"예정 is not 예", "예정대로 오나요", Unknown},
		{"both verbs", "있어요 없어요", Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Parse(tt.in); got != tt.want {
				t.Errorf("Parse(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Parse("아니요 없어요")
	}
}
