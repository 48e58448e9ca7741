// Command fakedialogflow serves the in-memory Dialogflow fake
// (internal/dialogflowfake) on a loopback port, so that a local run with
// ROUTEBOT_DIALOGFLOW_ENDPOINT pointing at it can create conversation
// profiles and conversations with no cloud account. Every request is
// printed to stderr.
//
//	go run ./internal/dialogflowfake/fakedialogflow -addr 127.0.0.1:9090
package main

import (
	"flag"
	"log"
	"net"
	"os"

	"github.com/routebot/routebot/internal/dialogflowfake"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9090", "loopback host:port to listen on")
	flag.Parse()
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("fake Dialogflow (ConversationProfiles, Conversations, Participants) on %s", lis.Addr())
	log.Fatal(dialogflowfake.NewLogging(os.Stderr).Serve(lis))
}
