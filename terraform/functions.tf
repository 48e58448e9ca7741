# routebot's Cloud Functions (gen2), deployed from one zip of the repository
# root: Google's Go functions build compiles the root package (routebot.go),
# which registers every entry point.
locals {
  live_turn = {
    memory        = var.turn_function.memory
    cpu           = var.turn_function.cpu
    concurrency   = var.turn_function.concurrency
    min_instances = var.turn_function.min_instances
    max_instances = var.turn_function.max_instances
  }

  turn_functions = var.turn_endpoints == "gateway" ? {
    gateway = {
      entry_point = "Gateway"
      title       = "routebot Gateway function (live turns and /chat-gpt on one URL)"
      size        = local.live_turn
      timeout     = 60 # the /chat-gpt shape waits on ROUTEBOT_POSTCALL_TIMEOUT (20 s) and retries
      public      = true
    }
    } : {
    scenario = {
      entry_point = "Scenario"
      title       = "routebot Scenario function (live turns)"
      size        = local.live_turn
      timeout     = 10 # a turn ends at ROUTEBOT_TURN_TIMEOUT (3 s); the gateway does not wait longer
      public      = true
    }
    classify = {
      entry_point = "Classify"
      title       = "routebot Classify function (post-call /chat-gpt)"
      size        = var.classify_function
      timeout     = 60
      public      = true
    }
  }

  functions = merge(local.turn_functions, {
    profile = {
      entry_point = "Profile"
      title       = "routebot Profile function (tenants' conversation profiles)"
      size = {
        memory        = var.profile_function.memory
        cpu           = var.profile_function.cpu
        concurrency   = 1 # one reconciliation at a time
        min_instances = 0
        max_instances = var.profile_function.max_instances
      }
      timeout = 300 # reconciles every tenant in one call
      public  = false
    }
    }, length(var.studio_invokers) == 0 ? {} : {
    studio = {
      entry_point = "Studio"
      title       = "routebot Studio function (scenario authors edit, test and publish flows)"
      size = {
        memory        = var.studio_function.memory
        cpu           = var.studio_function.cpu
        concurrency   = 8 # a few authors; a simulation trains the tenant's classifier
        min_instances = 0
        max_instances = var.studio_function.max_instances
      }
      timeout = 60
      public  = false
    }
  })

  # Settings every runtime shares; empty values are left out so that
  # routebot's defaults apply.
  common_env = merge({
    ROUTEBOT_STORE       = "firestore"
    GOOGLE_CLOUD_PROJECT = var.project_id
    ROUTEBOT_SESSION_TTL = var.session_ttl
    ROUTEBOT_TIMEZONE    = var.timezone
    ROUTEBOT_LOG_LEVEL   = var.log_level
    }, {
    for env, ref in local.secret_refs : env => ref if !contains(["ROUTEBOT_LLM_API_KEY", "ROUTEBOT_STUDIO_TOKENS"], env)
  })

  # The studio's author token, good for every tenant ("*:"); scope authors
  # to tenants by setting ROUTEBOT_STUDIO_TOKENS in extra_env instead.
  studio_env = {
    ROUTEBOT_STUDIO_TOKENS = "*:${lookup(local.secret_refs, "ROUTEBOT_STUDIO_TOKENS", "")}"
  }

  dialogflow_env = {
    ROUTEBOT_DIALOGFLOW_PROJECT  = local.dialogflow_project
    ROUTEBOT_DIALOGFLOW_LOCATION = var.dialogflow.location
    ROUTEBOT_DIALOGFLOW_LANGUAGE = var.dialogflow.language
  }

  classifier_env = {
    ROUTEBOT_CLASSIFIER   = var.default_classifier
    ROUTEBOT_LLM_BASE_URL = try(var.llm.base_url, "")
    ROUTEBOT_LLM_MODEL    = try(var.llm.model, "")
    ROUTEBOT_LLM_AUTH     = try(var.llm.auth, "")
    ROUTEBOT_LLM_API_KEY  = lookup(local.secret_refs, "ROUTEBOT_LLM_API_KEY", "")
  }

  function_env = {
    for k, f in local.functions : k => {
      for name, value in merge(
        local.common_env,
        local.dialogflow_env,
        k == "profile" ? {} : local.classifier_env,
        k == "studio" ? local.studio_env : {},
        var.extra_env,
      ) : name => value if value != ""
    }
  }
}

resource "google_storage_bucket" "source" {
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name_prefix}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true # only build inputs: every zip can be made again from git

  depends_on = [google_project_service.api]
}

# The repository root, without what the functions do not build: the
# Terraform configuration (and its state and plugins), git's data, tests,
# test data, and the pipeline's caches. The zip's SHA-256 is in the object's
# name, so any change to the source redeploys every function and an
# unchanged source redeploys nothing.
data "archive_file" "source" {
  type             = "zip"
  source_dir       = "${path.module}/.."
  output_path      = "${path.module}/.build/routebot-source.zip"
  output_file_mode = "0644" # the same bytes whatever the checkout's umask
  excludes = [
    ".git", ".git/**",
    "terraform", "terraform/**",
    "**/*_test.go",
    "**/testdata", "**/testdata/**",
    ".cache", ".cache/**",
    ".stream-image", ".stream-image/**",
    "local", "routebotctl", "stream", # binaries a local build leaves at the root
  ]
}

resource "google_storage_bucket_object" "source" {
  bucket = google_storage_bucket.source.name
  name   = "source/routebot-${data.archive_file.source.output_sha256}.zip"
  source = data.archive_file.source.output_path
}

resource "google_cloudfunctions2_function" "fn" {
  for_each = local.functions

  project     = var.project_id
  location    = var.region
  name        = "${var.name_prefix}-${each.key}"
  description = each.value.title

  build_config {
    runtime           = var.go_runtime
    entry_point       = each.value.entry_point
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.images.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.runtime[each.key].email
    available_memory                 = each.value.size.memory
    available_cpu                    = each.value.size.cpu
    max_instance_request_concurrency = each.value.size.concurrency
    min_instance_count               = each.value.size.min_instances
    max_instance_count               = each.value.size.max_instances
    timeout_seconds                  = each.value.timeout
    ingress_settings                 = "ALLOW_ALL" # who may call is IAM's (invoker below) and the bearer check's job
    all_traffic_on_latest_revision   = true
    environment_variables            = local.function_env[each.key]
  }

  depends_on = [
    google_project_iam_member.build_logs,
    google_storage_bucket_iam_member.build_source,
    google_artifact_registry_repository_iam_member.build_images,
    google_project_iam_member.runtime,
    google_secret_manager_secret_iam_member.reader,
  ]
}

# A gen2 function is invoked through its Cloud Run service: run.invoker there.
locals {
  function_invokers = merge(
    { for k, f in local.functions : "${k} ${var.gateway_invoker}" => { function = k, member = var.gateway_invoker } if f.public },
    { for m in var.profile_invokers : "profile ${m}" => { function = "profile", member = m } },
    { for m in var.studio_invokers : "studio ${m}" => { function = "studio", member = m } },
  )
}

resource "google_cloud_run_v2_service_iam_member" "function_invoker" {
  for_each = local.function_invokers

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.value.function].name
  role     = "roles/run.invoker"
  member   = each.value.member
}
