// Package deploytest checks that routebot deploys the way Google's Go
// functions build does it: a generated main package in another module that
// imports the repository root (package routebot) and serves the function
// named by FUNCTION_TARGET with functions-framework-go.
package deploytest
