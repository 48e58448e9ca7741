# The APIs routebot needs. Destroying this configuration leaves them enabled:
# other things in the project may use them, and disabling an API can delete
# its resources.
locals {
  apis = toset(concat([
    "artifactregistry.googleapis.com",     # the stream image and the functions' build images
    "cloudbuild.googleapis.com",           # Cloud Functions build with it; the pipeline runs on it
    "cloudfunctions.googleapis.com",       # Scenario, Classify / Gateway, Profile
    "cloudresourcemanager.googleapis.com", # project IAM bindings
    "dialogflow.googleapis.com",           # DetectIntent, conversation profiles, the stream's BidiStreamingAnalyzeContent
    "firestore.googleapis.com",            # tenants and call sessions
    "iam.googleapis.com",                  # service accounts, the custom role
    "logging.googleapis.com",              # build and runtime logs
    "pubsub.googleapis.com",               # Agent Assist notifications
    "run.googleapis.com",                  # gen2 functions run on Cloud Run; the stream service
    "secretmanager.googleapis.com",        # gateway tokens / JWT keys, the LLM API key
    "storage.googleapis.com",              # the functions' source zips
    ], local.vertex ? [
    "aiplatform.googleapis.com", # the llm classifier through Vertex AI
  ] : []))
}

resource "google_project_service" "api" {
  for_each = local.apis

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
