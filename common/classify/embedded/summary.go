package embedded

import (
	"strings"
	"unicode/utf8"

	"github.com/routebot/routebot/common/transcript"
)

const (
	// maxSummaryRunes bounds Result.Summary.
	maxSummaryRunes = 200
	// maxRequestRunes bounds the quoted customer request, leaving the rest of
	// the summary to the agent's answer.
	maxRequestRunes = 80
	// minAnswerRunes is the least room worth quoting a second agent turn in.
	minAnswerRunes = 20
)

// leadIns are what STT keeps at the start of a turn that says nothing:
// fillers and courtesies, dropped from quotes.
var leadIns = []string{
	"아", "어", "음", "네", "예", "네네", "저기", "저기요", "그게요", "그", "저", "여보세요", "고객님",
	"확인 감사합니다", "확인됐습니다", "확인되었습니다", "알겠습니다", "감사합니다",
}

// questionPenalty ranks an agent's question below any statement: evidence
// never comes near it.
const questionPenalty = 1e6

// isQuestion reports whether an agent turn ends by asking something.
func isQuestion(text string) bool {
	text = strings.TrimRight(text, " .")
	return strings.HasSuffix(text, "?") || strings.HasSuffix(text, "까요") || strings.HasSuffix(text, "시겠어요")
}

// summarize quotes, extractively, the customer turn that says most for the
// category and the agent's answers that say most for it:
//
//	고객이 "…"라고 문의했고, 상담원은 "… … …"라고 안내했습니다.
//
// within maxSummaryRunes runes. The words come from the transcript only.
func (c *Classifier) summarize(s *scratch, turns transcript.Turns, best int) string {
	request := -1
	var requestScore float64
	for _, ts := range s.turns {
		if turns[ts.turn].Speaker == transcript.Agent {
			continue
		}
		if score := s.turnEvidence[ts.from+best] * ts.weight; request < 0 || score > requestScore {
			request, requestScore = ts.turn, score
		}
	}
	// The answer is what the agent says after the request (or if nothing,
	// before it) that says most for the category; the agent's questions
	// ("성함 말씀해 주시겠어요?") only when there is nothing else.
	answer, second := -1, -1
	var answerScore, secondScore float64
	for pass := 0; pass < 2 && answer < 0; pass++ {
		for _, ts := range s.turns {
			if turns[ts.turn].Speaker != transcript.Agent || (pass == 0) != (ts.turn > request) {
				continue
			}
			score := s.turnEvidence[ts.from+best]
			if isQuestion(turns[ts.turn].Text) {
				score -= questionPenalty
			}
			switch {
			case answer < 0 || score > answerScore:
				second, secondScore = answer, answerScore
				answer, answerScore = ts.turn, score
			case second < 0 || score > secondScore:
				second, secondScore = ts.turn, score
			}
		}
	}
	if request < 0 {
		return ""
	}
	b := s.summary[:0]
	b = append(b, "고객이 \""...)
	b = appendQuote(b, turns[request].Text, maxRequestRunes)
	if answer < 0 {
		b = append(b, "\"라고 문의했습니다."...)
		s.summary = b
		return string(b)
	}
	const tail = "\"라고 안내했습니다."
	b = append(b, "\"라고 문의했고, 상담원은 \""...)
	room := maxSummaryRunes - utf8.RuneCount(b) - utf8.RuneCountInString(tail)
	first := answer
	if secondScore < -questionPenalty {
		second = -1 // a question saying nothing for the category ("성함이 어떻게 되세요?")
	}
	if second >= 0 && second < answer {
		first, second = second, answer
	}
	n := utf8.RuneCount(b)
	b = appendQuote(b, turns[first].Text, room)
	room -= utf8.RuneCount(b) - n
	if second >= 0 && room >= minAnswerRunes+2 {
		b = append(b, ' ')
		b = appendQuote(b, turns[second].Text, room-1)
	}
	b = append(b, tail...)
	s.summary = b
	return string(b)
}

// appendQuote appends text without its lead-ins, cut at a word boundary to
// at most limit runes ("…" included).
func appendQuote(b []byte, text string, limit int) []byte {
	if limit < 1 {
		return b
	}
	text = trimLeadIns(text)
	if utf8.RuneCountInString(text) <= limit {
		return append(b, text...)
	}
	cut, lastSpace, runes := len(text), 0, 0
	for i, r := range text {
		if runes == limit-1 {
			cut = i
			break
		}
		if r == ' ' {
			lastSpace = i
		}
		runes++
	}
	if lastSpace > 0 {
		cut = lastSpace
	}
	b = append(b, strings.TrimRight(text[:cut], " ")...)
	return append(b, "…"...)
}

// trimLeadIns drops leading fillers, courtesies and "<이름> 고객님"; text that
// is nothing else stays as it is.
func trimLeadIns(text string) string {
	rest := text
	for {
		trimmed := rest
		for _, l := range leadIns {
			if after, ok := strings.CutPrefix(rest, l); ok && (after == "" || after[0] == ' ') {
				trimmed = strings.TrimLeft(after, " ")
				break
			}
		}
		if trimmed == rest {
			if name, after, ok := strings.Cut(rest, " 고객님"); ok && !strings.Contains(name, " ") && (after == "" || after[0] == ' ') {
				trimmed = strings.TrimLeft(after, " ")
			}
		}
		switch {
		case trimmed == "":
			return text
		case trimmed == rest:
			return rest
		}
		rest = trimmed
	}
}
