// Command grpcstatus is a hostile process plugin for grpc_status_test.go:
// it is served by hashicorp/go-plugin and grpc-go (go-plugin's AutoMTLS,
// as a plugin in another language or built without sdk-guest would be),
// and answers calls with gRPC statuses of its choosing. STATUS_MODE picks:
//
//	"handle-huge"      Handle fails with a status whose message is
//	                   STATUS_MB MiB (default 8) of "A"
//	"describe-escape"  Describe fails with a status whose message holds
//	                   terminal controls
package main

import (
	"context"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/codexhost/codexhost/abi"
)

const manifest = `{"name":"grpcstatus","version":"1","abi":1,"hooks":["approval"]}`

// Escape is what describe-escape says: a title, a screen clear, a
// hyperlink.
const Escape = "\x1b]0;pwned\x07\x1b[2J\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\"

type impl struct{ mode string }

func (s impl) describe(ctx context.Context, _ *emptypb.Empty) (*wrapperspb.BytesValue, error) {
	if s.mode == "describe-escape" {
		return nil, status.Error(codes.Unknown, Escape)
	}
	return wrapperspb.Bytes([]byte(manifest)), nil
}

func (s impl) configure(ctx context.Context, _ *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error) {
	return wrapperspb.Bytes([]byte{byte(abi.StatusOK)}), nil
}

func (s impl) handle(ctx context.Context, _ *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error) {
	if s.mode == "handle-huge" {
		mb, _ := strconv.Atoi(os.Getenv("STATUS_MB"))
		if mb <= 0 {
			mb = 8
		}
		return nil, status.Error(codes.Unknown, strings.Repeat("A", mb<<20))
	}
	return wrapperspb.Bytes(append([]byte{byte(abi.StatusOK)}, `{"decision":"accept"}`...)), nil
}

type server interface{}

func desc(s impl) *grpc.ServiceDesc {
	return &grpc.ServiceDesc{
		ServiceName: "codexhost.v1.Plugin",
		HandlerType: (*server)(nil),
		Methods: []grpc.MethodDesc{
			{MethodName: "Describe", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				in := new(emptypb.Empty)
				if err := dec(in); err != nil {
					return nil, err
				}
				return s.describe(ctx, in)
			}},
			{MethodName: "Configure", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				in := new(wrapperspb.BytesValue)
				if err := dec(in); err != nil {
					return nil, err
				}
				return s.configure(ctx, in)
			}},
			{MethodName: "Handle", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				in := new(wrapperspb.BytesValue)
				if err := dec(in); err != nil {
					return nil, err
				}
				return s.handle(ctx, in)
			}},
		},
	}
}

type grpcPlugin struct {
	plugin.Plugin
	s impl
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, srv *grpc.Server) error {
	srv.RegisterService(desc(p.s), p.s)
	return nil
}

func (p *grpcPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, nil
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  uint(abi.Version),
			MagicCookieKey:   abi.HandshakeCookieKey,
			MagicCookieValue: abi.HandshakeCookieValue,
		},
		Plugins:    plugin.PluginSet{abi.PluginName: &grpcPlugin{s: impl{mode: os.Getenv("STATUS_MODE")}}},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}
