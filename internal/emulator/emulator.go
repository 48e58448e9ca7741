//go:build unix

// Package emulator runs Google's Cloud Firestore emulator for tests (and for
// the local run's ROUTEBOT_STORE=emulator): one emulator per test binary,
// started from TestMain on a free loopback port and stopped with its whole
// process group (gcloud's Python, the launcher script and the Java server). Tests fail, never skip, when the emulator
// cannot run; the error says what to install.
//
//	func TestMain(m *testing.M) {
//		host, stop := emulator.ForTestMain("mypkg") // exits 1, saying why, when it cannot start
//		code := m.Run() // clients from firestore.NewClient(ctx, project, host)
//		stop()
//		os.Exit(code)
//	}
//
// Isolate tests sharing the emulator by collection prefix or project id.
package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// HostEnv names the variable Google's clients and this package read: when it
// is set, StartFirestore reuses that emulator instead of starting one.
const HostEnv = "FIRESTORE_EMULATOR_HOST"

// startTimeout bounds the emulator's start-up (about 6 s through gcloud).
const startTimeout = 90 * time.Second

// StartFirestore starts the Firestore emulator on a free 127.0.0.1 port and
// returns its host:port once it answers, and stop, which kills it. When
// FIRESTORE_EMULATOR_HOST is set, that emulator is used and stop does nothing.
func StartFirestore() (host string, stop func(), err error) {
	if h := os.Getenv(HostEnv); h != "" {
		return h, func() {}, nil
	}
	e, err := start()
	if err != nil {
		return "", nil, err
	}
	return e.host, e.stop, nil
}

// ForTestMain is StartFirestore for a test binary's TestMain: it says on
// stderr where the emulator runs, and when it cannot start, says why (the
// tests of what need it) and exits 1: the tests fail, never skip.
func ForTestMain(what string) (host string, stop func()) {
	began := time.Now()
	host, stop, err := StartFirestore()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: the %s tests need the Firestore emulator: %v\n", what, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "firestore emulator on %s, ready after %v\n", host, time.Since(began).Round(time.Millisecond))
	return host, stop
}

type running struct {
	host   string
	cmd    *exec.Cmd
	exited chan struct{} // closed once gcloud is reaped
	out    *tail
	once   sync.Once
}

func start() (*running, error) {
	gcloud, err := exec.LookPath("gcloud")
	if err != nil {
		return nil, errors.New("firestore emulator: gcloud not found in PATH: install the Google Cloud CLI " +
			"(apt-get install google-cloud-cli google-cloud-cli-firestore-emulator, or https://cloud.google.com/sdk/docs/install " +
			"then gcloud components install cloud-firestore-emulator), or set " + HostEnv + " to a running emulator")
	}
	if _, err := exec.LookPath("java"); err != nil {
		return nil, errors.New("firestore emulator: java not found in PATH: the emulator is a Java program; " +
			"install a Java runtime 11 or later, 21 recommended (apt-get install openjdk-17-jre-headless)")
	}
	if jar, ok := emulatorJar(gcloud); !ok {
		// Without the component gcloud would try to download it: no network in tests.
		return nil, fmt.Errorf("firestore emulator: %s not found: install the emulator component "+
			"(apt-get install google-cloud-cli-firestore-emulator, or gcloud components install cloud-firestore-emulator)", jar)
	}
	var lastErr error
	for range 3 { // a free port can be taken between our probe and the emulator's bind
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("firestore emulator: find a free port: %w", err)
		}
		e := &running{host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), out: &tail{max: 16 << 10}}
		if lastErr = e.run(gcloud); lastErr == nil {
			return e, nil
		}
	}
	return nil, lastErr
}

// emulatorJar is where gcloud keeps the emulator component.
func emulatorJar(gcloud string) (string, bool) {
	bin, err := filepath.EvalSymlinks(gcloud)
	if err != nil {
		bin = gcloud
	}
	jar := filepath.Join(filepath.Dir(filepath.Dir(bin)), "platform", "cloud-firestore-emulator", "cloud-firestore-emulator.jar")
	_, err = os.Stat(jar)
	return jar, err == nil
}

func (e *running) run(gcloud string) error {
	e.cmd = exec.Command(gcloud, "emulators", "firestore", "start", "--host-port="+e.host, "--quiet")
	e.cmd.Env = append(os.Environ(),
		"CLOUDSDK_CORE_DISABLE_PROMPTS=1",
		"CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=true",
		"CLOUDSDK_CORE_DISABLE_USAGE_REPORTING=true")
	e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group: stop kills Java too
	if err := e.cmd.Start(); err != nil {
		return fmt.Errorf("firestore emulator: start %s: %w", gcloud, err)
	}
	exited := make(chan error, 1)
	e.exited = make(chan struct{})
	go func() { exited <- e.cmd.Wait(); close(e.exited) }()
	e.guard()

	deadline := time.After(startTimeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			e.stop()
			return fmt.Errorf("firestore emulator on %s exited during start-up (%v); its output:\n%s", e.host, err, e.out)
		case <-deadline:
			e.stop()
			return fmt.Errorf("firestore emulator on %s did not answer within %v; its output:\n%s", e.host, startTimeout, e.out)
		case <-tick.C:
			if ready(e.host) {
				return nil
			}
		}
	}
}

// ready reports whether the emulator answers "Ok" on its HTTP root.
func ready(host string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	return resp.StatusCode == http.StatusOK && bytes.HasPrefix(b, []byte("Ok"))
}

// guard kills the emulator's group when this process dies without calling
// stop (a test binary killed by -timeout does not run its deferred calls): a
// shell in the emulator's group polls our pid.
func (e *running) guard() {
	pgid := e.cmd.Process.Pid
	g := exec.Command("/bin/sh", "-c", `while kill -0 "$0" 2>/dev/null; do sleep 1; done; kill -KILL "-$1"`,
		strconv.Itoa(os.Getpid()), strconv.Itoa(pgid))
	g.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: pgid}
	if g.Start() == nil {
		go g.Wait() //nolint:errcheck // reaped only; killed with the group
	}
}

// stop kills the emulator's whole process group. The emulator keeps its data
// in memory only, so there is nothing to flush: SIGKILL, no grace period.
// Java, orphaned, is reaped by init; it holds no port once killed.
func (e *running) stop() {
	e.once.Do(func() {
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-e.exited:
		case <-time.After(5 * time.Second):
		}
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail keeps the last max bytes written: the emulator's output, for errors.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
