# The stream service (cmd/stream) on Cloud Run: one long request per call
# leg, carrying the leg's audio to Dialogflow (BidiStreamingAnalyzeContent).
resource "google_artifact_registry_repository" "images" {
  project       = var.project_id
  location      = var.region
  repository_id = var.name_prefix
  format        = "DOCKER"
  description   = "routebot images: the stream service (tagged with the commit) and the functions' builds."

  depends_on = [google_project_service.api]
}

locals {
  stream_image = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}/stream:${coalesce(var.stream_image_tag, "none")}"

  stream_env = {
    for name, value in merge(local.common_env, local.dialogflow_env, var.extra_env) : name => value if value != ""
  }
}

resource "google_cloud_run_v2_service" "stream" {
  count = var.stream_image_tag == null ? 0 : 1

  project             = var.project_id
  location            = var.region
  name                = "${var.name_prefix}-stream"
  description         = "routebot stream service: call audio to Dialogflow."
  ingress             = "INGRESS_TRAFFIC_ALL" # the AI Gateway is outside Google Cloud
  deletion_protection = var.deletion_protection

  template {
    service_account = google_service_account.runtime["stream"].email
    # A leg's request lasts the whole call: Cloud Run's longest.
    timeout = "3600s"
    # A reconnecting leg goes back to the instance that holds its stream.
    session_affinity                 = true
    max_instance_request_concurrency = var.stream.concurrency

    scaling {
      min_instance_count = var.stream.min_instances
      max_instance_count = var.stream.max_instances
    }

    containers {
      image = local.stream_image

      ports {
        container_port = 8080
      }

      resources {
        limits = {
          cpu    = var.stream.cpu
          memory = var.stream.memory
        }
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = local.stream_env
        content {
          name  = env.key
          value = env.value
        }
      }

      # Ready once it answers its health path (after its Firestore client
      # and secrets are up); restarted if it stops answering.
      startup_probe {
        period_seconds    = 2
        timeout_seconds   = 2
        failure_threshold = 30
        http_get {
          path = var.stream.health_path
        }
      }

      liveness_probe {
        period_seconds    = 15
        timeout_seconds   = 3
        failure_threshold = 3
        http_get {
          path = var.stream.health_path
        }
      }
    }
  }

  # Every deploy serves the new revision, also after a manual rollback with
  # `gcloud run services update-traffic` (docs/deploy.md).
  traffic {
    type    = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
    percent = 100
  }

  depends_on = [
    google_project_iam_member.runtime,
    google_secret_manager_secret_iam_member.reader,
  ]
}

resource "google_cloud_run_v2_service_iam_member" "stream_invoker" {
  count = var.stream_image_tag == null ? 0 : 1

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.stream[0].name
  role     = "roles/run.invoker"
  member   = var.gateway_invoker
}
