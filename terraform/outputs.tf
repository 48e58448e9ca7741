output "gateway_urls" {
  description = "What to configure in the AI Gateway: the live-turn base URL (POST {url}/{scenarioCode}) and the /chat-gpt base URL (the same URL with turn_endpoints = gateway). These are the run.app URLs: with gateway_invoker = serviceAccount:…, the gateway sends its Google ID token in X-Serverless-Authorization and routebot's bearer token in Authorization."
  value = var.turn_endpoints == "gateway" ? {
    turn     = google_cloudfunctions2_function.fn["gateway"].service_config[0].uri
    classify = google_cloudfunctions2_function.fn["gateway"].service_config[0].uri
    } : {
    turn     = google_cloudfunctions2_function.fn["scenario"].service_config[0].uri
    classify = google_cloudfunctions2_function.fn["classify"].service_config[0].uri
  }
}

output "stream_url" {
  description = "The stream service's URL (null until stream_image_tag is set)."
  value       = one(google_cloud_run_v2_service.stream[*].uri)
}

output "profile_url" {
  description = "The profile function's URL: call it with an ID token of one of profile_invokers to reconcile the tenants' conversation profiles."
  value       = google_cloudfunctions2_function.fn["profile"].service_config[0].uri
}

output "studio_url" {
  description = "The flow studio's URL (null unless studio_invokers is set): open {url}/studio/ as one of studio_invokers."
  value       = try(google_cloudfunctions2_function.fn["studio"].service_config[0].uri, null)
}

output "function_urls" {
  description = "Every function's URLs, by name: run (the Cloud Run URL, used above) and functions (the cloudfunctions.net URL, the same function)."
  value       = { for k, f in google_cloudfunctions2_function.fn : k => { run = f.service_config[0].uri, functions = f.url } }
}

output "secrets" {
  description = "The secrets whose values must be added out of band, with the command that adds one (pipe the value in; it never passes through Terraform)."
  value = {
    for k, s in google_secret_manager_secret.secret : s.secret_id => "printf %s \"$VALUE\" | gcloud secrets versions add ${s.secret_id} --project=${var.project_id} --data-file=-"
  }
}

output "service_accounts" {
  description = "Runtime service accounts by function (and stream), the function build account, and Cloud Build's deployer (null when not created)."
  value = {
    runtime  = { for k, sa in google_service_account.runtime : k => sa.email }
    build    = google_service_account.build.email
    deployer = one(google_service_account.deployer[*].email)
  }
}

output "agent_assist_topic" {
  description = "The Pub/Sub topic for Agent Assist notifications: name it in a tenant's tenant.yaml (profile.notifications.topic, profile.newMessageNotifications.topic)."
  value       = google_pubsub_topic.agent_assist.id
}

output "images_repository" {
  description = "Where Cloud Build pushes the stream image: REPOSITORY/stream:TAG."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}

output "source_object" {
  description = "The source zip the functions were built from (its name holds its SHA-256)."
  value       = "gs://${google_storage_bucket.source.name}/${google_storage_bucket_object.source.name}"
}
