// Command broker is a hostile process plugin (review 16): it serves
// codexhost's service with grpc-go, and also go-plugin's broker service,
// on which it floods the host with ConnInfo messages if the host opens
// the broker stream. ADV_N is how many; ADV_KIND is "knock" (knock
// requests with distinct service ids: go-plugin's client keeps one entry
// per id for the life of the connection) or "conn" (connection infos:
// go-plugin's client starts a 5 s goroutine per message); "blackhole"
// announces a TCP listener that never speaks (Load ends at its start
// timeout). An approval is answered once the flood is sent, with the
// reason "flooded", or at once with "no broker" if the host has not
// opened the broker stream (it opens it as it connects, before any call).
package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/codexhost/codexhost/internal/pluginwire"
)

// raw is a message sent as it is.
type raw struct{ b []byte }

type codec struct{}

func (codec) Marshal(v any) ([]byte, error) {
	if r, ok := v.(*raw); ok {
		return r.b, nil
	}
	return proto.Marshal(v.(proto.Message))
}

func (codec) Unmarshal(b []byte, v any) error {
	if r, ok := v.(*raw); ok {
		r.b = append([]byte(nil), b...)
		return nil
	}
	return proto.Unmarshal(b, v.(proto.Message))
}

func (codec) Name() string { return "proto" }

var (
	flooded = make(chan struct{})
	opened  atomic.Bool
)

func connInfo(id uint32, knock bool) []byte {
	b := []byte{0x08}
	b = binary.AppendUvarint(b, uint64(id))
	if knock {
		b = append(b, 0x22, 0x02, 0x08, 0x01) // knock {knock: true}
	} else {
		b = append(b, 0x12, 0x04, 'u', 'n', 'i', 'x', 0x1a, 0x01, 'x')
	}
	return b
}

func main() {
	if os.Getenv("ADV_KIND") == "blackhole" {
		// Announce a TCP listener that accepts and never speaks TLS.
		bl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			os.Exit(1)
		}
		go func() {
			var keep []net.Conn
			for {
				c, err := bl.Accept()
				if err != nil {
					return
				}
				keep = append(keep, c)
			}
		}()
		fmt.Printf("1|1|tcp|%s|grpc|\n", bl.Addr())
		select {}
	}
	n, _ := strconv.Atoi(os.Getenv("ADV_N"))
	kind := os.Getenv("ADV_KIND")
	cfg, err := pluginwire.ServerTLS()
	if err != nil || cfg == nil {
		fmt.Fprintln(os.Stderr, "no TLS:", err)
		os.Exit(1)
	}
	dir := os.Getenv("PLUGIN_UNIX_SOCKET_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("adv-%d.sock", os.Getpid()))
	l, err := net.Listen("unix", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s := grpc.NewServer(grpc.Creds(credentials.NewTLS(cfg)), grpc.ForceServerCodec(codec{}))
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: pluginwire.ServiceName,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			{MethodName: "Describe", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				_ = dec(new(emptypb.Empty))
				return wrapperspb.Bytes([]byte(`{"name":"adv-broker","version":"1","abi":1,"hooks":["approval"]}`)), nil
			}},
			{MethodName: "Configure", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				_ = dec(new(wrapperspb.BytesValue))
				return wrapperspb.Bytes([]byte{0}), nil
			}},
			{MethodName: "Handle", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				_ = dec(new(wrapperspb.BytesValue))
				if !opened.Load() {
					return wrapperspb.Bytes(append([]byte{0}, `{"decision":"decline","reason":"no broker"}`...)), nil
				}
				select {
				case <-flooded:
				case <-ctx.Done():
				}
				return wrapperspb.Bytes(append([]byte{0}, `{"decision":"decline","reason":"flooded"}`...)), nil
			}},
		},
	}, struct{}{})
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: "plugin.GRPCController",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{MethodName: "Shutdown", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			_ = dec(new(emptypb.Empty))
			go func() { time.Sleep(10 * time.Millisecond); os.Exit(0) }()
			return new(emptypb.Empty), nil
		}}},
	}, struct{}{})
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: "plugin.GRPCBroker",
		HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{{StreamName: "StartStream", ServerStreams: true, ClientStreams: true,
			Handler: func(_ any, st grpc.ServerStream) error {
				opened.Store(true)
				for i := 0; i < n; i++ {
					if err := st.SendMsg(&raw{connInfo(uint32(i+1), kind == "knock")}); err != nil {
						return err
					}
				}
				close(flooded)
				<-st.Context().Done()
				return nil
			}}},
	}, struct{}{})
	fmt.Printf("1|1|unix|%s|grpc|\n", path)
	_ = s.Serve(l)
}
