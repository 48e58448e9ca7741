//go:build !unix

package emulator

import (
	"errors"
	"os"
)

// HostEnv names the variable Google's clients and this package read.
const HostEnv = "FIRESTORE_EMULATOR_HOST"

// StartFirestore uses the emulator FIRESTORE_EMULATOR_HOST names: starting
// one (and stopping its process group) is implemented for unix systems only.
func StartFirestore() (host string, stop func(), err error) {
	if h := os.Getenv(HostEnv); h != "" {
		return h, func() {}, nil
	}
	return "", nil, errors.New("firestore emulator: starting it is supported on Linux and macOS; start one (gcloud emulators firestore start) and set " + HostEnv)
}
