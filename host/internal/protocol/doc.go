// Package protocol is the codex app-server wire types as host uses them:
// aliases (aliases.go, generated) of the public package
// github.com/codexhost/codexhost/host/protocol, where `make protocol`
// generates them.
//
// Nothing here is hand-edited except this file.
package protocol
