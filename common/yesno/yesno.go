// Package yesno reads a caller's spoken answer to a yes/no question (S0003)
// as STT gives it: 네, 예, 응, 맞아요, 있어요 … for yes; 아니요, 아뇨, 없어요,
// 괜찮아요 … for no.
//
// Korean callers often pair a particle with a verb that carries the meaning
// ("네 없어요" to "더 궁금하신 점이 있으신가요?" means no), so the verb decides
// when there is one, and the particle otherwise.
package yesno

import (
	"strings"
	"unicode"
)

// Answer is what the caller meant.
type Answer int

// The answers.
const (
	Unknown Answer = iota
	Yes
	No
)

func (a Answer) String() string {
	switch a {
	case Yes:
		return "yes"
	case No:
		return "no"
	}
	return "unknown"
}

// Verb stems that carry the answer wherever they stand.
var (
	yesVerbs = []string{"있어", "있습", "있는데", "있구", "있네", "맞아", "맞습", "맞네", "맞는데", "좋아", "좋습", "그래요", "그럴게", "부탁", "할게요", "해주세요", "해 주세요", "물론"}
	noVerbs  = []string{"없어", "없습", "없는데", "없구", "없네", "없고", "괜찮아", "괜찮습", "괜찮은데", "됐어", "됐습", "되었습", "필요없", "필요 없", "안 할", "안할", "그만", "싫어", "싫습", "아닙니다", "아니에요", "아니예요", "아닌데"}
)

// Particles: a word of the answer that is only yes or no.
var (
	yesWords = map[string]bool{"네": true, "넵": true, "넹": true, "넴": true, "예": true, "응": true, "웅": true, "어": true,
		"yes": true, "y": true, "ok": true, "okay": true, "오케이": true, "그럼": true, "그럼요": true, "당연하죠": true, "네네": true, "예예": true, "네에": true}
	noWords = map[string]bool{"아니요": true, "아니오": true, "아뇨": true, "아니": true, "아니유": true, "아녜요": true, "노": true,
		"no": true, "n": true, "nope": true, "ㄴㄴ": true}
)

// Parse reads text as a yes/no answer.
func Parse(text string) Answer {
	t := strings.ToLower(strings.TrimSpace(text))
	if t == "" {
		return Unknown
	}
	if a := decide(containsAny(t, yesVerbs), containsAny(t, noVerbs)); a != Unknown {
		return a
	}
	var yes, no bool
	for _, w := range strings.FieldsFunc(t, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) {
		w = strings.TrimSuffix(strings.TrimSuffix(w, "요"), "용")
		switch {
		case yesWords[w] || yesWords[w+"요"]:
			yes = true
		case noWords[w] || noWords[w+"요"]:
			no = true
		}
	}
	return decide(yes, no)
}

func decide(yes, no bool) Answer {
	switch {
	case yes && !no:
		return Yes
	case no && !yes:
		return No
	}
	return Unknown
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
