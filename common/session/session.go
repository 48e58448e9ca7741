// Package session holds the state one phone call keeps between turns, and the
// turn log entry each turn appends. It is plain data: the scenario engine reads
// and writes it, the store persists it.
package session

import "time"

// Session is one call's state between turns, keyed by CallId.
type Session struct {
	CallID   string
	Tenant   string
	Scenario string // the flow's scenario code
	Step     string // the step awaiting the caller's input; "" before the first answer
	Turn     int    // turns answered so far

	Silence int // consecutive silences (무응답)
	Invalid int // consecutive invalid inputs (wrong DTMF, neither yes nor no)

	// Vars are the call's global $ variables: name, category1..3, answer and
	// captured DTMF of non-sensitive steps. Sensitive values are never kept.
	Vars Vars

	// LastKey identifies the last request answered (a digest, never the
	// request itself); LastAnswer is the exact body sent back for it, so a
	// retried turn is answered the same without advancing the call.
	LastKey    string
	LastAnswer []byte

	Updated time.Time
	Expires time.Time
}

// Record is one entry of a call's append-only turn log. Sensitive DTMF is
// masked before a Record is built; nothing here is secret.
//
// One CallId can have several sessions in turn (one expired and the call
// went on, or the gateway sent the CallId to another scenario), each
// counting its turns from 1: the log keeps them all, numbered by Seq.
type Record struct {
	Seq          int // the entry's place in the CallId's log, from 1; the store numbers it
	Turn         int // the session's turn
	At           time.Time
	ScenarioCode string // as the gateway sent it
	ChatMsg      string
	Answer       string
	DTMF         string // masked when the step is sensitive
	From, To     string // steps
	ServiceCode  string
	TransCode    string
	Category     string // large/middle/small, when the turn was classified
	Backend      string // which classifier answered
	Degraded     bool   // the flow's fallback answered because a dependency failed
}
