package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/common/store/fsstore"
	"github.com/routebot/routebot/examples"
	"github.com/routebot/routebot/internal/emulator"
	"github.com/routebot/routebot/internal/tenantsync"
)

// emulatorProject is the project id of a local run on the emulator when
// GOOGLE_CLOUD_PROJECT is unset (the emulator accepts any).
const emulatorProject = "routebot-local"

// storeEnv resolves ROUTEBOT_STORE=emulator: it starts Google's Firestore
// emulator (or uses FIRESTORE_EMULATOR_HOST's) and returns the environment
// the configuration reads, as if ROUTEBOT_STORE=firestore on that emulator,
// and stop, which stops it. Any other store leaves getenv as it is.
func storeEnv(getenv func(string) string) (func(string) string, func(), error) {
	if getenv("ROUTEBOT_STORE") != "emulator" {
		return getenv, func() {}, nil
	}
	host, stop, err := emulator.StartFirestore()
	if err != nil {
		return nil, nil, fmt.Errorf("ROUTEBOT_STORE=emulator: %w", err)
	}
	return func(k string) string {
		switch v := getenv(k); k {
		case "ROUTEBOT_STORE":
			return "firestore"
		case emulator.HostEnv:
			return host
		case "ROUTEBOT_TENANTS":
			return "" // pushed by pushTenants, not loaded into a memory store
		case "GOOGLE_CLOUD_PROJECT":
			if v == "" {
				return emulatorProject
			}
			return v
		default:
			return v
		}
	}, stop, nil
}

// pushTenants pushes the tenants folder (ROUTEBOT_TENANTS; the embedded demo
// tenants when empty) to the configured Firestore with routebotctl push's
// code: validated together, unchanged tenants left alone, scenario codes
// checked across tenants.
func pushTenants(ctx context.Context, cfg config.Config, tenants string, logger *slog.Logger) error {
	dir := tenants
	if dir == "" {
		// tenantsync reads folders: the embedded copy goes to a temporary one.
		tmp, err := os.MkdirTemp("", "routebot-demo-tenants-")
		if err != nil {
			return fmt.Errorf("push the demo tenants: %w", err)
		}
		defer os.RemoveAll(tmp)
		demo, err := fs.Sub(examples.Tenants, "tenants")
		if err != nil {
			return fmt.Errorf("push the demo tenants: %w", err)
		}
		if err := os.CopyFS(tmp, demo); err != nil {
			return fmt.Errorf("push the demo tenants: os.CopyFS: %w", err)
		}
		dir = tmp
	}
	locals, problems, err := tenantsync.Load(dir)
	if err != nil {
		return fmt.Errorf("push ROUTEBOT_TENANTS=%q: %w", tenants, err)
	}
	if len(problems) > 0 {
		lines := make([]string, len(problems))
		for i, p := range problems {
			lines[i] = "  " + p.String()
		}
		return fmt.Errorf("push ROUTEBOT_TENANTS=%q: invalid tenant files:\n%s", tenants, strings.Join(lines, "\n"))
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client, closeClient, err := fsstore.NewClient(ctx, cfg.Project, cfg.FirestoreHost)
	if err != nil {
		return fmt.Errorf("push to the emulator at %s: %w", cfg.FirestoreHost, err)
	}
	st, err := fsstore.New(ctx, client, fsstore.Options{Logger: logger})
	if err != nil {
		_ = closeClient()
		return fmt.Errorf("push to the emulator at %s: %w", cfg.FirestoreHost, err)
	}
	defer func() { _ = errors.Join(st.Close(), closeClient()) }()
	changes, err := tenantsync.Plan(ctx, st, locals)
	if err == nil {
		err = tenantsync.Apply(ctx, st, changes, io.Discard)
	}
	if err != nil {
		return fmt.Errorf("push to the emulator at %s: %w", cfg.FirestoreHost, err)
	}
	logger.Info("tenants pushed to the Firestore emulator", "emulator", cfg.FirestoreHost,
		"project", cfg.Project, "tenants", len(locals))
	return nil
}
