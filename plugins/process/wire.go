package process

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/internal/pluginwire"
	"github.com/codexhost/codexhost/plugins"
)

// The gRPC service a process plugin serves: see pluginwire.ServiceName.
// The host is a go-plugin client and calls it with grpc-go; the plugin side
// (sdk-guest) serves it with internal/pluginwire.
const serviceName = pluginwire.ServiceName

// grpcPlugin adapts the service to go-plugin, host side: the plugin side
// is internal/pluginwire.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

// GRPCServer implements plugin.GRPCPlugin; the host never serves.
func (p *grpcPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("process: the host does not serve plugins")
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &stub{conn: c}, nil
}

// stub is the host side of the service.
type stub struct{ conn *grpc.ClientConn }

// maxSetupRecv bounds the answers of Describe and Configure on the wire,
// as the Wasm runtime bounds them (plugins.DefaultMaxResultBytes, plus the
// message's framing): go-plugin's connection would read up to 2 GiB.
const maxSetupRecv = plugins.DefaultMaxResultBytes + 16

// errSetupTooLarge is a Describe or Configure answer over maxSetupRecv.
var errSetupTooLarge = fmt.Errorf("the answer is over %d bytes", plugins.DefaultMaxResultBytes)

// describe calls Describe; an answer over maxSetupRecv bytes fails with an
// error matching plugins.ErrBadManifest, unread.
func (s *stub) describe(ctx context.Context) ([]byte, error) {
	out := new(wrapperspb.BytesValue)
	if err := s.conn.Invoke(ctx, "/"+serviceName+"/Describe", new(emptypb.Empty), out, grpc.MaxCallRecvMsgSize(maxSetupRecv)); err != nil {
		if status.Code(err) == codes.ResourceExhausted {
			return nil, fmt.Errorf("%w: describe: %w", plugins.ErrBadManifest, errSetupTooLarge)
		}
		return nil, err
	}
	return out.Value, nil
}

// configure calls Configure; an answer over maxSetupRecv bytes fails
// unread.
func (s *stub) configure(ctx context.Context, settings []byte) ([]byte, error) {
	out := new(wrapperspb.BytesValue)
	if err := s.conn.Invoke(ctx, "/"+serviceName+"/Configure", wrapperspb.Bytes(settings), out, grpc.MaxCallRecvMsgSize(maxSetupRecv)); err != nil {
		if status.Code(err) == codes.ResourceExhausted {
			return nil, errSetupTooLarge
		}
		return nil, err
	}
	return out.Value, nil
}

// handle calls Handle; a result over maxRecv bytes on the wire fails with
// codes.ResourceExhausted without being read whole.
func (s *stub) handle(ctx context.Context, hook abi.Hook, req []byte, maxRecv int) ([]byte, error) {
	in := make([]byte, 4+len(req))
	binary.BigEndian.PutUint32(in, uint32(hook))
	copy(in[4:], req)
	out := new(wrapperspb.BytesValue)
	if err := s.conn.Invoke(ctx, "/"+serviceName+"/Handle", wrapperspb.Bytes(in), out, grpc.MaxCallRecvMsgSize(maxRecv)); err != nil {
		return nil, err
	}
	return out.Value, nil
}

// handshake is go-plugin's handshake for codexhost plugins: the protocol
// version is the ABI major version.
var handshake = plugin.HandshakeConfig{
	ProtocolVersion:  uint(abi.Version),
	MagicCookieKey:   abi.HandshakeCookieKey,
	MagicCookieValue: abi.HandshakeCookieValue,
}

func unpack(b []byte) (abi.Status, []byte, error) {
	if len(b) == 0 {
		return 0, nil, fmt.Errorf("empty result")
	}
	return abi.Status(b[0]), b[1:], nil
}

// brokerStream is go-plugin's broker stream, which its client opens on
// every plugin connection.
const brokerStream = "/plugin.GRPCBroker/StartStream"

// errNoBroker refuses the broker stream.
var errNoBroker = errors.New("process: codexhost plugins get no go-plugin broker")

// noBroker refuses to open the broker stream. codexhost does not use the
// broker, and go-plugin's client reads it without bound: a plugin could
// make the host keep an entry per message (knocks for new service ids)
// and start a goroutine per message (connection infos), without limit.
// The stdio stream (SyncStdout, SyncStderr) is opened as usual.
func noBroker(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	if method == brokerStream {
		return nil, errNoBroker
	}
	return streamer(ctx, desc, cc, method, opts...)
}
