// Package e2e holds routebot's end-to-end tests, across commands and
// packages: routebotctl pushing the demo tenants to Google's Firestore
// emulator, then the app built on that store serving every shared call
// script, racing retries and a gateway hanging up mid-turn; and the cost of
// a turn on the emulator (BenchmarkTurnFirestore).
package e2e
