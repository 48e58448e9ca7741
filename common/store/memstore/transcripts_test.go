package memstore

import (
	"testing"

	"github.com/routebot/routebot/common/store"
	"github.com/routebot/routebot/common/store/storetest"
)

func TestTranscriptsConformance(t *testing.T) {
	storetest.RunTranscripts(t, func(*testing.T) store.Transcripts { return NewTranscripts(nil, 0) })
}
