package tfcheck_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/routebot/routebot/common/config"
	"github.com/routebot/routebot/internal/repodir"
	"github.com/routebot/routebot/internal/tfcheck"
)

var (
	schemaOnce sync.Once
	schema     *tfcheck.Schema
	schemaErr  error
)

// loadSchema reads ../shared/terraform/providers-schema.json beside the
// module, or $ROUTEBOT_TF_SCHEMA, once for every test.
func loadSchema(t *testing.T) *tfcheck.Schema {
	t.Helper()
	path := os.Getenv("ROUTEBOT_TF_SCHEMA")
	if path == "" {
		path = filepath.Join(repodir.Root(t), "..", "shared", "terraform", "providers-schema.json")
	}
	schemaOnce.Do(func() { schema, schemaErr = tfcheck.LoadSchema(path) })
	if schemaErr != nil {
		t.Fatalf("provider schema (set ROUTEBOT_TF_SCHEMA to the output of `terraform providers schema -json`): %v", schemaErr)
	}
	return schema
}

// TestTerraform checks routebot's own terraform/ against the providers.
func TestTerraform(t *testing.T) {
	s := loadSchema(t)
	if err := tfcheck.CheckDir(filepath.Join(repodir.Root(t), "terraform"), s); err != nil {
		t.Errorf("terraform/ does not check:\n%v", err)
	}
}

// A valid module the fixtures below break one way each.
const valid = `variable "project_id" {
  type        = string
  description = "Project."
}

locals {
  name = "routebot"
}

resource "google_service_account" "fn" {
  for_each   = toset(["a", "b"])
  project    = var.project_id
  account_id = "${local.name}-${each.key}"
}

resource "google_pubsub_topic" "t" {
  name = local.name
  message_storage_policy {
    allowed_persistence_regions = ["asia-northeast3"]
  }
}

resource "google_pubsub_topic_iam_member" "pub" {
  topic  = google_pubsub_topic.t.name
  role   = "roles/pubsub.publisher"
  member = google_service_account.fn["a"].member
}

data "archive_file" "src" {
  type        = "zip"
  source_dir  = path.module
  output_path = "/tmp/src.zip"
}

resource "google_cloud_run_v2_service" "s" {
  name     = "s"
  location = "asia-northeast3"
  template {
    containers {
      image = "x"
      dynamic "env" {
        for_each = { A = "1" }
        content {
          name  = env.key
          value = env.value
        }
      }
    }
  }
}

output "sha" {
  value = data.archive_file.src.output_sha256
}
`

func TestCheck(t *testing.T) {
	s := loadSchema(t)
	tests := []struct {
		name string
		src  string
		vars string // a terraform.tfvars.example, if any
		want string // "" = no error
	}{
		{name: "valid", src: valid},
		{name: "valid with a variable file", src: valid, vars: "project_id = \"p-123456\"\n"},
		{name: "variable file sets an undeclared variable", src: valid, vars: "project = \"p-123456\"\n",
			want: `"project" is not a declared variable`},
		{name: "misspelt argument",
			src:  strings.Replace(valid, `  account_id = "${local.name}-${each.key}"`, `  acount_id  = "${local.name}-${each.key}"`, 1),
			want: `unsupported argument "acount_id" (did you mean "account_id"?)`},
		{name: "missing required argument",
			src:  strings.Replace(valid, "  role   = \"roles/pubsub.publisher\"\n", "", 1),
			want: `google_pubsub_topic_iam_member.pub: the argument "role" is required`},
		{name: "unknown resource type",
			src:  strings.Replace(valid, `resource "google_pubsub_topic" "t"`, `resource "google_pubsub_topik" "t"`, 1),
			want: `unknown resource type "google_pubsub_topik" (did you mean "google_pubsub_topic"?)`},
		{name: "unknown data source type",
			src:  strings.Replace(valid, `data "archive_file"`, `data "archive_files"`, 1),
			want: `unknown data source type "archive_files"`},
		{name: "misspelt nested argument",
			src:  strings.Replace(valid, "allowed_persistence_regions =", "allowed_persistance_regions =", 1),
			want: `google_pubsub_topic.t.message_storage_policy: unsupported argument "allowed_persistance_regions"`},
		{name: "missing nested required argument",
			src:  strings.Replace(valid, `      image = "x"`, `      name = "x"`, 1),
			want: `google_cloud_run_v2_service.s.template.containers: the argument "image" is required`},
		{name: "unknown nested block",
			src:  strings.Replace(valid, "  template {", "  templat {", 1),
			want: `unsupported block type "templat"`},
		{name: "missing required block",
			src:  strings.Replace(valid, "  template {\n    containers {\n      image = \"x\"\n", "  labels = {}\n  dummy {\n    containers {\n      image = \"x\"\n", 1),
			want: `at least 1 "template" block(s) required`},
		{name: "block written as argument",
			src:  strings.Replace(valid, "  message_storage_policy {\n    allowed_persistence_regions = [\"asia-northeast3\"]\n  }\n", "  message_storage_policy = {}\n", 1),
			want: `"message_storage_policy" is a block`},
		{name: "read-only argument",
			src:  strings.Replace(valid, "  account_id = \"${local.name}-${each.key}\"\n", "  account_id = \"${local.name}-${each.key}\"\n  email      = \"x\"\n", 1),
			want: `"email" is read-only`},
		{name: "dynamic block of an unknown type",
			src:  strings.Replace(valid, `dynamic "env"`, `dynamic "envs"`, 1),
			want: `unsupported block type "envs"`},
		{name: "undeclared variable",
			src:  strings.Replace(valid, "project    = var.project_id", "project    = var.project", 1),
			want: `reference to undeclared var.project`},
		{name: "undeclared local",
			src:  strings.Replace(valid, "  name = local.name\n", "  name = local.nmae\n", 1),
			want: `reference to undeclared local.nmae`},
		{name: "undeclared resource",
			src:  strings.Replace(valid, "topic  = google_pubsub_topic.t.name", "topic  = google_pubsub_topic.u.name", 1),
			want: `reference to undeclared resource google_pubsub_topic.u`},
		{name: "unknown attribute of a resource",
			src:  strings.Replace(valid, `google_service_account.fn["a"].member`, `google_service_account.fn["a"].mail`, 1),
			want: `google_service_account.fn.mail: no such attribute or block`},
		{name: "unknown attribute in a nested block",
			src:  strings.Replace(valid, "  value = data.archive_file.src.output_sha256\n", "  value = google_cloud_run_v2_service.s.template[0].timout\n", 1),
			want: `google_cloud_run_v2_service.s.template.timout: no such attribute or block (did you mean "timeout"?)`},
		{name: "nested block read without an index",
			src:  strings.Replace(valid, "  value = data.archive_file.src.output_sha256\n", "  value = google_cloud_run_v2_service.s.template.timeout\n", 1),
			want: `google_cloud_run_v2_service.s.template is a list of blocks`},
		{name: "unknown attribute after a computed key",
			src:  strings.Replace(valid, `google_service_account.fn["a"].member`, `google_service_account.fn[local.name].membr`, 1),
			want: `google_service_account.fn.membr: no such attribute or block`},
		{name: "repeated resource read without its key",
			src:  strings.Replace(valid, `google_service_account.fn["a"].member`, `google_service_account.fn.member`, 1),
			want: `index it before reading an attribute`},
		{name: "each without for_each",
			src:  strings.Replace(valid, "topic  = google_pubsub_topic.t.name", "topic  = each.key", 1),
			want: `each is not valid here`},
		{name: "variable without description",
			src:  strings.Replace(valid, "  description = \"Project.\"\n", "", 1),
			want: `variable "project_id" has no description`},
		{name: "variable without type",
			src:  strings.Replace(valid, "  type        = string\n", "", 1),
			want: `variable "project_id" has no type`},
		{name: "not formatted",
			src:  strings.Replace(valid, "  topic  = google_pubsub_topic.t.name", "  topic = google_pubsub_topic.t.name", 1),
			want: `not formatted as ` + "`terraform fmt`"},
		{name: "syntax error",
			src:  valid + "resource \"google_pubsub_topic\" {\n",
			want: `main.tf:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.src == valid && tt.vars == "" && tt.want != "" {
				t.Fatal("the fixture did not change the valid module: fix its replacement")
			}
			files := map[string][]byte{"main.tf": []byte(tt.src)}
			if tt.vars != "" {
				files["terraform.tfvars.example"] = []byte(tt.vars)
			}
			err := tfcheck.Check(files, s)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("Check passed; want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("Check error:\n%v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// TestNotInFunctionBinaries keeps HCL out of what Cloud Functions and the
// buildpack's main compile.
func TestNotInFunctionBinaries(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/routebot/routebot", "github.com/routebot/routebot/cmd/functions").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/hashicorp/") || strings.HasPrefix(pkg, "github.com/zclconf/") ||
			pkg == "github.com/routebot/routebot/internal/tfcheck" {
			t.Errorf("the function binaries depend on %s", pkg)
		}
	}
}

// secretLike are shapes of credentials that must never be committed to the
// deployment's configuration.
var secretLike = []struct{ name, re string }{
	{"a private key", `-----BEGIN [A-Z ]*PRIVATE KEY-----`},
	{"an OpenAI-style API key", `\bsk-[A-Za-z0-9_-]{20,}`},
	{"a Google API key", `\bAIza[0-9A-Za-z_-]{35}\b`},
	{"a service account key file", `"private_key_id"\s*:`},
	{"routebot's public development token", regexp.QuoteMeta(config.DevToken)},
	// A secret version resource would put the value in Terraform's state.
	{"a secret version managed by Terraform", `resource\s+"google_secret_manager_secret_version"`},
	{"a secret value argument", `\b(secret_data|secret_data_wo)\s*=`},
	{"a long base64 literal", `"[A-Za-z0-9+/]{40,}={0,2}"`},
}

// TestNoSecretValues keeps secret values out of terraform/ and
// cloudbuild.yaml: Terraform creates the secrets, values are added out of band.
func TestNoSecretValues(t *testing.T) {
	root := repodir.Root(t)
	paths, err := filepath.Glob(filepath.Join(root, "terraform", "*"))
	if err != nil {
		t.Fatal(err)
	}
	paths = append(paths, filepath.Join(root, "cloudbuild.yaml"))
	checked := 0
	for _, p := range paths {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || strings.HasSuffix(p, ".zip") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, s := range secretLike {
			if loc := regexp.MustCompile(s.re).FindIndex(data); loc != nil {
				line := 1 + strings.Count(string(data[:loc[0]]), "\n")
				t.Errorf("%s:%d: looks like %s", p, line, s.name)
			}
		}
	}
	if checked < 3 {
		t.Fatalf("checked only %d files: the paths are wrong", checked)
	}
}

// TestSecretLikeCatches makes sure each pattern above can fail.
func TestSecretLikeCatches(t *testing.T) {
	samples := []string{
		"-----BEGIN RSA PRIVATE KEY-----",
		`key = "sk-abcdefghijklmnopqrstuvwx"`,
		`key = "AIzaSyA1234567890abcdefghijklmnopqrstuv"`,
		`{"private_key_id": "x"}`,
		config.DevToken,
		`resource "google_secret_manager_secret_version" "v" {`,
		`  secret_data = var.token`,
		`"dGhpcyBpcyBhIHNlY3JldCB2YWx1ZSB0aGF0IGlzIGxvbmc="`,
	}
	for i, s := range secretLike {
		t.Run(s.name, func(t *testing.T) {
			if !regexp.MustCompile(s.re).MatchString(samples[i]) {
				t.Errorf("%q does not match %q", s.re, samples[i])
			}
		})
	}
}
