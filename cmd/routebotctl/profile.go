package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/routebot/routebot/common/dialogflow"
	"github.com/routebot/routebot/functions/profile"
)

const profileAbout = `apply brings TENANT's Dialogflow conversation profile in line with its stored settings
(creating it, or updating exactly the fields that drifted); diff shows the profile as
Dialogflow has it and its drift, writing nothing. Both print the profile function's JSON
answer. The tenant is read from Firestore (push it first); its profile lives in
profile.project or ROUTEBOT_DIALOGFLOW_PROJECT (default the Firestore project), reached on
the location's regional endpoint, or on ROUTEBOT_DIALOGFLOW_ENDPOINT when set.

Exit status: 0 done or in sync, 1 drift (diff) or refused (invalid settings, permission,
not found), 2 usage, 3 Firestore or Dialogflow unavailable.`

// profile runs "profile apply|diff TENANT" through the profile function's
// own reconciler and answer format.
func (c *cli) profile(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("profile", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	dfProject := fs.String("dialogflow-project", "", "project of profiles whose settings name none (default ROUTEBOT_DIALOGFLOW_PROJECT, then the Firestore project)")
	pos, code, ok := c.flags(fs, "profile apply|diff [--project P] TENANT", profileAbout, args, 2, 2)
	if !ok {
		return code
	}
	verb, tenantID := pos[0], pos[1]
	if verb != "apply" && verb != "diff" {
		fmt.Fprintf(c.stderr, "routebotctl profile: %q: want apply or diff\n", verb)
		return exitUsage
	}
	clients, err := dialogflow.NewClients(dialogflow.Options{Endpoint: strings.TrimSpace(c.getenv("ROUTEBOT_DIALOGFLOW_ENDPOINT"))})
	if err != nil {
		fmt.Fprintf(c.stderr, "routebotctl profile: ROUTEBOT_DIALOGFLOW_ENDPOINT: %v\n", err)
		return exitUsage
	}
	defer clients.Close()

	ctx, cancel := context.WithTimeout(ctx, sf.timeout)
	defer cancel()
	project := cmp.Or(sf.project, strings.TrimSpace(c.getenv("GOOGLE_CLOUD_PROJECT")))
	if project == "" {
		fmt.Fprintln(c.stderr, "routebotctl profile: no Google Cloud project: set GOOGLE_CLOUD_PROJECT or pass --project")
		return exitUsage
	}
	cctx, ccancel := context.WithTimeout(ctx, sf.connect)
	st, closeStore, err := connect(cctx, c.firestoreEndpoint(project))
	ccancel()
	if err != nil {
		fmt.Fprintf(c.stderr, "routebotctl profile: Firestore unavailable: %v\n", err)
		return exitUnavailable
	}
	defer closeStore()

	rec := dialogflow.NewReconciler(clients, st, st,
		cmp.Or(*dfProject, strings.TrimSpace(c.getenv("ROUTEBOT_DIALOGFLOW_PROJECT")), project))
	var body any
	inSync := true
	if verb == "apply" {
		out, err := rec.Apply(ctx, tenantID)
		if err != nil {
			return c.profileFailed(tenantID, err)
		}
		body = profile.ApplyBody(tenantID, out)
	} else {
		rep, err := rec.Diff(ctx, tenantID)
		if err != nil {
			return c.profileFailed(tenantID, err)
		}
		d := profile.DiffBody(tenantID, rep)
		body, inSync = d, d.InSync
	}
	b, err := json.MarshalIndent(body, "", "  ")
	if err != nil {
		fmt.Fprintf(c.stderr, "routebotctl profile: encode: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(c.stdout, "%s\n", b)
	if !inSync {
		return exitFailed
	}
	return exitOK
}

// profileFailed prints the function's message and problems and chooses the
// exit status: 3 when the answer would have been a 503.
func (c *cli) profileFailed(tenantID string, err error) int {
	status, word, msg, retryAfter := profile.Status(tenantID, err)
	for _, p := range profile.Problems(err) {
		fmt.Fprintln(c.stderr, p)
	}
	fmt.Fprintf(c.stderr, "routebotctl profile: %s: %s\n", word, msg)
	if status == http.StatusServiceUnavailable {
		fmt.Fprintf(c.stderr, "retry in %s\n", time.Duration(retryAfter)*time.Second)
		return exitUnavailable
	}
	return exitFailed
}
