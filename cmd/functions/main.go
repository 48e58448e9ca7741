// Command functions serves routebot's registered functions through
// functions-framework-go, exactly as Google's Go buildpack does for a
// deployed function: it blank-imports the repository root (whose init
// registers Scenario, Classify, Gateway …) and calls the framework.
//
// With FUNCTION_TARGET=Scenario (or any registered name) it serves that one
// function at / on PORT (default 8080), which sees the gateway's paths as
// deployed; without it, every registered function at exactly /{Name}, the
// gateway's path in the query (POST /Scenario?path=/SCENARIO01, see package
// funcmount). LOCAL_ONLY=true binds 127.0.0.1 only, as the buildpack's main
// does. The environment is the deployed functions' own (ROUTEBOT_STORE,
// ROUTEBOT_API_TOKEN, …); see docs/edges.md.
package main

import (
	"log"
	"os"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	_ "github.com/routebot/routebot"
)

func main() {
	port := "8080"
	if p := os.Getenv("PORT"); p != "" {
		port = p
	}
	host := ""
	if os.Getenv("LOCAL_ONLY") == "true" {
		host = "127.0.0.1"
	}
	if err := funcframework.StartHostPort(host, port); err != nil {
		log.Fatalf("funcframework.StartHostPort: %v", err)
	}
}
