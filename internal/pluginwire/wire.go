// Package pluginwire is the plugin side of codexhost's process binding
// (docs/abi.md, "Process binding"): hashicorp/go-plugin's handshake and the
// gRPC service codexhost.v1.Plugin, served over HTTP/2 by a minimal server
// of its own (h2.go; not net/http, which links x/text) with hand-encoded
// protobuf. sdk-guest serves process plugins with it;
// plugins/process (the host side, a go-plugin client) shares its
// constants.
//
// It does not import go-plugin or grpc-go: they would add ~10 MB to every
// plugin binary. What a go-plugin client needs of a plugin is small: the
// handshake line on stdout, the service, go-plugin's controller (Shutdown)
// and stdio stream; its broker is refused as unimplemented, which go-plugin
// tolerates.
package pluginwire

import (
	"context"

	"github.com/codexhost/codexhost/abi"
)

// ServiceName is the gRPC service a process plugin serves:
//
//	service codexhost.v1.Plugin {
//	  rpc Describe(google.protobuf.Empty) returns (google.protobuf.BytesValue);   // manifest JSON
//	  rpc Configure(google.protobuf.BytesValue) returns (google.protobuf.BytesValue); // settings → result
//	  rpc Handle(google.protobuf.BytesValue) returns (google.protobuf.BytesValue);    // request → result
//	}
//
// A Handle request is the hook number as 4 big-endian bytes followed by the
// request JSON. A result is a status byte followed by the JSON payload,
// exactly as in the Wasm binding.
const ServiceName = "codexhost.v1.Plugin"

// The environment of a plugin process, set by the host.
const (
	// EnvTLSFD holds the number of the file descriptor on which the
	// plugin reads its PEM server certificate and key (see
	// plugins/process tls.go).
	EnvTLSFD = "CODEXHOST_PLUGIN_TLS_FD"
	// EnvClientCert is go-plugin's: the host's PEM client certificate.
	EnvClientCert = "PLUGIN_CLIENT_CERT"
	// envUnixSocketDir is go-plugin's: where to create the socket.
	envUnixSocketDir = "PLUGIN_UNIX_SOCKET_DIR"
	// envProtocolVersions is go-plugin's: the versions the host speaks.
	envProtocolVersions = "PLUGIN_PROTOCOL_VERSIONS"
)

// coreProtocolVersion is go-plugin's handshake version (the first field of
// the handshake line).
const coreProtocolVersion = 1

// A Server is what a process plugin implements; sdk-guest implements it.
// Its methods are called concurrently.
type Server interface {
	Describe() []byte
	Configure(settings []byte) (abi.Status, []byte)
	Handle(ctx context.Context, hook abi.Hook, req []byte) (abi.Status, []byte)
}
