#!/usr/bin/env bash
# Runs a command next to a Cloud Firestore emulator: starts the emulator on a
# free 127.0.0.1 port, exports FIRESTORE_EMULATOR_HOST and GOOGLE_CLOUD_PROJECT,
# runs the command, and stops the emulator (its whole process group, Java
# included) however the command ends. Exits with the command's status.
#
#   scripts/with-firestore-emulator.sh go test ./...
#
# Go tests that need the emulator start their own when FIRESTORE_EMULATOR_HOST
# is unset; under this script they share this one.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 CMD [ARG...]" >&2
	exit 2
fi
if ! command -v gcloud >/dev/null; then
	echo "with-firestore-emulator: gcloud not found in PATH: install the Google Cloud CLI and its Firestore emulator" \
		"(apt-get install google-cloud-cli google-cloud-cli-firestore-emulator)" >&2
	exit 1
fi
if ! command -v java >/dev/null; then
	echo "with-firestore-emulator: java not found in PATH: install a Java runtime 11 or later (apt-get install openjdk-17-jre-headless)" >&2
	exit 1
fi
sdk=$(dirname "$(dirname "$(readlink -f "$(command -v gcloud)")")")
if [[ ! -e "$sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar" ]]; then
	echo "with-firestore-emulator: the Firestore emulator component is not installed under $sdk:" \
		"apt-get install google-cloud-cli-firestore-emulator (or gcloud components install cloud-firestore-emulator)" >&2
	exit 1
fi

# A port nothing answers on (bash cannot bind a port to ask the kernel for one).
port=
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 40000))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		port=$p
		break
	fi
done
if [[ -z $port ]]; then
	echo "with-firestore-emulator: no free port found" >&2
	exit 1
fi
host=127.0.0.1:$port
log=$(mktemp -t firestore-emulator.XXXXXX.log)

export CLOUDSDK_CORE_DISABLE_PROMPTS=1 CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=true
# setsid: the emulator leads its own process group, so one kill reaches Java too.
setsid gcloud emulators firestore start --host-port="$host" --quiet >"$log" 2>&1 &
pgid=$!
stop() {
	kill -KILL -- "-$pgid" 2>/dev/null || true
	wait "$pgid" 2>/dev/null || true
	rm -f "$log"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

began=$SECONDS
# Ready when GET / answers "Ok" (bounded: a half-started server may hold the socket).
ready() {
	timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && printf "GET / HTTP/1.0\r\n\r\n" >&3 && grep -q "^Ok" <&3' "$port" 2>/dev/null
}
until ready; do
	if ! kill -0 "$pgid" 2>/dev/null; then
		echo "with-firestore-emulator: the emulator exited during start-up; its output:" >&2
		cat "$log" >&2
		exit 1
	fi
	if ((SECONDS - began > 90)); then
		echo "with-firestore-emulator: the emulator did not answer on $host within 90 s; its output:" >&2
		cat "$log" >&2
		exit 1
	fi
	sleep 0.2
done
echo "with-firestore-emulator: emulator on $host (ready after $((SECONDS - began)) s)" >&2

export FIRESTORE_EMULATOR_HOST=$host
export GOOGLE_CLOUD_PROJECT=${GOOGLE_CLOUD_PROJECT:-routebot-test}
# In the background so that a TERM sent to this script is handled at once
# (passed on to the command) rather than after the command ends.
"$@" <&0 &
cmd=$!
trap 'kill -INT "$cmd" 2>/dev/null; wait "$cmd"; exit 130' INT
trap 'kill -TERM "$cmd" 2>/dev/null; wait "$cmd"; exit 143' TERM
status=0
wait "$cmd" || status=$?
exit "$status"
