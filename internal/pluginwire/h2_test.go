package pluginwire

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/codexhost/codexhost/abi"
)

// echoServer answers Handle with the request, or waits for the call's
// context when the request is "block".
type echoServer struct{ blocked chan struct{} }

func (echoServer) Describe() []byte { return []byte(`{"name":"echo"}`) }
func (echoServer) Configure(settings []byte) (abi.Status, []byte) {
	return abi.StatusOK, settings
}
func (e echoServer) Handle(ctx context.Context, hook abi.Hook, req []byte) (abi.Status, []byte) {
	if string(req) == "deadline" {
		d, ok := ctx.Deadline()
		return abi.StatusOK, fmt.Appendf(nil, "%v %v", ok, ok && time.Until(d) <= time.Minute)
	}
	if string(req) == "block" {
		e.blocked <- struct{}{}
		<-ctx.Done()
		return abi.StatusError, []byte(ctx.Err().Error())
	}
	return abi.StatusOK, append([]byte(fmt.Sprintf("%d:", hook)), req...)
}

// startWire serves an echoServer on a Unix socket and returns a grpc-go
// client of it: the client go-plugin uses on the host side.
func startWire(t *testing.T, w *wire) *grpc.ClientConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", path)
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- h2Serve(l, w.serveStream, w.answersEarly) }()
	cc, err := grpc.NewClient("passthrough:///plugin",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30), grpc.MaxCallSendMsgSize(1<<30)))
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = cc.Close()
		_ = l.Close()
		<-served
	})
	return cc
}

// startWireWithStdio is startWire with the plugin's stdout and stderr
// redirected to pipes, whose write ends it returns.
func startWireWithStdio(t *testing.T) (cc *grpc.ClientConn, stdout, stderr *os.File) {
	t.Helper()
	or, ow, err := os.Pipe()
	require.NoError(t, err)
	er, ew, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { _ = ow.Close(); _ = ew.Close() })
	return startWire(t, &wire{s: echoServer{}, done: make(chan struct{}), stdoutPipe: or, stderrPipe: er}), ow, ew
}

func handle(ctx context.Context, cc *grpc.ClientConn, hook abi.Hook, req []byte) ([]byte, error) {
	in := binary.BigEndian.AppendUint32(nil, uint32(hook))
	out := new(wrapperspb.BytesValue)
	err := cc.Invoke(ctx, "/"+ServiceName+"/Handle", wrapperspb.Bytes(append(in, req...)), out)
	return out.GetValue(), err
}

// The real gRPC client calls Describe, Configure and Handle, many at once,
// with requests and answers far larger than every flow-control window.
func TestH2ServesTheGRPCClient(t *testing.T) {
	cc := startWire(t, &wire{s: echoServer{}, done: make(chan struct{})})
	ctx := context.Background()

	d := new(wrapperspb.BytesValue)
	require.NoError(t, cc.Invoke(ctx, "/"+ServiceName+"/Describe", new(emptypb.Empty), d))
	assert.Equal(t, `{"name":"echo"}`, string(d.GetValue()))
	c := new(wrapperspb.BytesValue)
	require.NoError(t, cc.Invoke(ctx, "/"+ServiceName+"/Configure", wrapperspb.Bytes([]byte(`{"a":1}`)), c))
	assert.Equal(t, "\x00"+`{"a":1}`, string(c.GetValue()))

	sizes := []int{0, 1, 100, 16383, 16384, 16385, 65535, 65536, 1 << 20, 3<<20 + 7, 9 << 20}
	var wg sync.WaitGroup
	for i, n := range sizes {
		for j := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req := bytes.Repeat([]byte{byte('a' + i), byte('0' + j)}, n/2+1)[:n]
				out, err := handle(ctx, cc, abi.Hook(i), req)
				if assert.NoError(t, err, n) {
					want := append([]byte{byte(abi.StatusOK)}, fmt.Sprintf("%d:", i)...)
					assert.True(t, bytes.Equal(append(want, req...), out), "answer of a %d-byte request", n)
				}
			}()
		}
	}
	wg.Wait()
}

// A call's deadline reaches the handler as its context's, and a call the
// client cancels cancels the handler's context.
func TestH2DeadlineAndCancel(t *testing.T) {
	blocked := make(chan struct{}, 1)
	cc := startWire(t, &wire{s: echoServer{blocked: blocked}, done: make(chan struct{})})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := handle(ctx, cc, abi.HookApproval, []byte("deadline"))
	require.NoError(t, err)
	assert.Equal(t, "\x00true true", string(out))
	out, err = handle(context.Background(), cc, abi.HookApproval, []byte("deadline"))
	require.NoError(t, err)
	assert.Equal(t, "\x00false false", string(out))

	ctx2, cancel2 := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := handle(ctx2, cc, abi.HookApproval, []byte("block"))
		errc <- err
	}()
	<-blocked
	cancel2()
	assert.Equal(t, codes.Canceled, grpcstatus.Code(<-errc))

	// The connection still serves.
	out, err = handle(context.Background(), cc, abi.HookApproval, []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, "\x001:x", string(out))
}

// Unknown methods (go-plugin's broker among them) are unimplemented; a
// status message that would not fit a frame is cut.
func TestH2Unimplemented(t *testing.T) {
	cc := startWire(t, &wire{s: echoServer{}, done: make(chan struct{})})
	err := cc.Invoke(context.Background(), "/plugin.GRPCBroker/StartStream", new(emptypb.Empty), new(emptypb.Empty))
	assert.Equal(t, codes.Unimplemented, grpcstatus.Code(err))
	assert.Contains(t, grpcstatus.Convert(err).Message(), "/plugin.GRPCBroker/StartStream")

	err = cc.Invoke(context.Background(), "/"+string(bytes.Repeat([]byte("é"), 15000)), new(emptypb.Empty), new(emptypb.Empty))
	assert.Equal(t, codes.Unimplemented, grpcstatus.Code(err))
	assert.LessOrEqual(t, len(grpcstatus.Convert(err).Message()), maxStatusMessage)
}

// The stdio stream carries what the plugin writes, in order, on its
// channel; a second stream is refused.
func TestH2StdioStream(t *testing.T) {
	cc, ow, ew := startWireWithStdio(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	desc := &grpc.StreamDesc{ServerStreams: true}
	s, err := cc.NewStream(ctx, desc, "/plugin.GRPCStdio/StreamStdio", grpc.ForceCodec(rawCodec{}))
	require.NoError(t, err)
	require.NoError(t, s.SendMsg(new(rawMessage)))
	require.NoError(t, s.CloseSend())

	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: beyond every window
	go func() { _, _ = ow.Write(want); _, _ = ew.Write([]byte("err")) }()
	var got, gotErr []byte
	for len(got) < len(want) || len(gotErr) < 3 {
		m := new(rawMessage)
		require.NoError(t, s.RecvMsg(m))
		channel, data := decodeStdio(t, m.b)
		if channel == 1 {
			got = append(got, data...)
		} else {
			gotErr = append(gotErr, data...)
		}
	}
	assert.True(t, bytes.Equal(want, got))
	assert.Equal(t, "err", string(gotErr))

	s2, err := cc.NewStream(ctx, desc, "/plugin.GRPCStdio/StreamStdio", grpc.ForceCodec(rawCodec{}))
	require.NoError(t, err)
	require.NoError(t, s2.SendMsg(new(rawMessage)))
	require.NoError(t, s2.CloseSend())
	assert.Equal(t, codes.Unimplemented, grpcstatus.Code(s2.RecvMsg(new(rawMessage))))
}

// The Shutdown call is answered before the plugin stops.
func TestH2Shutdown(t *testing.T) {
	w := &wire{s: echoServer{}, done: make(chan struct{})}
	cc := startWire(t, w)
	require.NoError(t, cc.Invoke(context.Background(), "/plugin.GRPCController/Shutdown", new(emptypb.Empty), new(emptypb.Empty)))
	<-w.done
}

func decodeStdio(t *testing.T, b []byte) (byte, []byte) {
	t.Helper()
	require.GreaterOrEqual(t, len(b), 3)
	require.Equal(t, byte(0x08), b[0])
	require.Equal(t, byte(0x12), b[2])
	n, k := binary.Uvarint(b[3:])
	require.Positive(t, k)
	require.Equal(t, int(n), len(b)-3-k)
	return b[1], b[3+k:]
}

// rawMessage is a message the test decodes by hand, with rawCodec.
type rawMessage struct{ b []byte }

type rawCodec struct{}

func (rawCodec) Name() string { return "raw" }
func (rawCodec) Marshal(v any) ([]byte, error) {
	if m, ok := v.(*rawMessage); ok {
		return m.b, nil
	}
	return nil, nil // an empty message
}
func (rawCodec) Unmarshal(data []byte, v any) error {
	v.(*rawMessage).b = append([]byte(nil), data...)
	return nil
}

// A client that breaks the protocol gets a GOAWAY naming the error, and
// the connection closes; the server stays up for the next client.
func TestH2ProtocolErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		send func(fr *http2.Framer, enc func(...hpack.HeaderField) []byte)
		code http2.ErrCode
	}{
		"frame too large": {func(fr *http2.Framer, _ func(...hpack.HeaderField) []byte) {
			_ = fr.WriteRawFrame(http2.FrameData, 0, 1, make([]byte, maxFrame+1))
		}, http2.ErrCodeFrameSize},
		"even stream": {func(fr *http2.Framer, enc func(...hpack.HeaderField) []byte) {
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 2, BlockFragment: enc(), EndHeaders: true})
		}, http2.ErrCodeProtocol},
		"data on an idle stream": {func(fr *http2.Framer, _ func(...hpack.HeaderField) []byte) {
			_ = fr.WriteData(5, false, []byte("x"))
		}, http2.ErrCodeProtocol},
		"frame inside a header block": {func(fr *http2.Framer, enc func(...hpack.HeaderField) []byte) {
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(hpack.HeaderField{Name: ":method", Value: "POST"})})
			_ = fr.WritePing(false, [8]byte{})
		}, http2.ErrCodeProtocol},
		"bad hpack": {func(fr *http2.Framer, _ func(...hpack.HeaderField) []byte) {
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EndHeaders: true})
		}, http2.ErrCodeCompression},
		"header block too large": {func(fr *http2.Framer, enc func(...hpack.HeaderField) []byte) {
			_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(hpack.HeaderField{Name: ":method", Value: "POST"})})
			for range maxHeaderBlock/maxFrame + 1 {
				_ = fr.WriteContinuation(1, false, make([]byte, maxFrame))
			}
		}, http2.ErrCodeCompression},
		"window update of 0": {func(fr *http2.Framer, _ func(...hpack.HeaderField) []byte) {
			_ = fr.WriteRawFrame(http2.FrameWindowUpdate, 0, 0, []byte{0, 0, 0, 0})
		}, http2.ErrCodeProtocol},
		"push promise": {func(fr *http2.Framer, _ func(...hpack.HeaderField) []byte) {
			_ = fr.WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, EndHeaders: true})
		}, http2.ErrCodeProtocol},
	} {
		t.Run(name, func(t *testing.T) {
			fr, closeConn := rawClient(t)
			defer closeConn()
			var hb bytes.Buffer
			enc := hpack.NewEncoder(&hb)
			tc.send(fr, func(fs ...hpack.HeaderField) []byte {
				hb.Reset()
				for _, f := range fs {
					_ = enc.WriteField(f)
				}
				return append([]byte(nil), hb.Bytes()...)
			})
			for {
				f, err := fr.ReadFrame()
				require.NoError(t, err, "no GOAWAY before the connection ended")
				if ga, ok := f.(*http2.GoAwayFrame); ok {
					assert.Equal(t, tc.code, ga.ErrCode, string(ga.DebugData()))
					_, err := fr.ReadFrame()
					// EOF, or a reset when the server closed with frames
					// of ours unread.
					assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET), "after GOAWAY: %v", err)
					return
				}
			}
		})
	}
}

// A PING is answered; a stream the client resets before its body ends is
// forgotten, and DATA that was in flight on it is ignored.
func TestH2PingAndReset(t *testing.T) {
	fr, closeConn := rawClient(t)
	defer closeConn()
	require.NoError(t, fr.WritePing(false, [8]byte{1, 2, 3}))
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range []hpack.HeaderField{{Name: ":method", Value: "POST"}, {Name: ":path", Value: "/" + ServiceName + "/Describe"}, {Name: "content-type", Value: "application/grpc"}} {
		_ = enc.WriteField(f)
	}
	require.NoError(t, fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndHeaders: true}))
	require.NoError(t, fr.WriteRSTStream(1, http2.ErrCodeCancel))
	require.NoError(t, fr.WriteData(1, true, []byte("late")))
	require.NoError(t, fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: hb.Bytes(), EndHeaders: true, EndStream: true}))
	var pinged bool
	dec := hpack.NewDecoder(4096, nil)
	for {
		f, err := fr.ReadFrame()
		require.NoError(t, err)
		switch f := f.(type) {
		case *http2.PingFrame:
			assert.True(t, f.IsAck())
			assert.Equal(t, [8]byte{1, 2, 3}, f.Data)
			pinged = true
		case *http2.RSTStreamFrame:
			t.Fatalf("stream %d reset: %v", f.StreamID, f.ErrCode)
		case *http2.GoAwayFrame:
			t.Fatalf("GOAWAY %v", f.ErrCode)
		case *http2.HeadersFrame:
			require.Equal(t, uint32(3), f.StreamID, "an answer on the reset stream")
			fields, err := dec.DecodeFull(f.HeaderBlockFragment())
			require.NoError(t, err)
			if f.StreamEnded() {
				assert.Contains(t, fields, hpack.HeaderField{Name: "grpc-status", Value: "0"})
				assert.True(t, pinged)
				return
			}
		}
	}
}

// rawClient opens a connection to a fresh server and sends the preface and
// empty settings.
func rawClient(t *testing.T) (*http2.Framer, func()) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", path)
	require.NoError(t, err)
	served := make(chan error, 1)
	w := &wire{s: echoServer{}, done: make(chan struct{})}
	go func() { served <- h2Serve(l, w.serveStream, w.answersEarly) }()
	nc, err := net.Dial("unix", path)
	require.NoError(t, err)
	_, err = io.WriteString(nc, clientPreface)
	require.NoError(t, err)
	fr := http2.NewFramer(nc, nc)
	fr.SetMaxReadFrameSize(1 << 24)
	require.NoError(t, fr.WriteSettings())
	return fr, func() {
		_ = nc.Close()
		_ = l.Close()
		<-served
	}
}

// go-plugin's client opens the broker's stream at start and never ends
// its side: the call is answered (Unimplemented) at once, without its
// body, and the stream is reset with NO_ERROR so the client stops sending.
func TestH2AnswersAStreamTheClientKeepsOpen(t *testing.T) {
	cc := startWire(t, &wire{s: echoServer{}, done: make(chan struct{})})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	desc := &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}
	s, err := cc.NewStream(ctx, desc, "/plugin.GRPCBroker/StartStream", grpc.ForceCodec(rawCodec{}))
	require.NoError(t, err)
	assert.Equal(t, codes.Unimplemented, grpcstatus.Code(s.RecvMsg(new(rawMessage))))
	// The connection still serves.
	out, err := handle(ctx, cc, abi.HookApproval, []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, "\x001:x", string(out))
}

// Once the host's stdio stream ends, the plugin's output is still read
// (and dropped), so its writes never block on a full pipe; a new stdio
// stream then takes over.
func TestH2StdioKeepsDrainingAfterTheStream(t *testing.T) {
	cc, ow, ew := startWireWithStdio(t)

	open := func(ctx context.Context) grpc.ClientStream {
		s, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/plugin.GRPCStdio/StreamStdio", grpc.ForceCodec(rawCodec{}))
		require.NoError(t, err)
		require.NoError(t, s.SendMsg(new(rawMessage)))
		require.NoError(t, s.CloseSend())
		_, err = s.Header() // the stream is attached before it answers
		require.NoError(t, err)
		return s
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := open(ctx)
	_, err := ow.Write([]byte("hello"))
	require.NoError(t, err)
	m := new(rawMessage)
	require.NoError(t, s.RecvMsg(m))
	_, data := decodeStdio(t, m.b)
	assert.Equal(t, "hello", string(data))
	cancel() // the host's stdio stream ends

	// 1 MiB, sixteen times the pipe's buffer: it returns only if read.
	wrote := make(chan error, 1)
	go func() {
		_, err := ow.Write(bytes.Repeat([]byte("x"), 1<<20))
		wrote <- err
	}()
	select {
	case err := <-wrote:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("the plugin's write blocks: nobody reads its stdout any more")
	}

	// A new stream gets what is written once it is open (and maybe the
	// end of what was written before).
	s2 := open(context.Background())
	_, err = ew.Write([]byte("again"))
	require.NoError(t, err)
	for {
		require.NoError(t, s2.RecvMsg(m))
		if channel, data := decodeStdio(t, m.b); channel == 2 {
			assert.Equal(t, "again", string(data))
			return
		}
	}
}

// A client that stops reading while a handler writes, then breaks the
// protocol, still gets its connection closed: the GOAWAY's write, and the
// handler's, end at their deadline.
func TestH2ClosesAConnectionThatStopsReading(t *testing.T) {
	srv, cl := net.Pipe()
	closed := make(chan struct{})
	started := make(chan struct{})
	c := newH2Conn(&closeSignal{Conn: srv, ch: closed}, func(st *h2Stream, _ *h2Request) {
		close(started)
		_ = st.respond(make([]byte, 60000), trailers(codeOK, ""))
	})
	served := make(chan struct{})
	go func() { c.serve(); close(served) }()
	defer func() { _ = cl.Close(); <-served }()

	_, err := cl.Write([]byte(clientPreface))
	require.NoError(t, err)
	fr := http2.NewFramer(cl, cl)
	for range 2 { // our SETTINGS and WINDOW_UPDATE
		_, err := fr.ReadFrame()
		require.NoError(t, err)
	}
	require.NoError(t, fr.WriteSettings())
	_, err = fr.ReadFrame() // SETTINGS ACK
	require.NoError(t, err)
	var hb bytes.Buffer
	_ = hpack.NewEncoder(&hb).WriteField(hpack.HeaderField{Name: ":method", Value: "POST"})
	require.NoError(t, fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndHeaders: true, EndStream: true}))
	<-started // from now on the client reads nothing
	require.NoError(t, fr.WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, EndHeaders: true}))
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("a connection error, and the connection is never closed")
	}
}

// closeSignal closes ch when the connection is closed.
type closeSignal struct {
	net.Conn
	ch chan struct{}
}

func (c *closeSignal) Close() error {
	select {
	case <-c.ch:
	default:
		close(c.ch)
	}
	return c.Conn.Close()
}
