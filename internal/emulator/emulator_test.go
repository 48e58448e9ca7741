//go:build unix

package emulator

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStartStop(t *testing.T) {
	t.Setenv(HostEnv, "") // always start our own: this tests starting
	began := time.Now()
	e, err := start()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("emulator up on %s after %v", e.host, time.Since(began))
	defer e.stop()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := NewClient(ctx, e.host, "emulator-test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	doc := c.Collection("probe").Doc("p")
	if _, err := doc.Set(ctx, map[string]any{"n": 1}); err != nil {
		t.Fatalf("write to the emulator: %v", err)
	}
	if snap, err := doc.Get(ctx); err != nil || snap.Data()["n"] != int64(1) {
		t.Fatalf("read back: %v, %v", snap, err)
	}

	pgid := e.cmd.Process.Pid
	began = time.Now()
	e.stop()
	t.Logf("emulator stopped after %v", time.Since(began))
	if err := syscall.Kill(-pgid, 0); err == nil {
		t.Errorf("process group %d (gcloud, Java) still alive after stop", pgid)
	}
	if ready(e.host) {
		t.Errorf("emulator still answers on %s after stop", e.host)
	}
}

func TestReuseFromEnv(t *testing.T) {
	t.Setenv(HostEnv, "127.0.0.1:1")
	host, stop, err := StartFirestore()
	if err != nil || host != "127.0.0.1:1" {
		t.Fatalf("StartFirestore = %q, %v; want the host from %s", host, err, HostEnv)
	}
	stop()
}

func TestMissingTools(t *testing.T) {
	t.Setenv(HostEnv, "")
	t.Setenv("PATH", t.TempDir())
	_, _, err := StartFirestore()
	if err == nil || !strings.Contains(err.Error(), "gcloud not found") || !strings.Contains(err.Error(), "install") {
		t.Fatalf("StartFirestore without gcloud: %v; want an error saying what to install", err)
	}
}
