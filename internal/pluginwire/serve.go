package pluginwire

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2/hpack"

	"github.com/codexhost/codexhost/abi"
)

// maxRequestBytes bounds a request message from the host.
const maxRequestBytes = 64 << 20

// gRPC status codes used here.
const (
	codeOK            = 0
	codeInvalidArg    = 3
	codeResourceLimit = 8
	codeUnimplemented = 12
	codeInternal      = 13
)

// Serve serves s as a codexhost process plugin and does not return: it
// prints go-plugin's handshake line on stdout and answers the host on a
// Unix socket (TCP on loopback on Windows) with mutual TLS when the host
// asks for it. Afterwards the plugin's stdout and stderr go to the host
// through go-plugin's stdio stream. It exits 0 when the host asks it to
// shut down, 1 if it cannot serve.
func Serve(s Server) {
	if err := serve(s); err != nil {
		fmt.Fprintln(os.Stderr, "codexhost plugin:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func serve(s Server) error {
	tlsCfg, err := ServerTLS()
	if err != nil {
		return fmt.Errorf("mutual TLS: %w", err)
	}
	serverCert := ""
	if tlsCfg == nil && os.Getenv(EnvClientCert) != "" {
		// A host with go-plugin's AutoMTLS: answer with a certificate of
		// our own, announced in the handshake.
		if tlsCfg, serverCert, err = autoTLS(); err != nil {
			return fmt.Errorf("mutual TLS: %w", err)
		}
	}
	l, err := listen()
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer l.Close()

	w := &wire{s: s, done: make(chan struct{})}
	if tlsCfg != nil {
		tlsCfg.NextProtos = []string{"h2"}
		l = tls.NewListener(l, tlsCfg)
	}

	// The plugin's stdout and stderr go to the host on the stdio stream
	// from now on; the handshake line is the last thing on the real
	// stdout.
	if err := w.redirectStdio(); err != nil {
		return err
	}
	fmt.Fprintf(w.stdout, "%d|%d|%s|%s|grpc|%s\n", coreProtocolVersion, protocolVersion(),
		l.Addr().Network(), l.Addr().String(), serverCert)

	errc := make(chan error, 1)
	go func() { errc <- h2Serve(l, w.serveStream, w.answersEarly) }()
	select {
	case err := <-errc:
		return err
	case <-w.done:
		// Shutdown: its answer has been written; exit.
		return nil
	}
}

// protocolVersion is the ABI version, the handshake's app protocol
// version; a host that speaks another refuses the plugin with a message
// naming both.
func protocolVersion() int {
	_ = os.Getenv(envProtocolVersions) // the host checks; we speak one version
	return int(abi.Version)
}

// listen listens where go-plugin's client expects a plugin to.
func listen() (net.Listener, error) {
	if runtime.GOOS == "windows" {
		return net.Listen("tcp", "127.0.0.1:0")
	}
	f, err := os.CreateTemp(os.Getenv(envUnixSocketDir), "plugin")
	if err != nil {
		return nil, err
	}
	path := f.Name()
	_ = f.Close()
	if err := os.Remove(path); err != nil {
		return nil, err
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	return l, nil // a UnixListener removes its file on Close
}

// wire is the HTTP/2 handler of the plugin's gRPC services.
type wire struct {
	s Server

	stdout                 *os.File // the real stdout, for the handshake
	stdoutPipe, stderrPipe *os.File // read ends of the redirected stdio
	pumpOnce               sync.Once
	stdioMu                sync.Mutex
	stdio                  *stdioSink // the stdio stream's, while one is open
	done                   chan struct{}
	shutdown               sync.Once
}

// redirectStdio replaces os.Stdout and os.Stderr with pipes that the stdio
// stream forwards to the host, as go-plugin does.
func (w *wire) redirectStdio() error {
	w.stdout = os.Stdout
	or, ow, err := os.Pipe()
	if err != nil {
		return err
	}
	er, ew, err := os.Pipe()
	if err != nil {
		return err
	}
	w.stdoutPipe, w.stderrPipe = or, er
	os.Stdout, os.Stderr = ow, ew
	return nil
}

// isGRPC says whether a request is a gRPC call.
func isGRPC(r *h2Request) bool {
	return r.method == "POST" && strings.HasPrefix(r.contentType, "application/grpc")
}

// methods are the calls a plugin serves, by path; every other call is
// answered Unimplemented (go-plugin's broker among them).
var methods = map[string]func(w *wire, ctx context.Context, st *h2Stream, r *h2Request){
	"/" + ServiceName + "/Describe": func(w *wire, _ context.Context, st *h2Stream, r *h2Request) {
		w.unary(st, r, func([]byte) []byte { return encodeBytes(w.s.Describe()) })
	},
	"/" + ServiceName + "/Configure": func(w *wire, _ context.Context, st *h2Stream, r *h2Request) {
		w.unary(st, r, func(in []byte) []byte { return encodeBytes(result(w.s.Configure(decodeBytes(in)))) })
	},
	"/" + ServiceName + "/Handle": func(w *wire, ctx context.Context, st *h2Stream, r *h2Request) {
		w.unary(st, r, func(in []byte) []byte {
			req := decodeBytes(in)
			if len(req) < 4 {
				return encodeBytes(result(abi.StatusError, []byte(`{"code":3,"message":"request shorter than its hook number"}`)))
			}
			return encodeBytes(result(w.s.Handle(ctx, abi.Hook(binary.BigEndian.Uint32(req)), req[4:])))
		})
	},
	"/plugin.GRPCController/Shutdown": func(w *wire, _ context.Context, st *h2Stream, r *h2Request) {
		w.unary(st, r, func([]byte) []byte { return nil })
		w.shutdown.Do(func() { close(w.done) })
	},
	"/plugin.GRPCStdio/StreamStdio": func(w *wire, _ context.Context, st *h2Stream, r *h2Request) {
		w.streamStdio(st, r)
	},
}

// answersEarly says whether a request is answered without its body: all
// but the calls of methods, which read one.
func (w *wire) answersEarly(r *h2Request) bool {
	_, ok := methods[r.path]
	return !ok || !isGRPC(r)
}

// serveStream answers one gRPC call.
func (w *wire) serveStream(st *h2Stream, r *h2Request) {
	if !isGRPC(r) {
		_ = st.refuse("415")
		return
	}
	m, ok := methods[r.path]
	if !ok {
		_ = status(st, codeUnimplemented, "unknown method "+r.path)
		return
	}
	ctx := st.ctx
	if d, ok := grpcTimeout(r.timeout); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	m(w, ctx, st, r)
}

// unary reads the request message, and writes f's answer (a message).
func (w *wire) unary(st *h2Stream, r *h2Request, f func(in []byte) []byte) {
	in, err := readMessage(r)
	if err != nil {
		code := codeInvalidArg
		if errors.Is(err, errTooLarge) {
			code = codeResourceLimit
		}
		_ = status(st, code, err.Error())
		return
	}
	out := f(in)
	msg := make([]byte, 5+len(out))
	binary.BigEndian.PutUint32(msg[1:], uint32(len(out)))
	copy(msg[5:], out)
	_ = st.respond(msg, trailers(codeOK, ""))
}

// A stdioSink is an open stdio stream: the pumps send it the plugin's
// output until done is closed.
type stdioSink struct {
	chunks chan stdioChunk
	done   chan struct{}
}

type stdioChunk struct {
	channel byte
	data    []byte
}

// pump reads one of the plugin's redirected outputs for the life of the
// process: to the stdio stream while one is open, and into the void when
// none is, so that the plugin's writes never block on a full pipe.
func (w *wire) pump(f *os.File, channel byte) {
	for {
		buf := make([]byte, 4096)
		n, err := f.Read(buf)
		if n > 0 {
			w.stdioMu.Lock()
			sink := w.stdio
			w.stdioMu.Unlock()
			if sink != nil {
				select {
				case sink.chunks <- stdioChunk{channel, buf[:n]}:
				case <-sink.done:
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// streamStdio forwards the plugin's stdout and stderr as StdioData
// messages (channel 1 stdout, 2 stderr) until the host goes away. One
// stream at a time: another is refused while one is open. Output
// written before the first stream waits in the pipes; output written
// between streams is dropped.
func (w *wire) streamStdio(st *h2Stream, r *h2Request) {
	if _, err := readMessage(r); err != nil {
		_ = status(st, codeInvalidArg, err.Error())
		return
	}
	sink := &stdioSink{chunks: make(chan stdioChunk), done: make(chan struct{})}
	w.stdioMu.Lock()
	taken := w.stdio != nil
	if !taken {
		w.stdio = sink
	}
	w.stdioMu.Unlock()
	if taken {
		_ = status(st, codeUnimplemented, "the stdio stream is taken")
		return
	}
	defer func() {
		w.stdioMu.Lock()
		w.stdio = nil
		w.stdioMu.Unlock()
		close(sink.done)
	}()
	w.pumpOnce.Do(func() {
		go w.pump(w.stdoutPipe, 1)
		go w.pump(w.stderrPipe, 2)
	})
	if err := st.respond(nil, nil); err != nil { // the response headers
		return
	}
	for {
		select {
		case c := <-sink.chunks:
			msg := append([]byte{0x08, c.channel, 0x12}, binary.AppendUvarint(nil, uint64(len(c.data)))...)
			msg = append(msg, c.data...)
			var hdr [5]byte
			binary.BigEndian.PutUint32(hdr[1:], uint32(len(msg)))
			if err := st.respond(append(hdr[:], msg...), nil); err != nil {
				return
			}
		case <-st.ctx.Done():
			return
		}
	}
}

// trailers are a response's gRPC status.
func trailers(code int, msg string) []hpack.HeaderField {
	t := []hpack.HeaderField{{Name: "grpc-status", Value: strconv.Itoa(code)}}
	if msg != "" {
		if len(msg) > maxStatusMessage {
			msg = msg[:maxStatusMessage]
		}
		t = append(t, hpack.HeaderField{Name: "grpc-message", Value: percentEncode(msg)})
	}
	return t
}

// maxStatusMessage bounds a grpc-message before its encoding, which keeps
// the trailers within one frame.
const maxStatusMessage = 4000

// status ends a call with a gRPC status and no message.
func status(st *h2Stream, code int, msg string) error {
	return st.respond(nil, trailers(code, msg))
}

var errTooLarge = errors.New("request message too large")

// readMessage reads one length-prefixed gRPC message from a request's
// body; an empty body is an empty message.
func readMessage(r *h2Request) ([]byte, error) {
	if r.tooLarge {
		return nil, errTooLarge
	}
	b := r.body
	if len(b) == 0 {
		return nil, nil
	}
	if len(b) < 5 {
		return nil, errors.New("read request: a message header cut short")
	}
	if b[0] != 0 {
		return nil, errors.New("compressed requests are not supported")
	}
	n := binary.BigEndian.Uint32(b[1:])
	if n > maxRequestBytes {
		return nil, errTooLarge
	}
	if uint64(len(b)-5) != uint64(n) {
		return nil, fmt.Errorf("read request: a message of %d bytes in a body of %d", n, len(b)-5)
	}
	return b[5:], nil
}

// grpcTimeout parses a grpc-timeout header ("100m", "5S").
func grpcTimeout(s string) (time.Duration, bool) {
	if len(s) < 2 {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	unit := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second,
		'm': time.Millisecond, 'u': time.Microsecond, 'n': time.Nanosecond}[s[len(s)-1]]
	if unit == 0 || n > math.MaxInt64/int64(unit) {
		return 0, false // no unit, or longer than time.Duration holds: no deadline
	}
	return time.Duration(n) * unit, true
}

// percentEncode encodes a grpc-message value.
func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// result is a result message: the status byte and the payload.
func result(st abi.Status, payload []byte) []byte {
	out := make([]byte, 1+len(payload))
	out[0] = byte(st)
	copy(out[1:], payload)
	return out
}

// encodeBytes encodes a google.protobuf.BytesValue: field 1, bytes.
func encodeBytes(v []byte) []byte {
	if len(v) == 0 {
		return nil
	}
	out := append([]byte{0x0a}, binary.AppendUvarint(nil, uint64(len(v)))...)
	return append(out, v...)
}

// decodeBytes decodes a google.protobuf.BytesValue, skipping unknown
// fields; a malformed message decodes as far as it is well-formed.
func decodeBytes(b []byte) []byte {
	var v []byte
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return v
		}
		b = b[n:]
		switch key & 7 {
		case 0: // varint
			_, n := binary.Uvarint(b)
			if n <= 0 {
				return v
			}
			b = b[n:]
		case 1: // 64-bit
			if len(b) < 8 {
				return v
			}
			b = b[8:]
		case 2: // length-delimited
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return v
			}
			if key>>3 == 1 {
				v = b[n : n+int(l)]
			}
			b = b[n+int(l):]
		case 5: // 32-bit
			if len(b) < 4 {
				return v
			}
			b = b[4:]
		default:
			return v
		}
	}
	return v
}

// autoTLS is go-plugin's AutoMTLS, plugin side: a fresh certificate,
// announced base64-encoded in the handshake, and only the host's client
// certificate accepted.
func autoTLS() (*tls.Config, string, error) {
	kp, err := NewKeyPair()
	if err != nil {
		return nil, "", err
	}
	cfg, err := serverConfig(kp.CertPEM, kp.KeyPEM)
	if err != nil {
		return nil, "", err
	}
	return cfg, base64.RawStdEncoding.EncodeToString(kp.Leaf.Raw), nil
}
