// Package tenant owns the tenant files scenario authors write (tenant.yaml,
// taxonomy.yaml, customers.yaml, flows/<CODE>.yaml), their validation with
// file:line problems, and the compiled form the scenario engine runs: steps
// linked by pointer, prompt templates split once, category routes resolved to
// a table keyed by taxonomy path.
package tenant

import (
	"sort"

	"github.com/routebot/routebot/common/classify"
)

// Tenant is one compiled tenant at one version.
type Tenant struct {
	ID          string
	Name        string
	Version     int64
	Bots        map[string]bool
	Queues      map[string]string
	UnknownName string            // ${name} when the caller is not in the directory
	Customers   map[string]string // phone → name, from customers.yaml
	Taxonomy    *classify.Taxonomy
	Flows       map[string]*Flow // by scenario code
	Profile     ProfileSpec

	// ClassifierSpec is what tenant.yaml says of the classifier; Classifier
	// is the one built from it, once per tenant version, by the Registry's
	// build function (nil until then).
	ClassifierSpec ClassifierSpec
	Classifier     classify.Classifier

	botLines map[string]int // for problems ParseAll finds across tenants
}

// ScenarioCodes lists a tenant's flows' codes, sorted.
func (t *Tenant) ScenarioCodes() []string {
	codes := make([]string, 0, len(t.Flows))
	for c := range t.Flows {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	return codes
}
