# Secret Manager secrets: Terraform creates them, never their values (which
# would then sit in the state). Add each value out of band, as docs/deploy.md
# shows:
#
#   printf %s "$TOKEN" | gcloud secrets versions add SECRET --data-file=-
#
# The functions get the secrets' version names (…/versions/latest), not
# their values: routebot reads them itself, re-reads them every
# ROUTEBOT_SECRET_REFRESH, and accepts the newest two enabled versions so that
# a rotation needs no redeploy and no caller is refused in the middle of one.
locals {
  # The identities that classify a turn's utterance (and so may call an LLM).
  classifiers = [for k in keys(local.functions) : k if k != "profile"]

  secrets = merge(
    {
      # Every instance must share it to recognise a retried turn, and it keys
      # the digest that stands in for the request (sensitive DTMF included).
      session-key = {
        env         = "ROUTEBOT_SESSION_KEY"
        description = "Key of the digest a call session keeps of its last request: at least 32 random bytes, shared by every instance."
        readers     = tolist(keys(local.runtime_accounts))
      }
    },
    contains(var.gateway_auth, "token") ? {
      gateway-token = {
        env         = "ROUTEBOT_API_TOKEN"
        description = "Static bearer token(s) the AI Gateway sends (one per version; the newest two are accepted)."
        readers     = tolist(keys(local.runtime_accounts))
      }
    } : {},
    contains(var.gateway_auth, "jwt") ? {
      gateway-jwt-key = {
        env         = "ROUTEBOT_JWT_KEY"
        description = "HS256 key of the AI Gateway's JWTs (the newest two versions are accepted)."
        readers     = tolist(keys(local.runtime_accounts))
      }
    } : {},
    local.llm_key ? {
      llm-api-key = {
        env         = "ROUTEBOT_LLM_API_KEY"
        description = "API key of the LLM at ${var.llm.base_url}."
        readers     = tolist(local.classifiers)
      }
    } : {},
  )

  # routebot's reference to each secret: the env var's value.
  secret_refs = { for k, s in local.secrets : s.env => "projects/${var.project_id}/secrets/${google_secret_manager_secret.secret[k].secret_id}/versions/latest" }

  # Each reader gets accessor (read a version) and viewer (list the versions,
  # to accept the previous one during a rotation) on that secret only.
  secret_grants = merge([
    for k, s in local.secrets : {
      for pair in setproduct(s.readers, ["roles/secretmanager.secretAccessor", "roles/secretmanager.viewer"]) :
      "${k} ${pair[0]} ${pair[1]}" => { secret = k, reader = pair[0], role = pair[1] }
    }
  ]...)
}

resource "google_secret_manager_secret" "secret" {
  for_each = local.secrets

  project   = var.project_id
  secret_id = "${var.name_prefix}-${each.key}"
  labels = {
    env = lower(replace(each.value.env, "_", "-"))
  }
  annotations = {
    description = each.value.description
  }

  replication {
    auto {}
  }

  depends_on = [google_project_service.api]
}

resource "google_secret_manager_secret_iam_member" "reader" {
  for_each = local.secret_grants

  project   = var.project_id
  secret_id = google_secret_manager_secret.secret[each.value.secret].secret_id
  role      = each.value.role
  member    = google_service_account.runtime[each.value.reader].member
}
