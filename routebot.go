// Package routebot registers routebot's Cloud Functions: Scenario, Classify,
// Gateway (both URL shapes on one base URL) and Profile. Google's Go functions build
// compiles only this root package, so each function deploys from the
// repository root with its entry point (--entry-point=Scenario …). init only
// registers: clients and tenants are loaded on first use.
package routebot

import (
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/routebot/routebot/functions/classify"
	"github.com/routebot/routebot/functions/gateway"
	"github.com/routebot/routebot/functions/profile"
	"github.com/routebot/routebot/functions/scenario"
)

func init() {
	functions.HTTP("Scenario", scenario.Handle)
	functions.HTTP("Classify", classify.Handle)
	functions.HTTP("Gateway", gateway.Handle) // both URL shapes on one base URL
	functions.HTTP("Profile", profile.Handle)
}
