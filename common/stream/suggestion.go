package stream

import "cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"

// suggestions reduces an analyze-content response to the essentials the
// gateway shows an agent: one frame per suggestion result, naming the
// message it answers; a virtual agent's reply with no suggestion is one
// frame of kind "reply".
func suggestions(acr *dialogflowpb.AnalyzeContentResponse) []Suggestion {
	msg, name := acr.GetMessage().GetContent(), acr.GetMessage().GetName()
	results := append(acr.GetHumanAgentSuggestionResults()[:len(acr.GetHumanAgentSuggestionResults()):len(acr.GetHumanAgentSuggestionResults())],
		acr.GetEndUserSuggestionResults()...)
	var out []Suggestion
	for _, sr := range results {
		s := Suggestion{Message: msg, MessageName: name, Reply: acr.GetReplyText()}
		switch {
		case sr.GetError() != nil:
			s.Kind, s.Error = "error", sr.GetError().GetMessage()
		case sr.GetSuggestArticlesResponse() != nil:
			s.Kind = "article"
			for _, a := range sr.GetSuggestArticlesResponse().GetArticleAnswers() {
				s.Answers = append(s.Answers, Answer{Title: a.GetTitle(), URI: a.GetUri(), Snippets: a.GetSnippets(), Record: a.GetAnswerRecord()})
			}
		case sr.GetSuggestFaqAnswersResponse() != nil:
			s.Kind = "faq"
			for _, a := range sr.GetSuggestFaqAnswersResponse().GetFaqAnswers() {
				s.Answers = append(s.Answers, Answer{Question: a.GetQuestion(), Text: a.GetAnswer(), URI: a.GetSource(),
					Confidence: a.GetConfidence(), Record: a.GetAnswerRecord()})
			}
		case sr.GetSuggestSmartRepliesResponse() != nil:
			s.Kind = "smart_reply"
			for _, a := range sr.GetSuggestSmartRepliesResponse().GetSmartReplyAnswers() {
				s.Answers = append(s.Answers, Answer{Text: a.GetReply(), Confidence: a.GetConfidence(), Record: a.GetAnswerRecord()})
			}
		case sr.GetSuggestKnowledgeAssistResponse() != nil:
			s.Kind = "knowledge_assist"
			ka := sr.GetSuggestKnowledgeAssistResponse().GetKnowledgeAssistAnswer()
			s.Answers = append(s.Answers, Answer{Question: ka.GetSuggestedQuery().GetQueryText(),
				Text: ka.GetSuggestedQueryAnswer().GetAnswerText(), Record: ka.GetAnswerRecord()})
		case sr.GetSuggestDialogflowAssistsResponse() != nil:
			s.Kind = "dialogflow_assist"
		case sr.GetSuggestEntityExtractionResponse() != nil:
			s.Kind = "entity_extraction"
		case sr.GetGenerateSuggestionsResponse() != nil:
			s.Kind = "generator"
		default:
			continue
		}
		out = append(out, s)
	}
	if len(out) == 0 && acr.GetReplyText() != "" {
		out = append(out, Suggestion{Kind: "reply", Message: msg, MessageName: name, Reply: acr.GetReplyText()})
	}
	return out
}
