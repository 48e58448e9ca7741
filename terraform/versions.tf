terraform {
  # 1.9: variable validations may refer to other variables.
  required_version = ">= 1.9"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.7"
    }
  }

  # State in Cloud Storage, shared by the platform team and Cloud Build. The
  # bucket is made once, before the first `terraform init` (docs/deploy.md):
  #
  #   gcloud storage buckets create gs://PROJECT_ID-tfstate --location=REGION \
  #     --uniform-bucket-level-access --public-access-prevention
  #   gcloud storage buckets update gs://PROJECT_ID-tfstate --versioning
  #
  # Uncomment and fill in, or keep it commented and pass the same settings with
  # -backend-config to a backend_override.tf (as cloudbuild.yaml does).
  #
  # backend "gcs" {
  #   bucket = "PROJECT_ID-tfstate"
  #   prefix = "routebot"
  # }
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app = var.name_prefix
  }
}
