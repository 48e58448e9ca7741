#!/usr/bin/env bash
# Runs every test, with the race detector. The Firestore tests start the
# emulator themselves on a free loopback port (or reuse FIRESTORE_EMULATOR_HOST).
# Packages run one at a time (-p 1): on two cores, parallel packages each
# starting a Java emulator make the whole run slower, not more parallel. No
# unit test asserts wall-clock time (docs/testing.md), so plain go test works too.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -race -count=1 -p 1 -timeout 20m "$@" ./...
