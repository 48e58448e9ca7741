package memstore

import (
	"testing"

	"github.com/routebot/routebot/common/store/storetest"
)

func TestConversationsConformance(t *testing.T) {
	storetest.RunConversations(t, func(*testing.T) storetest.ConversationStore {
		return struct {
			*Conversations
			*ProfileNames
		}{NewConversations(nil), NewProfileNames()}
	})
}
