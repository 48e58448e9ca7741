# Firestore (Native mode), the store of tenants and call sessions
# (docs/data-model.md). The database is kept if this configuration is
# destroyed (deletion_policy ABANDON): it holds every tenant.
resource "google_firestore_database" "main" {
  project                 = var.project_id
  name                    = "(default)" # the database routebot's Firestore client opens
  location_id             = coalesce(var.firestore_location, var.region)
  type                    = "FIRESTORE_NATIVE"
  delete_protection_state = var.deletion_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy         = var.deletion_protection ? "ABANDON" : "DELETE"

  depends_on = [google_project_service.api]
}

# The TTL policy on the expiry field of what a call leaves behind: the
# sessions calls/{callId}, their append-only turns/{turn} log, which copies
# the session's expiry (a TTL deletion of a document does not reach its
# subcollections), and conversations/{callId}, a call's Dialogflow
# conversation record. The field's single-field indexes are switched off (the
# empty index_config): nothing queries by expires, and an index on a
# monotonically increasing timestamp is a write hotspot.
#
# Composite indexes: none. routebot reads documents by id only (the call, the
# tenant and its files, a customer, a scenario claim) and the tenants
# collection through one snapshot listener on the whole collection.
resource "google_firestore_field" "expires" {
  for_each = toset(["calls", "turns", "conversations"])

  project    = var.project_id
  database   = google_firestore_database.main.name
  collection = each.value
  field      = "expires"

  ttl_config {}
  index_config {}
}
