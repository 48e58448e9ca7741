//go:build unix

package emulator

import (
	"context"
	"github.com/routebot/routebot/common/store/fsstore"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	c, closeClient, err := fsstore.NewClient(ctx, "emulator-test", e.host)
	if err != nil {
		t.Fatal(err)
	}
	defer closeClient()
	doc := c.Collection("probe").Doc("p")
	if _, err := doc.Set(ctx, map[string]any{"n": 1}); err != nil {
		t.Fatalf("write to the emulator: %v", err)
	}
	if snap, err := doc.Get(ctx); err != nil || snap.Data()["n"] != int64(1) {
		t.Fatalf("read back: %v, %v", snap, err)
	}

	pgid := e.cmd.Process.Pid
	if alive := living(t, pgid); len(alive) < 2 {
		t.Errorf("process group %d has %v, want gcloud and Java at least", pgid, alive)
	}
	began = time.Now()
	e.stop()
	t.Logf("emulator stopped after %v", time.Since(began))
	deadline := time.Now().Add(5 * time.Second)
	for alive := living(t, pgid); len(alive) > 0; alive = living(t, pgid) {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still has %v after stop", pgid, alive)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ready(e.host) {
		t.Errorf("emulator still answers on %s after stop", e.host)
	}
}

// living lists the commands of the group's processes that are not zombies
// (a killed orphan stays a zombie until init reaps it).
func living(t *testing.T, pgid int) []string {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var alive []string
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces: split after ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) < 3 || fields[0] == "Z" || fields[2] != strconv.Itoa(pgid) {
			continue
		}
		alive = append(alive, s[strings.IndexByte(s, '(')+1:i])
	}
	return alive
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
