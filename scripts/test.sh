#!/usr/bin/env bash
# Runs every test, with the race detector. The Firestore tests start the
# emulator themselves on a free loopback port (or reuse FIRESTORE_EMULATOR_HOST).
set -euo pipefail
cd "$(dirname "$0")/.."
go test -race -count=1 -timeout 20m "$@" ./...
