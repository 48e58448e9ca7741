package fsstore

import (
	"testing"

	"github.com/routebot/routebot/common/store/storetest"
)

func TestConversationsConformance(t *testing.T) {
	storetest.RunConversations(t, func(t *testing.T) storetest.ConversationStore { return newStore(t, nil, Options{}) })
}
