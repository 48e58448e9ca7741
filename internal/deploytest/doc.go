// Package deploytest checks that routebot deploys the way Google's Go
// functions build does it: cmd/functions, the main the buildpack generates
// (a blank import of the repository root, package routebot, and
// functions-framework-go), serves the function named by FUNCTION_TARGET at
// /, or every registered function at /{Name} without it.
package deploytest
