# One service account per function and one for the stream service, each with
# only what it uses; docs/iam.md lists every role, where and why.
locals {
  runtime_accounts = merge(
    { for k, f in local.functions : k => f.title },
    { stream = "routebot stream service (live call audio to Dialogflow)" },
  )

  dialogflow_project = coalesce(var.dialogflow.project, var.project_id)

  # Vertex AI is the LLM backend: the classifiers call it with their own identity.
  vertex = contains(var.classifier_backends, "llm") && try(var.llm.auth, "") == "google"
  # Any other LLM backend takes an API key, kept in Secret Manager. Only when
  # tenants may use the llm backend: routebot does not start while a secret
  # it is given has no value.
  llm_key = contains(var.classifier_backends, "llm") && var.llm != null && try(var.llm.auth, "") != "google"

  project_grants = merge(
    # Every runtime reads and writes Firestore: tenants, call sessions, turn logs.
    { for k in keys(local.runtime_accounts) : "${k} datastore" => { account = k, project = var.project_id, role = "roles/datastore.user" } },
    # The stream service streams call audio (BidiStreamingAnalyzeContent).
    { "stream dialogflow" = { account = "stream", project = local.dialogflow_project, role = "roles/dialogflow.client" } },
    # The classifiers call DetectIntent when a tenant uses the dialogflow backend.
    contains(var.classifier_backends, "dialogflow") ? {
      for k in local.classifiers : "${k} dialogflow" => { account = k, project = local.dialogflow_project, role = "roles/dialogflow.client" }
    } : {},
    local.vertex ? {
      for k in local.classifiers : "${k} vertex" => { account = k, project = var.project_id, role = "roles/aiplatform.user" }
    } : {},
    # The profile function manages the tenants' conversation profiles.
    { "profile conversation-profiles" = { account = "profile", project = local.dialogflow_project, role = google_project_iam_custom_role.conversation_profiles.id } },
  )
}

resource "google_service_account" "runtime" {
  for_each = local.runtime_accounts

  project      = var.project_id
  account_id   = "${var.name_prefix}-${each.key}"
  display_name = each.value
  description  = "Runtime identity of ${each.value}. Managed by terraform/."

  depends_on = [google_project_service.api]
}

resource "google_project_iam_member" "runtime" {
  for_each = local.project_grants

  project = each.value.project
  role    = each.value.role
  member  = google_service_account.runtime[each.value.account].member
}

# Conversation profiles only: roles/dialogflow.admin would also let the
# profile function change agents, intents and webhooks.
resource "google_project_iam_custom_role" "conversation_profiles" {
  project     = local.dialogflow_project
  role_id     = "${replace(var.name_prefix, "-", "_")}_conversation_profiles"
  title       = "routebot conversation profile manager"
  description = "Create, read, update and delete Dialogflow conversation profiles (routebot's profile function reconciles one per tenant)."
  permissions = [
    "dialogflow.conversationProfiles.create",
    "dialogflow.conversationProfiles.delete",
    "dialogflow.conversationProfiles.get",
    "dialogflow.conversationProfiles.list",
    "dialogflow.conversationProfiles.update",
  ]

  depends_on = [google_project_service.api]
}

# The identity Cloud Functions builds the source zip with (instead of the
# Compute Engine default account, which new projects no longer give builds).
resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-build"
  display_name = "routebot function builds"
  description  = "Builds routebot's functions from the source zip. Managed by terraform/."

  depends_on = [google_project_service.api]
}

resource "google_project_iam_member" "build_logs" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = google_service_account.build.member
}

resource "google_storage_bucket_iam_member" "build_source" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member
}

resource "google_artifact_registry_repository_iam_member" "build_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.build.member
}

# Cloud Build's pipeline (cloudbuild.yaml) runs `terraform apply` of this
# configuration as this account, so it needs to manage everything above.
locals {
  deployer_roles = var.create_deployer ? toset([
    "roles/artifactregistry.admin",          # the repository and its IAM; push the stream image
    "roles/cloudfunctions.admin",            # the functions
    "roles/datastore.owner",                 # the Firestore database, TTL and index settings
    "roles/iam.roleAdmin",                   # the conversation-profile custom role
    "roles/iam.serviceAccountAdmin",         # the service accounts
    "roles/iam.serviceAccountUser",          # deploy functions and the service as their accounts
    "roles/logging.logWriter",               # the build's own logs
    "roles/pubsub.admin",                    # the topic and its IAM
    "roles/resourcemanager.projectIamAdmin", # the project-level grants above
    "roles/run.admin",                       # the stream service, the functions' invoker IAM
    "roles/secretmanager.admin",             # the secrets and their IAM (never their values)
    "roles/serviceusage.serviceUsageAdmin",  # enable the APIs
    "roles/storage.admin",                   # the source bucket; the Terraform state bucket
  ]) : toset([])
}

resource "google_service_account" "deployer" {
  count = var.create_deployer ? 1 : 0

  project      = var.project_id
  account_id   = "${var.name_prefix}-deployer"
  display_name = "routebot Cloud Build deployer"
  description  = "Cloud Build runs cloudbuild.yaml (tests, the stream image, terraform apply) as this account. Managed by terraform/."

  depends_on = [google_project_service.api]
}

resource "google_project_iam_member" "deployer" {
  for_each = local.deployer_roles

  project = var.project_id
  role    = each.value
  member  = google_service_account.deployer[0].member
}
