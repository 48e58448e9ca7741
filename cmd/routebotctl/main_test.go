package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routebot/routebot/internal/emulator"
	"github.com/routebot/routebot/internal/fsstoretest"
	"github.com/routebot/routebot/internal/tenanttest"
)

var emulatorHost string

// TestMain runs one Firestore emulator for the package (or uses
// FIRESTORE_EMULATOR_HOST); each test gets a project of its own. Without
// the emulator the tests fail: they never skip.
func TestMain(m *testing.M) {
	host, stop := emulator.ForTestMain("routebotctl")
	emulatorHost = host
	code := m.Run()
	stop()
	os.Exit(code)
}

const demoDir = "../../examples/tenants"

type result struct {
	code           int
	stdout, stderr string
}

// ctl runs the command as a user would, with env as its whole environment.
func ctl(env map[string]string, args ...string) result {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut, func(k string) string { return env[k] })
	return result{code, out.String(), errOut.String()}
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// firestoreEnv is the environment of a user on the emulator, in a project
// no other test uses.
func firestoreEnv(t *testing.T) map[string]string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return map[string]string{"FIRESTORE_EMULATOR_HOST": emulatorHost, "GOOGLE_CLOUD_PROJECT": "routebotctl-" + hex.EncodeToString(b)}
}

// relative names dir relative to the working directory, as a user types it.
func relative(t *testing.T, dir string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, dir)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"no command", nil, nil, 2, "", "Usage:"},
		{"help", []string{"--help"}, nil, 0, "routebotctl validate DIR...", ""},
		{"help word", []string{"help"}, nil, 0, "Exit status: 0 ok", ""},
		{"unknown command", []string{"deploy"}, nil, 2, "", `unknown command "deploy"`},
		{"validate help", []string{"validate", "--help"}, nil, 0, "Usage: routebotctl validate DIR...", ""},
		{"push help", []string{"push", "-h"}, nil, 0, "-dry-run", ""},
		{"pull help", []string{"pull", "--help"}, nil, 0, "-force", ""},
		{"diagram help", []string{"diagram", "--help"}, nil, 0, "Mermaid", ""},
		{"validate without a folder", []string{"validate"}, nil, 2, "", "wrong number of arguments"},
		{"diagram without a code", []string{"diagram", demoDir}, nil, 2, "", "wrong number of arguments"},
		{"unknown flag", []string{"push", "--dry", demoDir}, nil, 2, "", "flag provided but not defined: -dry"},
		{"push without a project", []string{"push", demoDir}, nil, 2, "", "set GOOGLE_CLOUD_PROJECT or pass --project"},
		{"pull without a project", []string{"pull", t.TempDir()}, nil, 2, "", "set GOOGLE_CLOUD_PROJECT or pass --project"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ctl(tt.env, tt.args...)
			if r.code != tt.wantCode || !strings.Contains(r.stdout, tt.wantStdout) || !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("routebotctl %v:\n%s\nwant exit %d, stdout with %q, stderr with %q", tt.args, r, tt.wantCode, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	broken := tenanttest.DemoCopy(t)
	flow := filepath.Join(broken, "nexus", "flows", "SCENARIO01.yaml")
	tenanttest.ReplaceIn(t, flow, "next: refund_agent", "next: refund_agnet")                                         // unknown step
	tenanttest.ReplaceIn(t, flow, "when: [배송조회, 배송지연]", "when: [배송조회, 배송지연됨]")                                        // not in the taxonomy
	tenanttest.ReplaceIn(t, filepath.Join(broken, "nexus", "flows", "star-wars.yaml"), "description:", "descripton:") // typo key
	rel := relative(t, broken)

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{"demo tenants", []string{"validate", demoDir}, 0, []string{
			"hanbit: ok (../../examples/tenants/hanbit) — bots bot00002; scenario codes HANBIT01; 1 category; 0 customers\n",
			"nexus: ok (../../examples/tenants/nexus) — bots bot00001; scenario codes SCENARIO01, star-wars; 17 categories; 2 customers\n",
		}, nil},
		{"one tenant folder", []string{"validate", demoDir + "/nexus"}, 0, []string{"nexus: ok"}, nil},
		{"broken copy", []string{"validate", rel}, 1, nil, []string{
			// The lines of the mistakes, a suggestion each, and no false
			// "refund_agent: unreachable" after the misspelt next.
			rel + "/nexus/flows/SCENARIO01.yaml:16: main: routes[0].when: category \"배송지연됨\" is not in the taxonomy; did you mean \"배송지연\"?\n" +
				rel + "/nexus/flows/SCENARIO01.yaml:71: refund_notice: next: unknown step \"refund_agnet\"; did you mean \"refund_agent\"?\n" +
				rel + "/nexus/flows/star-wars.yaml:4: unknown key \"descripton\"; did you mean \"description\"?\n" +
				"routebotctl validate: 3 problem(s) in the tenant files\n",
		}},
		{"broken tenant folder named", []string{"validate", rel + "/nexus"}, 1, nil, []string{
			rel + "/nexus/flows/star-wars.yaml:4: unknown key \"descripton\"",
		}},
		{"missing folder", []string{"validate", "no/such/dir"}, 1, nil, []string{"routebotctl validate: read tenant folder: stat no/such/dir: no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ctl(nil, tt.args...)
			if r.code != tt.wantCode {
				t.Errorf("exit %d, want %d:\n%s", r.code, tt.wantCode, r)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r)
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r)
				}
			}
		})
	}

	r := ctl(nil, "validate", rel)
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if !strings.HasPrefix(line, rel+"/nexus/flows/") && !strings.HasPrefix(line, "routebotctl validate: ") {
			t.Errorf("problem line without file:line: %q", line)
		}
	}
	if r.stdout != "" {
		t.Errorf("an invalid run printed summaries:\n%s", r.stdout)
	}
}

func TestDiagram(t *testing.T) {
	tests := []struct {
		name, dir, code, golden string
	}{
		{"SCENARIO01", demoDir, "SCENARIO01", "diagram-SCENARIO01.mmd"},
		{"star-wars", demoDir, "star-wars", "diagram-star-wars.mmd"},
		{"from the tenant folder", demoDir + "/nexus", "SCENARIO01", "diagram-SCENARIO01.mmd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The goldens are common/tenant's: the command prints Flow.Mermaid as it is.
			want, err := os.ReadFile(filepath.Join("../../common/tenant/testdata", tt.golden))
			if err != nil {
				t.Fatal(err)
			}
			r := ctl(nil, "diagram", tt.dir, tt.code)
			if r.code != 0 || r.stdout != string(want) {
				t.Errorf("diagram %s:\n%s\nwant stdout:\n%s", tt.code, r, want)
			}
		})
	}
	r := ctl(nil, "diagram", demoDir, "NOPE")
	if r.code != 1 || !strings.Contains(r.stderr, `no scenario code "NOPE" in ../../examples/tenants (it has HANBIT01, SCENARIO01, star-wars)`) {
		t.Errorf("unknown code:\n%s", r)
	}
}

// stored reads what the project holds, through a store of its own.
func stored(t *testing.T, env map[string]string) map[string]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := fsstoretest.Open(t, env["FIRESTORE_EMULATOR_HOST"], env["GOOGLE_CLOUD_PROJECT"], "")
	defer st.Close()
	ids, err := st.ListTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, id := range ids {
		tf, _, _, err := st.GetTenant(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out[id] = tf.Version
	}
	return out
}

func wantStored(t *testing.T, env map[string]string, want map[string]int64) {
	t.Helper()
	if got := stored(t, env); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stored versions %v, want %v", got, want)
	}
}

// TestPushPullFirestore drives the commands on the emulator as a user would.
func TestPushPullFirestore(t *testing.T) {
	env := firestoreEnv(t)
	demo := tenanttest.DemoCopy(t)

	steps := []struct {
		name       string
		setup      func()
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
		versions   map[string]int64
	}{
		{name: "first push", args: []string{"push", demo}, wantStdout: []string{
			"hanbit: new tenant", "nexus: new tenant", "  customer + 010****5678\n", "hanbit: pushed, version 1\n", "nexus: pushed, version 1\n"},
			wantStderr: []string{ // progress, on stderr
				"routebotctl push: connecting to project " + env["GOOGLE_CLOUD_PROJECT"] + " on the emulator at " + emulatorHost + " (FIRESTORE_EMULATOR_HOST)…\n",
				"routebotctl push: listing the stored tenants…\n",
				"routebotctl push: writing tenant hanbit (3 files, 0 customers)…\n",
				"routebotctl push: writing tenant nexus (5 files, 2 customers)…\n"},
			versions: map[string]int64{"hanbit": 1, "nexus": 1}},
		{name: "push again", args: []string{"push", demo}, wantStdout: []string{
			"hanbit: unchanged, version 1\nnexus: unchanged, version 1\n"},
			wantStderr: []string{"routebotctl push: reading stored tenant hanbit (1 of 2)…\nroutebotctl push: reading stored tenant nexus (2 of 2)…\n"},
			versions:   map[string]int64{"hanbit": 1, "nexus": 1}},
		{name: "dry run of an edit, flag after the folder",
			setup: func() {
				tenanttest.ReplaceIn(t, filepath.Join(demo, "nexus", "flows", "SCENARIO01.yaml"),
					"prompt: 환불 담당 상담원을 연결해 드리겠습니다.", "prompt: 환불 담당자에게 연결해 드리겠습니다.")
			},
			args: []string{"push", demo, "--dry-run"}, wantStdout: []string{
				"nexus: changes to version 1",
				"-    prompt: 환불 담당 상담원을 연결해 드리겠습니다.\n+    prompt: 환불 담당자에게 연결해 드리겠습니다.\n",
				"dry run: nothing written\n"},
			versions: map[string]int64{"hanbit": 1, "nexus": 1}},
		{name: "push the edit", args: []string{"push", demo}, wantStdout: []string{"hanbit: unchanged, version 1\n", "nexus: pushed, version 2\n"},
			versions: map[string]int64{"hanbit": 1, "nexus": 2}},
		{name: "invalid tenant: nothing pushed",
			setup: func() {
				tenanttest.ReplaceIn(t, filepath.Join(demo, "hanbit", "tenant.yaml"), "name: 한빛", "name: 한빛2\nnmae: x")
			},
			args: []string{"push", demo}, wantCode: 1, wantStderr: []string{`hanbit/tenant.yaml:5: unknown key "nmae"; did you mean "name"?`},
			versions: map[string]int64{"hanbit": 1, "nexus": 2}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.setup != nil {
				s.setup()
			}
			began := time.Now()
			r := ctl(env, s.args...)
			t.Logf("routebotctl %s took %v", strings.Join(s.args, " "), time.Since(began).Round(time.Millisecond))
			if r.code != s.wantCode {
				t.Errorf("exit %d, want %d:\n%s", r.code, s.wantCode, r)
			}
			for _, w := range s.wantStdout {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r)
				}
			}
			for _, w := range s.wantStderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r)
				}
			}
			for _, name := range []string{"김민수", "이서연", "01012345678", "01099998888"} { // the demo's customers
				if strings.Contains(r.stdout+r.stderr, name) {
					t.Errorf("the output shows the customer %q in clear:\n%s", name, r)
				}
			}
			wantStored(t, env, s.versions)
		})
	}
	tenanttest.ReplaceIn(t, filepath.Join(demo, "hanbit", "tenant.yaml"), "name: 한빛2\nnmae: x", "name: 한빛")

	t.Run("pull reproduces the files", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "pulled")
		r := ctl(env, "pull", out)
		if r.code != 0 || !strings.Contains(r.stdout, "nexus: version 2 → "+filepath.Join(out, "nexus")+" (5 written, 0 unchanged)") {
			t.Fatalf("pull:\n%s", r)
		}
		for _, id := range []string{"hanbit", "nexus"} {
			err := filepath.WalkDir(filepath.Join(demo, id), func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(demo, p)
				want, _ := os.ReadFile(p)
				got, err := os.ReadFile(filepath.Join(out, rel))
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: pulled file differs from the pushed one (%v)", rel, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		tenanttest.ReplaceIn(t, filepath.Join(out, "nexus", "tenant.yaml"), "name: 넥서스", "name: 넥서스 로컬")
		if r := ctl(env, "pull", out, "nexus"); r.code != 1 || !strings.Contains(r.stderr, "use --force") {
			t.Errorf("pull over a local edit:\n%s", r)
		}
		if r := ctl(env, "pull", "--force", out, "nexus"); r.code != 0 || !strings.Contains(r.stdout, "1 of them overwritten") {
			t.Errorf("forced pull:\n%s", r)
		}
		if r := ctl(env, "pull", out, "nope"); r.code != 1 || !strings.Contains(r.stderr, `read stored tenant "nope"`) {
			t.Errorf("pull of an unknown tenant:\n%s", r)
		}
	})

	t.Run("conflict refused", func(t *testing.T) {
		other := t.TempDir()
		acme := filepath.Join(other, "acme")
		if err := os.CopyFS(acme, os.DirFS(filepath.Join(demo, "hanbit"))); err != nil {
			t.Fatal(err)
		}
		tenanttest.ReplaceIn(t, filepath.Join(acme, "tenant.yaml"), "id: hanbit", "id: acme")
		tenanttest.ReplaceIn(t, filepath.Join(acme, "tenant.yaml"), "bot00002", "bot00003")
		if err := os.Rename(filepath.Join(acme, "flows", "HANBIT01.yaml"), filepath.Join(acme, "flows", "SCENARIO01.yaml")); err != nil {
			t.Fatal(err)
		}
		tenanttest.ReplaceIn(t, filepath.Join(acme, "flows", "SCENARIO01.yaml"), "code: HANBIT01", "code: SCENARIO01")
		for _, args := range [][]string{{"push", "--dry-run", acme}, {"push", acme}} {
			r := ctl(env, args...)
			if r.code != 1 || !strings.Contains(r.stdout, "CONFLICT: scenario code SCENARIO01 is tenant nexus's in the store") ||
				!strings.Contains(r.stderr, "tenant acme claims SCENARIO01, which is tenant nexus's; nothing written") {
				t.Errorf("routebotctl %v:\n%s", args, r)
			}
		}
		wantStored(t, env, map[string]int64{"hanbit": 1, "nexus": 2})
	})
}

func TestFirestoreUnavailable(t *testing.T) {
	// A loopback port nothing listens on: the command must say so at once,
	// not after the client has retried for the whole connect timeout.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	env := map[string]string{"FIRESTORE_EMULATOR_HOST": addr, "GOOGLE_CLOUD_PROJECT": "routebotctl-unavailable"}
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"push", []string{"push", "--connect-timeout", "60s", demoDir}},
		{"pull", []string{"pull", "--connect-timeout=60s", t.TempDir()}},
		{"push with the default timeout", []string{"push", demoDir}},
	} {
		args := tt.args
		t.Run(tt.name, func(t *testing.T) {
			began := time.Now()
			r := ctl(env, args...)
			took := time.Since(began)
			want := "Firestore unavailable: project routebotctl-unavailable on the emulator at " + addr + " (FIRESTORE_EMULATOR_HOST): nothing answers: dial tcp " + addr
			if r.code != 3 || !strings.Contains(r.stderr, want) {
				t.Errorf("routebotctl %v:\n%s\nwant exit 3 and %q", args, r, want)
			}
			if took > 15*time.Second { // a generous guard: the client's own retries would run the full 60 s
				t.Errorf("routebotctl %v took %v to report an unreachable Firestore", args, took)
			}
		})
	}
}

func TestFirestoreNotAnswering(t *testing.T) {
	// Something listens but hangs up on every connection: no quick "nothing
	// answers", but the connect timeout ends it and the message still names
	// the address.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	env := map[string]string{"FIRESTORE_EMULATOR_HOST": l.Addr().String(), "GOOGLE_CLOUD_PROJECT": "routebotctl-hangs-up"}
	r := ctl(env, "push", "--connect-timeout", "1s", demoDir)
	want := "Firestore unavailable: project routebotctl-hangs-up on the emulator at " + l.Addr().String() + " (FIRESTORE_EMULATOR_HOST): "
	if r.code != 3 || !strings.Contains(r.stderr, want) {
		t.Errorf("push:\n%s\nwant exit 3 and %q", r, want)
	}
}
