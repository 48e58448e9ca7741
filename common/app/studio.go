package app

import (
	"context"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/secrets"
	"github.com/routebot/routebot/common/tenant"
)

// Classifier builds the classifier tenant t gets on live calls (the studio
// simulates calls with it).
func (a *App) Classifier(t *tenant.Tenant) (classify.Classifier, error) { return a.classifier(t) }

// Secret resolves a configured value: the value itself, or a Secret Manager
// version name fetched (and kept current) through the App's secret cache.
func (a *App) Secret(ctx context.Context, value string) (*secrets.Secret, error) {
	return a.resolve(ctx, value)
}
