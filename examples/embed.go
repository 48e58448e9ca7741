// Package examples embeds the demo tenants (examples/tenants) so the local
// run serves them from any working directory, with no files to find.
package examples

import "embed"

// Tenants holds tenants/<id>/… as written in this folder.
//
//go:embed tenants
var Tenants embed.FS
