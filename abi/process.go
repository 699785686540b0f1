package abi

// The go-plugin binding (see docs/abi.md, "Process binding"). A process
// plugin is an executable served with hashicorp/go-plugin over gRPC; the
// handshake carries [Version] as the protocol version and these values.
const (
	// HandshakeCookieKey and HandshakeCookieValue are the go-plugin magic
	// cookie: a process started by something else than codexhost exits
	// with a message instead of waiting for a handshake. Not a security
	// measure.
	HandshakeCookieKey   = "CODEXHOST_PLUGIN"
	HandshakeCookieValue = "5f1e1d6c-codexhost-abi"
	// PluginName is the name the plugin is dispensed under.
	PluginName = "codexhost"
)
