variable "project_id" {
  type        = string
  description = "The Google Cloud project routebot runs in (it is also the Firestore, Secret Manager and Dialogflow project unless dialogflow_project says otherwise)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID (6-30 lowercase letters, digits and hyphens, starting with a letter), not a project name or number."
  }
}

variable "region" {
  type        = string
  description = "Region of the functions, the stream service, the Artifact Registry repository and the source bucket, for example asia-northeast3 (Seoul)."

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a Cloud region such as asia-northeast3."
  }
}

variable "firestore_location" {
  type        = string
  default     = null
  description = "Firestore location: a region (asia-northeast3) or a multi-region (nam5, eur3). Default: the region. It cannot be changed once the database exists."

  validation {
    condition     = var.firestore_location == null || can(regex("^([a-z]+-[a-z]+[0-9]|nam5|eur3)$", var.firestore_location))
    error_message = "firestore_location must be a region such as asia-northeast3, or nam5 or eur3."
  }
}

variable "name_prefix" {
  type        = string
  default     = "routebot"
  description = "Prefix of every resource name (functions, service accounts, secrets, topic, repository). Change it to run two routebots in one project."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-16 lowercase letters, digits and hyphens, starting with a letter: service account ids (prefix + -classify) are at most 30 characters."
  }
}

variable "turn_endpoints" {
  type        = string
  default     = "split"
  description = "How the AI Gateway reaches routebot: split = the Scenario (live turns) and Classify (/chat-gpt) functions, each sized for its load; gateway = one Gateway function serving both URL shapes on one base URL, for a gateway that expects one server."

  validation {
    condition     = contains(["split", "gateway"], var.turn_endpoints)
    error_message = "turn_endpoints must be split or gateway."
  }
}

variable "gateway_invoker" {
  type        = string
  default     = "allUsers"
  description = "Who may invoke the turn and classify functions and the stream service: allUsers (public; routebot's own bearer check is the authentication) or serviceAccount:EMAIL (only the AI Gateway's service account, with a Google ID token, on top of the bearer check)."

  validation {
    condition     = var.gateway_invoker == "allUsers" || can(regex("^serviceAccount:[a-z0-9-]+@[a-z0-9.-]+\\.iam\\.gserviceaccount\\.com$", var.gateway_invoker))
    error_message = "gateway_invoker must be allUsers or serviceAccount:NAME@PROJECT.iam.gserviceaccount.com."
  }
}

variable "profile_invokers" {
  type        = list(string)
  default     = []
  description = "Who may invoke the profile function (reconcile the tenants' Dialogflow conversation profiles): IAM members such as group:platform@example.com or serviceAccount:EMAIL. Never public. Empty: nobody but project owners."

  validation {
    condition     = alltrue([for m in var.profile_invokers : can(regex("^(group|serviceAccount|user):[^@]+@[^@]+$", m))])
    error_message = "Each profile_invokers entry must be group:EMAIL, serviceAccount:EMAIL or user:EMAIL (never allUsers or allAuthenticatedUsers)."
  }
}

variable "gateway_auth" {
  type        = list(string)
  default     = ["token"]
  description = "How the AI Gateway authenticates to routebot: token (static bearer tokens, ROUTEBOT_API_TOKEN) and/or jwt (HS256 JWTs, ROUTEBOT_JWT_KEY). Terraform creates one secret per choice; each must get a value before the functions can answer."

  validation {
    condition     = length(var.gateway_auth) > 0 && alltrue([for a in var.gateway_auth : contains(["token", "jwt"], a)])
    error_message = "gateway_auth must list token and/or jwt."
  }
}

variable "default_classifier" {
  type        = string
  default     = "embedded"
  description = "ROUTEBOT_CLASSIFIER: the classifier backend of tenants that do not choose one (embedded, llm, dialogflow)."

  validation {
    condition     = contains(var.classifier_backends, var.default_classifier)
    error_message = "default_classifier must be one of classifier_backends."
  }
}

variable "classifier_backends" {
  type        = list(string)
  default     = ["embedded"]
  description = "Every classifier backend any tenant may use (tenants choose theirs without a terraform apply): dialogflow grants the classifying functions the Dialogflow client role; llm with llm_auth = google grants them Vertex AI user. A backend missing here degrades to the embedded classifier, logged."

  validation {
    condition     = contains(var.classifier_backends, "embedded") && alltrue([for b in var.classifier_backends : contains(["embedded", "llm", "dialogflow"], b)])
    error_message = "classifier_backends must include embedded (every backend falls back to it) and may add llm and dialogflow."
  }
}

variable "llm" {
  type = object({
    base_url = string
    model    = string
    auth     = optional(string, "bearer")
  })
  default     = null
  description = "The OpenAI-compatible LLM (ROUTEBOT_LLM_BASE_URL, ROUTEBOT_LLM_MODEL, ROUTEBOT_LLM_AUTH: bearer, api-key for Azure, google for Vertex AI with the function's own identity). With bearer or api-key (and llm in classifier_backends), Terraform creates the API key's secret, which must get a value before the functions can answer. Required when classifier_backends has llm."

  validation {
    # try: Terraform evaluates both sides of ||, and var.llm.model fails on null.
    condition     = try(can(regex("^https?://[^/]+", var.llm.base_url)) && var.llm.model != "" && contains(["bearer", "api-key", "google"], var.llm.auth), var.llm == null)
    error_message = "llm needs an http(s) base_url, a model, and auth bearer, api-key or google."
  }
  validation {
    condition     = !contains(var.classifier_backends, "llm") || var.llm != null
    error_message = "classifier_backends has llm: set llm (base_url, model, auth)."
  }
}

variable "dialogflow" {
  type = object({
    project  = optional(string)
    location = optional(string, "global")
    language = optional(string, "ko")
  })
  default     = {}
  description = "Dialogflow ES settings: the agent's project (ROUTEBOT_DIALOGFLOW_PROJECT, default project_id), location (ROUTEBOT_DIALOGFLOW_LOCATION) and language (ROUTEBOT_DIALOGFLOW_LANGUAGE), for the dialogflow classifier, the profile function and the stream service."

  validation {
    condition     = can(regex("^[a-z0-9-]+$", var.dialogflow.location)) && can(regex("^[a-z]{2,3}(-[A-Za-z0-9]+)*$", var.dialogflow.language))
    error_message = "dialogflow.location must be global or a region, dialogflow.language a language code such as ko."
  }
}

variable "session_ttl" {
  type        = string
  default     = "1h"
  description = "ROUTEBOT_SESSION_TTL: how long a call session lives after its last turn (the Firestore TTL policy deletes it after that, usually within 24 hours)."

  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$", var.session_ttl))
    error_message = "session_ttl must be a Go duration such as 30m or 1h."
  }
}

variable "timezone" {
  type        = string
  default     = "Asia/Seoul"
  description = "ROUTEBOT_TIMEZONE: the IANA zone of the classify answers' create_time."

  validation {
    condition     = can(regex("^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$", var.timezone))
    error_message = "timezone must be an IANA zone name such as Asia/Seoul."
  }
}

variable "log_level" {
  type        = string
  default     = "INFO"
  description = "ROUTEBOT_LOG_LEVEL of every function and the stream service."

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "extra_env" {
  type        = map(string)
  default     = {}
  description = "More ROUTEBOT_* settings for every function and the stream service, for example { ROUTEBOT_TURN_TIMEOUT = \"2500ms\" }. Never a secret: secrets are Secret Manager references Terraform sets itself."

  validation {
    condition = alltrue([for k, v in var.extra_env : can(regex("^ROUTEBOT_[A-Z0-9_]+$", k)) && !contains([
      "ROUTEBOT_API_TOKEN", "ROUTEBOT_JWT_KEY", "ROUTEBOT_LLM_API_KEY", "ROUTEBOT_STORE", "ROUTEBOT_TENANTS",
    ], k)])
    error_message = "extra_env keys must be ROUTEBOT_* settings other than the secrets (API token, JWT key, LLM API key) and the store, which Terraform sets."
  }
}

variable "go_runtime" {
  type        = string
  default     = "go126"
  description = "Cloud Functions Go runtime (go.mod says Go 1.26)."

  validation {
    condition     = can(regex("^go1[0-9]{2}$", var.go_runtime))
    error_message = "go_runtime must be a Cloud Functions Go runtime id such as go126."
  }
}

variable "turn_function" {
  type = object({
    memory        = optional(string, "512Mi")
    cpu           = optional(string, "1")
    concurrency   = optional(number, 80)
    min_instances = optional(number, 1)
    max_instances = optional(number, 20)
  })
  default     = {}
  description = "Size of the live-turn function (Scenario, or Gateway): a caller is waiting on every turn, so at least one instance stays warm. See docs/capacity.md for the numbers behind the defaults."

  validation {
    condition     = var.turn_function.min_instances >= 1 && var.turn_function.max_instances >= var.turn_function.min_instances && var.turn_function.concurrency >= 1 && var.turn_function.concurrency <= 1000
    error_message = "turn_function needs min_instances >= 1 (a caller waits on every turn), max_instances >= min_instances and concurrency 1-1000."
  }
}

variable "classify_function" {
  type = object({
    memory        = optional(string, "512Mi")
    cpu           = optional(string, "1")
    concurrency   = optional(number, 40)
    min_instances = optional(number, 0)
    max_instances = optional(number, 20)
  })
  default     = {}
  description = "Size of the Classify function (post-call /chat-gpt classification: not on a caller's critical path, so it may scale to zero)."

  validation {
    condition     = var.classify_function.max_instances >= max(1, var.classify_function.min_instances) && var.classify_function.concurrency >= 1 && var.classify_function.concurrency <= 1000
    error_message = "classify_function needs max_instances >= max(1, min_instances) and concurrency 1-1000."
  }
}

variable "studio_invokers" {
  type        = list(string)
  default     = []
  description = "Who may open the flow studio (scenario authors): IAM members such as group:authors@example.com. They call it with a Google ID token (or through IAP in front of it), and the studio's author token on top. Empty: the Studio function is not deployed."

  validation {
    condition     = alltrue([for m in var.studio_invokers : can(regex("^(group|serviceAccount|user):[^@]+@[^@]+$", m))])
    error_message = "Each studio_invokers entry must be group:EMAIL, serviceAccount:EMAIL or user:EMAIL (never allUsers or allAuthenticatedUsers)."
  }
}

variable "studio_function" {
  type = object({
    memory        = optional(string, "512Mi")
    cpu           = optional(string, "1")
    max_instances = optional(number, 2)
  })
  default     = {}
  description = "Size of the Studio function (a few authors at a time; a simulation builds the draft's classifier)."

  validation {
    condition     = var.studio_function.max_instances >= 1
    error_message = "studio_function.max_instances must be at least 1."
  }
}

variable "profile_function" {
  type = object({
    memory        = optional(string, "256Mi")
    cpu           = optional(string, "0.5")
    max_instances = optional(number, 2)
  })
  default     = {}
  description = "Size of the Profile function (an operator's reconciliation call now and then: one request at a time, scales to zero)."

  validation {
    condition     = var.profile_function.max_instances >= 1
    error_message = "profile_function.max_instances must be at least 1."
  }
}

variable "stream_image_tag" {
  type        = string
  default     = null
  description = "Tag of the stream service's image in this deployment's Artifact Registry repository (Cloud Build passes the commit SHA). Null: the repository is created but the stream service is not deployed yet (nothing to run until the first image is pushed)."

  validation {
    condition     = var.stream_image_tag == null || can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.stream_image_tag))
    error_message = "stream_image_tag must be a Docker tag."
  }
}

variable "stream" {
  type = object({
    memory        = optional(string, "1Gi")
    cpu           = optional(string, "1")
    concurrency   = optional(number, 100)
    min_instances = optional(number, 1)
    max_instances = optional(number, 50)
    health_path   = optional(string, "/healthz")
  })
  default     = {}
  description = "Size of the stream service: concurrency is concurrent call legs per instance (docs/capacity.md). A leg holds its request for the whole call, so min_instances keeps the first leg from waiting on a cold start."

  validation {
    condition     = var.stream.concurrency >= 1 && var.stream.concurrency <= 1000 && var.stream.max_instances >= max(1, var.stream.min_instances) && startswith(var.stream.health_path, "/")
    error_message = "stream needs concurrency 1-1000, max_instances >= max(1, min_instances) and a health_path starting with /."
  }
}

variable "grant_dialogflow_agent_publisher" {
  type        = bool
  default     = true
  description = "Let the Dialogflow service agent (service-PROJECT_NUMBER@gcp-sa-dialogflow.iam.gserviceaccount.com) publish Agent Assist notifications to the topic. If apply says that account does not exist, run `gcloud beta services identity create --service=dialogflow.googleapis.com` once and apply again."
}

variable "create_deployer" {
  type        = bool
  default     = true
  description = "Create the service account Cloud Build runs this configuration as (routebot's pipeline), with the roles `terraform apply` needs. It is close to project owner: see docs/iam.md."
}

variable "deletion_protection" {
  type        = bool
  default     = true
  description = "Protect the Firestore database and the stream service from `terraform destroy` (set false, apply, then destroy, to tear a test project down)."
}
