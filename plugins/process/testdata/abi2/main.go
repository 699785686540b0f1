// Command abi2 is a go-plugin server that speaks codexhost's handshake
// (same magic cookie) but ABI major version 2, which this host does not.
package main

import (
	"github.com/hashicorp/go-plugin"

	"github.com/codexhost/codexhost/abi"
)

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  2,
			MagicCookieKey:   abi.HandshakeCookieKey,
			MagicCookieValue: abi.HandshakeCookieValue,
		},
		Plugins:    plugin.PluginSet{},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}
