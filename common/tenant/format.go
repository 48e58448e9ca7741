package tenant

// APIVersion is the tenant file format this package reads.
const APIVersion = "routebot/v1"

// The files of a tenant folder.
const (
	TenantFile    = "tenant.yaml"
	TaxonomyFile  = "taxonomy.yaml"
	CustomersFile = "customers.yaml"
	FlowsDir      = "flows/"
)

// tenantSpec is tenant.yaml.
type tenantSpec struct {
	APIVersion string            `yaml:"apiVersion"`
	ID         string            `yaml:"id"`
	Name       string            `yaml:"name"`
	Bots       []string          `yaml:"bots"`
	Queues     map[string]string `yaml:"queues"`
	Customers  struct {
		UnknownName string `yaml:"unknownName"`
	} `yaml:"customers"`
	Classifier ClassifierSpec `yaml:"classifier"`
	Profile    ProfileSpec    `yaml:"profile"`
}

// ClassifierSpec chooses and configures the tenant's classifier. Empty
// Backend means the deployment's default (ROUTEBOT_CLASSIFIER).
type ClassifierSpec struct {
	Backend       string  `yaml:"backend"` // embedded | llm | dialogflow
	MinConfidence float64 `yaml:"minConfidence"`
	LLM           struct {
		Model string `yaml:"model"`
	} `yaml:"llm"`
	Dialogflow struct {
		Project  string            `yaml:"project"`
		Location string            `yaml:"location"`
		Language string            `yaml:"language"`
		Intents  map[string]string `yaml:"intents"` // intent display name → category path or small category
	} `yaml:"dialogflow"`
}

// flowSpec is one flows/<CODE>.yaml.
type flowSpec struct {
	Code        string `yaml:"code"`
	Description string `yaml:"description"`
	Start       string `yaml:"start"`
	Defaults    struct {
		ListenTimeout int `yaml:"listenTimeout"`
		DTMFTimeout   int `yaml:"dtmfTimeout"`
	} `yaml:"defaults"`
	OnSilence    []string              `yaml:"onSilence"`
	OnSilenceEnd string                `yaml:"onSilenceEnd"`
	Routers      map[string]routerSpec `yaml:"routers"`
	Steps        map[string]stepSpec   `yaml:"steps"`
}

type routerSpec struct {
	Routes []struct {
		When []string `yaml:"when"`
		To   string   `yaml:"to"`
	} `yaml:"routes"`
	Otherwise   string `yaml:"otherwise"`
	Unavailable string `yaml:"unavailable"`
}

type stepSpec struct {
	Service   string    `yaml:"service"`
	Prompt    string    `yaml:"prompt"`
	Timeout   int       `yaml:"timeout"`
	Router    string    `yaml:"router"`
	Next      string    `yaml:"next"`
	Yes       string    `yaml:"yes"`
	No        string    `yaml:"no"`
	DTMF      *dtmfSpec `yaml:"dtmf"`
	Transfer  string    `yaml:"transfer"`
	OnInvalid []string  `yaml:"onInvalid"`
	OnSilence []string  `yaml:"onSilence"`
}

type dtmfSpec struct {
	Length    int    `yaml:"length"`
	EndChar   string `yaml:"endChar"`
	Pattern   string `yaml:"pattern"`
	Sensitive bool   `yaml:"sensitive"`
	Capture   string `yaml:"capture"`
}

// taxonomySpec is taxonomy.yaml.
type taxonomySpec struct {
	Fallback   string         `yaml:"fallback"`
	Categories []categorySpec `yaml:"categories"`
}

type categorySpec struct {
	Path     string   `yaml:"path"`
	Examples []string `yaml:"examples"`
}
