// Command routebotctl is the tenant authors' and operators' tool: it
// validates tenant folders with the server's own loader, pushes them to
// Firestore (showing what changes first), pulls them back to files, and
// draws a flow as a Mermaid diagram.
//
//	routebotctl validate DIR...
//	routebotctl push [--dry-run] [--project P] DIR...
//	routebotctl pull [--force] [--project P] DIR [TENANT...]
//	routebotctl diagram DIR SCENARIO_CODE
//	routebotctl profile apply|diff [--project P] TENANT
//
// Exit status: 0 ok, 1 invalid tenants, a conflict or a refused pull, 2 bad
// usage, 3 Firestore unavailable.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/internal/tenantsync"
)

const (
	exitOK          = 0
	exitFailed      = 1 // invalid tenants, a conflict, a refused pull
	exitUsage       = 2
	exitUnavailable = 3 // Firestore could not be reached or failed
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

const usage = `routebotctl manages routebot's tenant files.

Usage:
  routebotctl validate DIR...                       check tenant folders as the server would
  routebotctl push [--dry-run] DIR...               show what changes and write it to Firestore
  routebotctl pull [--force] DIR [TENANT...]        write stored tenants to DIR/<id>/
  routebotctl diagram DIR SCENARIO_CODE             print a flow as a Mermaid flowchart
  routebotctl profile apply|diff TENANT             reconcile or diff the tenant's Dialogflow conversation profile

DIR is a folder of tenant folders (like examples/tenants) or one tenant folder.
Firestore: the project is GOOGLE_CLOUD_PROJECT or --project; FIRESTORE_EMULATOR_HOST
points at an emulator; otherwise Application Default Credentials are used.

Exit status: 0 ok, 1 invalid, conflict or refused, 2 usage, 3 Firestore unavailable.
Run 'routebotctl COMMAND --help' for a command's flags.
`

// run is the whole command, with its environment passed in (tests call it).
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{stdout: stdout, stderr: stderr, getenv: getenv}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	case "validate":
		return c.validate(rest)
	case "push":
		return c.push(ctx, rest)
	case "pull":
		return c.pull(ctx, rest)
	case "diagram":
		return c.diagram(rest)
	case "profile":
		return c.profile(ctx, rest)
	default:
		fmt.Fprintf(stderr, "routebotctl: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
}

type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// flags parses a command's flags, which may come before or after its
// arguments. ok=false: the caller returns code (help printed, or bad usage).
func (c *cli) flags(fs *flag.FlagSet, synopsis, about string, args []string, minArgs, maxArgs int) (pos []string, code int, ok bool) {
	fs.SetOutput(io.Discard)
	help := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: routebotctl %s\n\n%s\n", synopsis, about)
		var flags strings.Builder
		fs.SetOutput(&flags)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		if flags.Len() > 0 {
			fmt.Fprintf(w, "\nFlags:\n%s", flags.String())
		}
	}
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			help(c.stdout)
			return nil, exitOK, false
		}
		if err != nil {
			fmt.Fprintf(c.stderr, "routebotctl %s: %v\n\n", fs.Name(), err)
			help(c.stderr)
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) < minArgs || (maxArgs >= 0 && len(pos) > maxArgs) {
		fmt.Fprintf(c.stderr, "routebotctl %s: wrong number of arguments\n\n", fs.Name())
		help(c.stderr)
		return nil, exitUsage, false
	}
	return pos, exitOK, true
}

// load reads and validates tenant folders, printing every problem.
func (c *cli) load(cmd string, dirs []string) ([]tenantsync.Local, int, bool) {
	locals, problems, err := tenantsync.Load(dirs...)
	if err != nil {
		fmt.Fprintf(c.stderr, "routebotctl %s: %v\n", cmd, err)
		return nil, exitFailed, false
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(c.stderr, p.String())
		}
		fmt.Fprintf(c.stderr, "routebotctl %s: %d problem(s) in the tenant files\n", cmd, len(problems))
		return nil, exitFailed, false
	}
	return locals, exitOK, true
}

func (c *cli) validate(args []string) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	dirs, code, ok := c.flags(fs, "validate DIR...",
		"Reads the tenant folders with the server's loader and checks them together. Prints every\n"+
			"problem as FILE:LINE: step: message and exits 1, or one line per valid tenant.", args, 1, -1)
	if !ok {
		return code
	}
	locals, code, ok := c.load("validate", dirs)
	if !ok {
		return code
	}
	for _, l := range locals {
		t := l.Tenant
		bots := make([]string, 0, len(t.Bots))
		for b := range t.Bots {
			bots = append(bots, b)
		}
		slices.Sort(bots)
		fmt.Fprintf(c.stdout, "%s: ok (%s) — bots %s; scenario codes %s; %s; %s\n",
			t.ID, l.Dir, strings.Join(bots, ", "), strings.Join(t.ScenarioCodes(), ", "),
			count(len(t.Taxonomy.Categories), "category", "categories"), count(len(t.Customers), "customer", "customers"))
	}
	return exitOK
}

func (c *cli) diagram(args []string) int {
	fs := flag.NewFlagSet("diagram", flag.ContinueOnError)
	pos, code, ok := c.flags(fs, "diagram DIR SCENARIO_CODE",
		"Prints the flow of SCENARIO_CODE as a Mermaid flowchart (paste it into a ```mermaid block).", args, 2, 2)
	if !ok {
		return code
	}
	locals, code, ok := c.load("diagram", pos[:1])
	if !ok {
		return code
	}
	var codes []string
	for _, l := range locals {
		if f, ok := l.Tenant.Flows[pos[1]]; ok {
			fmt.Fprint(c.stdout, f.Mermaid())
			return exitOK
		}
		codes = append(codes, l.Tenant.ScenarioCodes()...)
	}
	slices.Sort(codes)
	fmt.Fprintf(c.stderr, "routebotctl diagram: no scenario code %q in %s (it has %s)\n", pos[1], pos[0], strings.Join(codes, ", "))
	return exitFailed
}

// storeFlags are the flags of the commands that talk to Firestore.
type storeFlags struct {
	project string
	timeout time.Duration
	connect time.Duration
}

func (s *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.project, "project", "", "Google Cloud project (default GOOGLE_CLOUD_PROJECT)")
	fs.DurationVar(&s.timeout, "timeout", 2*time.Minute, "bound on the whole command")
	fs.DurationVar(&s.connect, "connect-timeout", 10*time.Second, "bound on connecting to Firestore (an address where nothing listens fails within seconds)")
}

// open connects to Firestore; ok=false: the caller returns code.
func (c *cli) open(ctx context.Context, cmd string, sf storeFlags) (tenantsync.Store, func(), int, bool) {
	project := sf.project
	if project == "" {
		project = strings.TrimSpace(c.getenv("GOOGLE_CLOUD_PROJECT"))
	}
	if project == "" {
		fmt.Fprintf(c.stderr, "routebotctl %s: no Google Cloud project: set GOOGLE_CLOUD_PROJECT or pass --project\n", cmd)
		return nil, nil, exitUsage, false
	}
	e := c.firestoreEndpoint(project)
	fmt.Fprintf(c.stderr, "routebotctl %s: connecting to %s…\n", cmd, e)
	cctx, cancel := context.WithTimeout(ctx, sf.connect)
	defer cancel()
	st, closeStore, err := connect(cctx, e)
	if err != nil {
		fmt.Fprintf(c.stderr, "routebotctl %s: Firestore unavailable: %v\n", cmd, err)
		return nil, nil, exitUnavailable, false
	}
	return &progressStore{Store: st, w: c.stderr, cmd: cmd}, closeStore, exitOK, true
}

// firestoreEndpoint is where the commands find project's Firestore.
func (c *cli) firestoreEndpoint(project string) endpoint {
	return endpoint{project: project, emulatorHost: strings.TrimSpace(c.getenv("FIRESTORE_EMULATOR_HOST")),
		viaProxy: c.getenv("HTTPS_PROXY") != "" || c.getenv("https_proxy") != ""}
}

// failed prints err and chooses the exit status: 3 when Firestore failed.
func (c *cli) failed(cmd string, err error) int {
	fmt.Fprintf(c.stderr, "routebotctl %s: %v\n", cmd, err)
	if errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return exitUnavailable
	}
	return exitFailed
}

func (c *cli) push(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	dryRun := fs.Bool("dry-run", false, "show what would change; write nothing")
	var sf storeFlags
	sf.register(fs)
	dirs, code, ok := c.flags(fs, "push [--dry-run] [--project P] DIR...",
		"Validates the tenant folders (nothing is pushed if any is invalid), shows how each tenant differs\n"+
			"from the stored one (files as unified diffs, scenario codes, customers by masked phone number and\n"+
			"never by name), and stores the changed ones, telling on stderr what it waits on; unchanged\n"+
			"tenants keep their version. A scenario code another stored tenant owns is refused (exit 1).", args, 1, -1)
	if !ok {
		return code
	}
	locals, code, ok := c.load("push", dirs)
	if !ok {
		return code
	}
	ctx, cancel := context.WithTimeout(ctx, sf.timeout)
	defer cancel()
	st, closeStore, code, ok := c.open(ctx, "push", sf)
	if !ok {
		return code
	}
	defer closeStore()

	changes, err := tenantsync.Plan(ctx, st, locals)
	if err != nil {
		return c.failed("push", err)
	}
	for _, ch := range changes {
		ch.Write(c.stdout)
	}
	if err := tenantsync.Conflicts(changes); err != nil {
		return c.failed("push", err)
	}
	if *dryRun {
		fmt.Fprintln(c.stdout, "dry run: nothing written")
		return exitOK
	}
	if err := tenantsync.Apply(ctx, st, changes, c.stdout); err != nil {
		return c.failed("push", err)
	}
	return exitOK
}

func (c *cli) pull(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("pull", flag.ContinueOnError)
	force := fs.Bool("force", false, "overwrite local files that differ from the stored ones")
	var sf storeFlags
	sf.register(fs)
	pos, code, ok := c.flags(fs, "pull [--force] [--project P] DIR [TENANT...]",
		"Writes the stored tenants (all of them when none is named) to DIR/<id>/, byte for byte as pushed.\n"+
			"A local file with other content is not overwritten without --force (nothing is written then).", args, 1, -1)
	if !ok {
		return code
	}
	ctx, cancel := context.WithTimeout(ctx, sf.timeout)
	defer cancel()
	st, closeStore, code, ok := c.open(ctx, "pull", sf)
	if !ok {
		return code
	}
	defer closeStore()
	if err := tenantsync.Pull(ctx, st, pos[0], pos[1:], *force, c.stdout); err != nil {
		return c.failed("pull", err)
	}
	return exitOK
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
