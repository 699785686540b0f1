// Package protocol holds the codex app-server wire types: the params and
// results of the requests codexhost sends, and every server request and
// notification, generated from codex's JSON Schema (`make protocol`; see
// provenance.go for the codex version and the schema's sha256).
//
// Use them to type the params and results of [github.com/codexhost/codexhost/host.Client.Call], and to
// decode an [github.com/codexhost/codexhost/host.Event]'s raw Params or a [github.com/codexhost/codexhost/host.Request]'s. They follow
// codex's schema of [CodexVersion] exactly: a field codex renames or drops
// in a later version is renamed or dropped here when codexhost moves to it,
// so these types do not carry codexhost's compatibility promise; package
// host's own types do. Unions codex encodes as a string or an object are
// json.RawMessage.
//
// Nothing here is hand-edited except this file.
package protocol
