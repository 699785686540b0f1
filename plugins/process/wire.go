package process

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"os"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/codexhost/codexhost/abi"
)

// The gRPC service a process plugin serves (see docs/abi.md, "Process
// binding"). It is defined by hand over the well-known wrapper messages so
// that no generated code is needed, and a plugin in another language can
// implement it with any gRPC library:
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
const serviceName = "codexhost.v1.Plugin"

// A Server is what a process plugin implements; sdk-guest implements it.
type Server interface {
	Describe() []byte
	Configure(settings []byte) (abi.Status, []byte)
	Handle(ctx context.Context, hook abi.Hook, req []byte) (abi.Status, []byte)
}

var serviceDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*Server)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Describe", Handler: describeHandler},
		{MethodName: "Configure", Handler: configureHandler},
		{MethodName: "Handle", Handler: handleHandler},
	},
	Metadata: "codexhost/plugin.proto",
}

func result(st abi.Status, payload []byte) *wrapperspb.BytesValue {
	out := make([]byte, 1+len(payload))
	out[0] = byte(st)
	copy(out[1:], payload)
	return wrapperspb.Bytes(out)
}

func describeHandler(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	if err := dec(new(emptypb.Empty)); err != nil {
		return nil, err
	}
	return wrapperspb.Bytes(srv.(Server).Describe()), nil
}

func configureHandler(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	in := new(wrapperspb.BytesValue)
	if err := dec(in); err != nil {
		return nil, err
	}
	return result(srv.(Server).Configure(in.Value)), nil
}

func handleHandler(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	in := new(wrapperspb.BytesValue)
	if err := dec(in); err != nil {
		return nil, err
	}
	if len(in.Value) < 4 {
		return result(abi.StatusError, []byte(`{"code":3,"message":"request shorter than its hook number"}`)), nil
	}
	hook := abi.Hook(binary.BigEndian.Uint32(in.Value))
	return result(srv.(Server).Handle(ctx, hook, in.Value[4:])), nil
}

// grpcPlugin adapts the service to go-plugin.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl Server // set on the plugin side only
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	s.RegisterService(&serviceDesc, p.impl)
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &stub{conn: c}, nil
}

// stub is the host side of the service.
type stub struct{ conn *grpc.ClientConn }

func (s *stub) describe(ctx context.Context) ([]byte, error) {
	out := new(wrapperspb.BytesValue)
	if err := s.conn.Invoke(ctx, "/"+serviceName+"/Describe", new(emptypb.Empty), out); err != nil {
		return nil, err
	}
	return out.Value, nil
}

func (s *stub) configure(ctx context.Context, settings []byte) ([]byte, error) {
	out := new(wrapperspb.BytesValue)
	if err := s.conn.Invoke(ctx, "/"+serviceName+"/Configure", wrapperspb.Bytes(settings), out); err != nil {
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

// Serve serves s as a codexhost process plugin over gRPC and does not
// return. It is called by sdk-guest's Main; plugin authors do not call it.
// The plugin's stdout belongs to go-plugin's handshake: write logs to
// stderr, which the host captures.
func Serve(s Server) {
	cfg := &plugin.ServeConfig{
		HandshakeConfig: handshake,
		Plugins:         plugin.PluginSet{abi.PluginName: &grpcPlugin{impl: s}},
		GRPCServer:      plugin.DefaultGRPCServer,
	}
	tlsCfg, err := serverTLS()
	if err != nil {
		fmt.Fprintln(os.Stderr, "codexhost plugin: mutual TLS:", err)
		os.Exit(1)
	}
	if tlsCfg != nil {
		cfg.TLSProvider = func() (*tls.Config, error) { return tlsCfg, nil }
	}
	plugin.Serve(cfg)
}

func unpack(b []byte) (abi.Status, []byte, error) {
	if len(b) == 0 {
		return 0, nil, fmt.Errorf("empty result")
	}
	return abi.Status(b[0]), b[1:], nil
}
