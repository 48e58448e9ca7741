# Agent Assist notifications: the tenants' conversation profiles (made by the
# profile function) name this topic, and Dialogflow publishes suggestions and
# conversation events to it.
resource "google_pubsub_topic" "agent_assist" {
  project                    = var.project_id
  name                       = "${var.name_prefix}-agent-assist"
  message_retention_duration = "86400s" # a subscriber that falls behind has a day to catch up

  message_storage_policy {
    allowed_persistence_regions = [var.region]
  }

  depends_on = [google_project_service.api]
}

data "google_project" "this" {
  project_id = var.project_id
}

# Dialogflow publishes as its service agent, not as the profile function.
resource "google_pubsub_topic_iam_member" "dialogflow_publisher" {
  count = var.grant_dialogflow_agent_publisher ? 1 : 0

  project = var.project_id
  topic   = google_pubsub_topic.agent_assist.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-dialogflow.iam.gserviceaccount.com"
}
