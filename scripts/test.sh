#!/usr/bin/env bash
# Runs every test, with the race detector. The Firestore tests start the
# emulator themselves on a free loopback port (or reuse FIRESTORE_EMULATOR_HOST).
# Packages run one at a time (-p 1): on two cores, parallel packages each
# starting a Java emulator would make the timing tests (the local binary's
# first turn within 100 ms) measure the machine's contention, not routebot.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -race -count=1 -p 1 -timeout 20m "$@" ./...
