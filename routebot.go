// Package routebot registers routebot's Cloud Functions: Scenario, Classify,
// Gateway (both URL shapes on one base URL), Profile (tenants' Dialogflow
// conversation profiles) and Studio (the flow studio). Google's Go functions
// build compiles only this root package, so each function deploys from the
// repository root with its entry point (--entry-point=Scenario …). init only
// registers: clients and tenants are loaded on first use.
//
// Each function is wrapped by funcmount so that it also answers in the
// framework's all-functions mode (no FUNCTION_TARGET), where it is mounted at
// /{Name}: POST /Scenario?path=/SCENARIO01 is the turn POST /SCENARIO01.
package routebot

import (
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/routebot/routebot/common/funcmount"
	"github.com/routebot/routebot/functions/classify"
	"github.com/routebot/routebot/functions/gateway"
	"github.com/routebot/routebot/functions/profile"
	"github.com/routebot/routebot/functions/scenario"
	"github.com/routebot/routebot/functions/studio"
)

func init() {
	functions.HTTP("Scenario", funcmount.Handler("Scenario", scenario.Handle))
	functions.HTTP("Classify", funcmount.Handler("Classify", classify.Handle))
	functions.HTTP("Gateway", funcmount.Handler("Gateway", gateway.Handle)) // both URL shapes on one base URL
	functions.HTTP("Profile", funcmount.Handler("Profile", profile.Handle))
	functions.HTTP("Studio", funcmount.Handler("Studio", studio.Handle)) // the flow studio, behind IAP
}
