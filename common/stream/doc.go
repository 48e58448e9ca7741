// Package stream is the stream service: it relays each call leg's audio,
// received over a WebSocket (docs/stream.md), to Dialogflow v2beta1
// Participants.BidiStreamingAnalyzeContent and sends back live transcripts
// and Agent Assist suggestions. A leg outlives its Dialogflow streams
// (reopened before the 15-minute limit and after errors, replaying the audio
// after the last final result, so nothing is lost and no final is delivered
// twice) and its sockets (a new socket resumes it).
package stream
