// Package protocol holds the codex app-server wire types, generated from the
// pinned Codex CLI's JSON Schema (see provenance.go and `make protocol`).
//
// Nothing here is hand-edited except this file. host translates these types
// into its own public types, so codex protocol churn stays inside host.
package protocol
