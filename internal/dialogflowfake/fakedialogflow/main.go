// Command fakedialogflow serves the in-memory Dialogflow fakes on a loopback
// port: ConversationProfiles, Conversations and Participants
// (internal/dialogflowfake), with BidiStreamingAnalyzeContent answered by
// internal/streamfake (a final result per second of audio, interim ones
// between, an FAQ suggestion after each final). A local run with
// ROUTEBOT_DIALOGFLOW_ENDPOINT pointing at it creates conversation profiles
// and conversations and streams call audio with no cloud account. Every
// request but the audio is printed to stderr.
//
//	go run ./internal/dialogflowfake/fakedialogflow -addr 127.0.0.1:9090
package main

import (
	"flag"
	"log"
	"net"
	"os"

	"google.golang.org/grpc"

	"github.com/routebot/routebot/internal/dialogflowfake"
	"github.com/routebot/routebot/internal/streamfake"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9090", "loopback host:port to listen on")
	chunk := flag.Int("chunk", 1600, "bytes of each streamed audio request (100 ms: 1600 for 8 kHz LINEAR16, 800 for MULAW or ALAW)")
	flag.Parse()
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	// Like Dialogflow's guidance, the fake wants 100 ms a request, and
	// checks it: a relay that chunks wrongly fails here as it would there.
	streams := &streamfake.Participants{ChunkBytes: *chunk, FinalEvery: 10, Suggest: true, Forget: true}
	g := grpc.NewServer(grpc.StreamInterceptor(streams.Interceptor()))
	dialogflowfake.NewLogging(os.Stderr).Register(g)
	log.Printf("fake Dialogflow (ConversationProfiles, Conversations, Participants with streaming) on %s", lis.Addr())
	log.Fatal(g.Serve(lis))
}
