package pluginwire

// A minimal HTTP/2 server (RFC 9113), enough for a gRPC client: the host's
// go-plugin client, which is grpc-go. It replaces net/http, which would
// link ~60 packages into every plugin (among them x/text, through idna).
// Header blocks are HPACK-coded by golang.org/x/net/http2/hpack; the
// framing, flow control and stream states are here.
//
// What it does not do, because a gRPC client does not need it: server
// push (disabled by the client's settings anyway), priorities (ignored, as
// RFC 9113 allows), and request trailers (a gRPC client sends none; a
// header block on an open stream ends its request).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/net/http2/hpack"
)

// Frame types.
const (
	frameData         = 0x0
	frameHeaders      = 0x1
	framePriority     = 0x2
	frameRSTStream    = 0x3
	frameSettings     = 0x4
	framePushPromise  = 0x5
	framePing         = 0x6
	frameGoAway       = 0x7
	frameWindowUpdate = 0x8
	frameContinuation = 0x9
)

// Frame flags.
const (
	flagEndStream  = 0x1
	flagAck        = 0x1
	flagEndHeaders = 0x4
	flagPadded     = 0x8
	flagPriority   = 0x20
)

// Settings.
const (
	settingHeaderTableSize      = 0x1
	settingMaxConcurrentStreams = 0x3
	settingInitialWindowSize    = 0x4
	settingMaxFrameSize         = 0x5
	settingMaxHeaderListSize    = 0x6
)

// An h2Code is an HTTP/2 error code.
type h2Code uint32

const (
	codeNoError      h2Code = 0x0
	codeProtocol     h2Code = 0x1
	codeInternalErr  h2Code = 0x2
	codeFlowControl  h2Code = 0x3
	codeStreamClosed h2Code = 0x5
	codeFrameSize    h2Code = 0x6
	codeRefused      h2Code = 0x7
	codeCompression  h2Code = 0x9
)

const (
	clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	// maxFrame is the largest frame payload we accept: the protocol's
	// default, which we never raise.
	maxFrame = 16384
	// defaultWindow is every flow-control window's size before SETTINGS
	// and WINDOW_UPDATE change it.
	defaultWindow = 65535
	// streamWindow and connWindow are the receive windows we grant.
	streamWindow = 1 << 20
	connWindow   = 4 << 20
	// maxHeaderBlock bounds one request's header block, and
	// maxStreams the streams open at once.
	maxHeaderBlock = 64 << 10
	maxStreams     = 1000
	// prefaceTimeout bounds the wait for a new connection's preface.
	prefaceTimeout = 10 * time.Second
	maxWindow      = 1<<31 - 1
)

// A connError ends the connection with a GOAWAY carrying its code.
type connError struct {
	code h2Code
	msg  string
}

func (e *connError) Error() string { return fmt.Sprintf("http2: %s (code %d)", e.msg, e.code) }

func protocolError(format string, args ...any) error {
	return &connError{codeProtocol, fmt.Sprintf(format, args...)}
}

// errStreamGone is returned by a write on a stream the client reset, or on
// a closed connection.
var errStreamGone = errors.New("http2: stream closed")

// An h2Request is one request: its header fields of interest and body.
type h2Request struct {
	method, path, contentType, timeout string
	body                               []byte
	tooLarge                           bool // the body was over maxRequestBytes+5 and was discarded
}

// h2Serve serves the connections of l until Accept fails. handle is called
// on its own goroutine for each request once its body is complete, or, if
// early is not nil and says so, as soon as its headers have arrived (a
// request answered without its body, such as a call of an unknown method,
// whose client may never end its side); such a handler must not read the
// body. It answers through the stream and returns when done.
func h2Serve(l net.Listener, handle func(*h2Stream, *h2Request), early func(*h2Request) bool) error {
	for {
		nc, err := l.Accept()
		if err != nil {
			return err
		}
		c := newH2Conn(nc, handle)
		c.early = early
		go c.serve()
	}
}

// h2Conn is one connection. The read loop (serve) owns the reading side
// and hpack decoder; writes go through wmu; streams and send windows are
// guarded by mu.
type h2Conn struct {
	nc     net.Conn
	br     *bufio.Reader
	handle func(*h2Stream, *h2Request)
	early  func(*h2Request) bool
	dec    *hpack.Decoder

	wmu  sync.Mutex // guards bw, enc and hbuf: one frame sequence at a time
	bw   *bufio.Writer
	enc  *hpack.Encoder
	hbuf bytes.Buffer

	mu            sync.Mutex
	cond          *sync.Cond // signalled when a send window grows or a stream or the connection closes
	streams       map[uint32]*h2Stream
	sendWindow    int64 // the connection's send window
	initialWindow int64 // the client's SETTINGS_INITIAL_WINDOW_SIZE
	peerMaxFrame  int   // the client's SETTINGS_MAX_FRAME_SIZE
	closed        bool

	handlers sync.WaitGroup // one per running handle call

	// Owned by the read loop.
	lastStream uint32
	recvWindow int64 // what the client may still send on the connection
	recvUnack  int64 // received and not yet returned with WINDOW_UPDATE
}

func newH2Conn(nc net.Conn, handle func(*h2Stream, *h2Request)) *h2Conn {
	c := &h2Conn{
		nc:            nc,
		br:            bufio.NewReaderSize(nc, 32<<10),
		bw:            bufio.NewWriterSize(nc, 32<<10),
		handle:        handle,
		streams:       make(map[uint32]*h2Stream),
		sendWindow:    defaultWindow,
		initialWindow: defaultWindow,
		peerMaxFrame:  maxFrame,
		recvWindow:    connWindow,
	}
	c.cond = sync.NewCond(&c.mu)
	c.dec = hpack.NewDecoder(4096, nil)
	c.dec.SetMaxStringLength(maxHeaderBlock)
	c.enc = hpack.NewEncoder(&c.hbuf)
	return c
}

// An h2Stream is one request's stream.
type h2Stream struct {
	c      *h2Conn
	id     uint32
	ctx    context.Context
	cancel context.CancelFunc

	// Owned by the read loop.
	req        h2Request
	recvWindow int64
	recvUnack  int64
	recvDone   bool
	dispatched bool // the handler has been started

	// Guarded by c.mu.
	sendWindow int64
	gone       bool // reset by the client, or the connection closed
	remoteDone bool // the client has ended its side (recvDone, for the handler's goroutine)

	// Owned by the handler.
	headersSent bool
	ended       bool
}

// serve reads frames until the connection fails or ends, then closes it
// and waits for its handlers.
func (c *h2Conn) serve() {
	err := c.readLoop()
	var ce *connError
	if errors.As(err, &ce) {
		// A handler may hold wmu in a write the client does not read:
		// the deadline ends that write, and bounds ours.
		_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		c.wmu.Lock()
		var p [8]byte
		binary.BigEndian.PutUint32(p[:4], c.lastStream)
		binary.BigEndian.PutUint32(p[4:], uint32(ce.code))
		_ = c.writeFrame(frameGoAway, 0, 0, p[:], []byte(ce.msg))
		_ = c.bw.Flush()
		c.wmu.Unlock()
	}
	c.mu.Lock()
	c.closed = true
	for _, st := range c.streams {
		st.gone = true
		st.cancel()
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	_ = c.nc.Close()
	c.handlers.Wait()
}

func (c *h2Conn) readLoop() error {
	_ = c.nc.SetReadDeadline(time.Now().Add(prefaceTimeout))
	var preface [len(clientPreface)]byte
	if _, err := io.ReadFull(c.br, preface[:]); err != nil {
		return err
	}
	if string(preface[:]) != clientPreface {
		return protocolError("not an HTTP/2 client preface")
	}
	_ = c.nc.SetReadDeadline(time.Time{})

	// Our settings, and the connection window beyond the default.
	var s []byte
	for _, kv := range [][2]uint32{
		{settingMaxConcurrentStreams, maxStreams},
		{settingInitialWindowSize, streamWindow},
		{settingMaxHeaderListSize, maxHeaderBlock},
	} {
		s = binary.BigEndian.AppendUint16(s, uint16(kv[0]))
		s = binary.BigEndian.AppendUint32(s, kv[1])
	}
	c.wmu.Lock()
	err := c.writeFrame(frameSettings, 0, 0, s)
	if err == nil {
		err = c.writeWindowUpdate(0, connWindow-defaultWindow)
	}
	if err == nil {
		err = c.bw.Flush()
	}
	c.wmu.Unlock()
	if err != nil {
		return err
	}

	buf := make([]byte, maxFrame)
	var block []byte       // a header block being assembled
	var blockStream uint32 // its stream; 0 when none
	var blockEnd bool      // its HEADERS frame had END_STREAM
	for {
		var h [9]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return err
		}
		n := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
		typ, flags := h[3], h[4]
		id := binary.BigEndian.Uint32(h[5:]) & (1<<31 - 1)
		if n > maxFrame {
			return &connError{codeFrameSize, fmt.Sprintf("frame of %d bytes", n)}
		}
		p := buf[:n]
		if _, err := io.ReadFull(c.br, p); err != nil {
			return err
		}
		if blockStream != 0 && (typ != frameContinuation || id != blockStream) {
			return protocolError("frame type %d inside a header block", typ)
		}
		switch typ {
		case frameData:
			if err := c.onData(id, flags, p); err != nil {
				return err
			}
		case frameHeaders:
			if id == 0 || id%2 == 0 {
				return protocolError("HEADERS on stream %d", id)
			}
			frag, err := unpad(flags, p)
			if err != nil {
				return err
			}
			if flags&flagPriority != 0 {
				if len(frag) < 5 {
					return &connError{codeFrameSize, "short HEADERS priority"}
				}
				frag = frag[5:]
			}
			block = append(block[:0], frag...)
			blockEnd = flags&flagEndStream != 0
			if flags&flagEndHeaders == 0 {
				blockStream = id
				continue
			}
			if err := c.onHeaders(id, block, blockEnd); err != nil {
				return err
			}
		case frameContinuation:
			if blockStream == 0 || id != blockStream {
				return protocolError("CONTINUATION outside a header block")
			}
			if len(block)+len(p) > maxHeaderBlock {
				return &connError{codeCompression, "header block too large"}
			}
			block = append(block, p...)
			if flags&flagEndHeaders != 0 {
				blockStream = 0
				if err := c.onHeaders(id, block, blockEnd); err != nil {
					return err
				}
			}
		case framePriority:
			if id == 0 {
				return protocolError("PRIORITY on stream 0")
			}
			if n != 5 {
				return &connError{codeFrameSize, "PRIORITY frame not 5 bytes"}
			}
		case frameRSTStream:
			if id == 0 || n != 4 {
				return protocolError("bad RST_STREAM frame")
			}
			c.forget(id)
		case frameSettings:
			if err := c.onSettings(id, flags, p); err != nil {
				return err
			}
		case framePushPromise:
			return protocolError("PUSH_PROMISE from a client")
		case framePing:
			if id != 0 {
				return protocolError("PING on stream %d", id)
			}
			if n != 8 {
				return &connError{codeFrameSize, "PING frame not 8 bytes"}
			}
			if flags&flagAck == 0 {
				c.wmu.Lock()
				err := c.writeFrame(framePing, flagAck, 0, p)
				if err == nil {
					err = c.bw.Flush()
				}
				c.wmu.Unlock()
				if err != nil {
					return err
				}
			}
		case frameGoAway:
			// The client opens no more streams; those open finish.
		case frameWindowUpdate:
			if err := c.onWindowUpdate(id, p); err != nil {
				return err
			}
		default:
			// Unknown frame types are ignored (RFC 9113, 4.1).
		}
	}
}

// unpad strips a padded frame's padding.
func unpad(flags byte, p []byte) ([]byte, error) {
	if flags&flagPadded == 0 {
		return p, nil
	}
	if len(p) < 1 || int(p[0]) > len(p)-1 {
		return nil, protocolError("padding longer than its frame")
	}
	return p[1 : len(p)-int(p[0])], nil
}

func (c *h2Conn) onHeaders(id uint32, block []byte, endStream bool) error {
	// Every block is decoded, whatever becomes of its stream: the
	// decoder's table must follow the client's encoder.
	fields, err := c.dec.DecodeFull(block)
	if err != nil {
		return &connError{codeCompression, err.Error()}
	}
	c.mu.Lock()
	st := c.streams[id]
	c.mu.Unlock()
	if st != nil {
		// A header block on an open stream: trailers, which end the
		// request.
		if st.recvDone {
			return protocolError("HEADERS on half-closed stream %d", id)
		}
		if !endStream {
			return protocolError("trailers without END_STREAM on stream %d", id)
		}
		c.endRequest(st)
		return nil
	}
	if id <= c.lastStream {
		return protocolError("HEADERS opening stream %d after stream %d", id, c.lastStream)
	}
	c.lastStream = id
	var req h2Request
	size := 0
	for _, f := range fields {
		size += len(f.Name) + len(f.Value) + 32
		switch f.Name {
		case ":method":
			req.method = f.Value
		case ":path":
			req.path = f.Value
		case "content-type":
			req.contentType = f.Value
		case "grpc-timeout":
			req.timeout = f.Value
		}
	}
	if size > maxHeaderBlock {
		return c.resetStream(id, codeRefused)
	}
	c.mu.Lock()
	full := len(c.streams) >= maxStreams
	c.mu.Unlock()
	if full {
		return c.resetStream(id, codeRefused)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st = &h2Stream{c: c, id: id, ctx: ctx, cancel: cancel, req: req, recvWindow: streamWindow}
	c.mu.Lock()
	st.sendWindow = c.initialWindow
	c.streams[id] = st
	c.mu.Unlock()
	switch {
	case endStream:
		c.endRequest(st)
	case c.early != nil && c.early(&st.req):
		c.dispatch(st)
	}
	return nil
}

func (c *h2Conn) onData(id uint32, flags byte, p []byte) error {
	if id == 0 {
		return protocolError("DATA on stream 0")
	}
	n := int64(len(p))
	c.recvWindow -= n
	if c.recvWindow < 0 {
		return &connError{codeFlowControl, "DATA beyond the connection window"}
	}
	c.recvUnack += n
	if c.recvUnack >= connWindow/2 {
		if err := c.windowUpdate(0, c.recvUnack); err != nil {
			return err
		}
		c.recvWindow += c.recvUnack
		c.recvUnack = 0
	}
	c.mu.Lock()
	st := c.streams[id]
	c.mu.Unlock()
	switch {
	case st == nil && id > c.lastStream:
		return protocolError("DATA on idle stream %d", id)
	case st == nil:
		return nil // a stream we reset or ended: ignored (RFC 9113, 5.4.2)
	case st.recvDone:
		return c.resetStream(id, codeStreamClosed)
	}
	st.recvWindow -= n
	if st.recvWindow < 0 {
		return c.resetStream(id, codeFlowControl)
	}
	data, err := unpad(flags, p)
	if err != nil {
		return err
	}
	if !st.req.tooLarge {
		if len(st.req.body)+len(data) > maxRequestBytes+5 {
			st.req.tooLarge, st.req.body = true, nil
		} else {
			st.req.body = append(st.req.body, data...)
		}
	}
	if flags&flagEndStream != 0 {
		c.endRequest(st)
		return nil
	}
	st.recvUnack += n
	if st.recvUnack >= streamWindow/2 {
		if err := c.windowUpdate(id, st.recvUnack); err != nil {
			return err
		}
		st.recvWindow += st.recvUnack
		st.recvUnack = 0
	}
	return nil
}

// endRequest ends the client's side of a stream, and hands the request
// to its handler if it does not have it yet.
func (c *h2Conn) endRequest(st *h2Stream) {
	st.recvDone = true
	c.mu.Lock()
	st.remoteDone = true
	c.mu.Unlock()
	c.dispatch(st)
}

// dispatch starts a stream's handler, once.
func (c *h2Conn) dispatch(st *h2Stream) {
	if st.dispatched {
		return
	}
	st.dispatched = true
	c.handlers.Add(1)
	go func() {
		defer c.handlers.Done()
		defer st.cancel()
		c.handle(st, &st.req)
		st.end()
	}()
}

func (c *h2Conn) onSettings(id uint32, flags byte, p []byte) error {
	if id != 0 {
		return protocolError("SETTINGS on stream %d", id)
	}
	if flags&flagAck != 0 {
		if len(p) != 0 {
			return &connError{codeFrameSize, "SETTINGS ACK with a payload"}
		}
		return nil
	}
	if len(p)%6 != 0 {
		return &connError{codeFrameSize, "SETTINGS of a partial setting"}
	}
	for ; len(p) > 0; p = p[6:] {
		k, v := binary.BigEndian.Uint16(p), binary.BigEndian.Uint32(p[2:])
		switch k {
		case settingInitialWindowSize:
			if v > maxWindow {
				return &connError{codeFlowControl, "SETTINGS_INITIAL_WINDOW_SIZE over 2^31-1"}
			}
			c.mu.Lock()
			delta := int64(v) - c.initialWindow
			c.initialWindow = int64(v)
			over := false
			for _, st := range c.streams {
				st.sendWindow += delta
				over = over || st.sendWindow > maxWindow
			}
			c.cond.Broadcast()
			c.mu.Unlock()
			if over {
				return &connError{codeFlowControl, "SETTINGS_INITIAL_WINDOW_SIZE takes a stream window over 2^31-1"}
			}
		case settingMaxFrameSize:
			if v < maxFrame || v > 1<<24-1 {
				return protocolError("SETTINGS_MAX_FRAME_SIZE %d", v)
			}
			c.mu.Lock()
			c.peerMaxFrame = int(v)
			c.mu.Unlock()
		case settingHeaderTableSize:
			c.wmu.Lock()
			c.enc.SetMaxDynamicTableSizeLimit(v)
			c.wmu.Unlock()
		}
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writeFrame(frameSettings, flagAck, 0, nil); err != nil {
		return err
	}
	return c.bw.Flush()
}

func (c *h2Conn) onWindowUpdate(id uint32, p []byte) error {
	if len(p) != 4 {
		return &connError{codeFrameSize, "bad WINDOW_UPDATE frame"}
	}
	inc := int64(binary.BigEndian.Uint32(p) & (1<<31 - 1))
	c.mu.Lock()
	if id == 0 {
		c.sendWindow += inc
		over := c.sendWindow > maxWindow
		c.cond.Broadcast()
		c.mu.Unlock()
		switch {
		case inc == 0:
			return protocolError("WINDOW_UPDATE of 0")
		case over:
			return &connError{codeFlowControl, "connection window over 2^31-1"}
		}
		return nil
	}
	st := c.streams[id]
	zero := st != nil && inc == 0
	over := st != nil && st.sendWindow+inc > maxWindow
	if st != nil && !zero && !over {
		st.sendWindow += inc
		c.cond.Broadcast()
	}
	c.mu.Unlock()
	switch {
	case zero:
		return c.resetStream(id, codeProtocol)
	case over:
		return c.resetStream(id, codeFlowControl)
	}
	return nil // st == nil: a stream that has ended
}

// forget ends a stream the client reset, or we do: its handler's context
// is cancelled and its writes fail.
func (c *h2Conn) forget(id uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.streams[id]; st != nil {
		st.gone = true
		st.cancel()
		delete(c.streams, id)
		c.cond.Broadcast()
	}
}

// resetStream sends RST_STREAM and forgets the stream.
func (c *h2Conn) resetStream(id uint32, code h2Code) error {
	c.forget(id)
	var p [4]byte
	binary.BigEndian.PutUint32(p[:], uint32(code))
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writeFrame(frameRSTStream, 0, id, p[:]); err != nil {
		return err
	}
	return c.bw.Flush()
}

// windowUpdate returns n bytes of receive window on stream id (0: the
// connection).
func (c *h2Conn) windowUpdate(id uint32, n int64) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writeWindowUpdate(id, n); err != nil {
		return err
	}
	return c.bw.Flush()
}

// writeWindowUpdate writes a WINDOW_UPDATE frame; the caller holds wmu.
func (c *h2Conn) writeWindowUpdate(id uint32, n int64) error {
	var p [4]byte
	binary.BigEndian.PutUint32(p[:], uint32(n))
	return c.writeFrame(frameWindowUpdate, 0, id, p[:])
}

// writeFrame writes one frame to the buffer; the caller holds wmu and
// flushes.
func (c *h2Conn) writeFrame(typ, flags byte, id uint32, payload ...[]byte) error {
	n := 0
	for _, p := range payload {
		n += len(p)
	}
	h := [9]byte{byte(n >> 16), byte(n >> 8), byte(n), typ, flags}
	binary.BigEndian.PutUint32(h[5:], id)
	if _, err := c.bw.Write(h[:]); err != nil {
		return err
	}
	for _, p := range payload {
		if _, err := c.bw.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// writeHeaders encodes fields and writes them as one HEADERS frame; the
// caller holds wmu. Our header blocks are far below the smallest frame
// size a client may set.
func (c *h2Conn) writeHeaders(id uint32, endStream bool, fields ...hpack.HeaderField) error {
	c.hbuf.Reset()
	for _, f := range fields {
		if err := c.enc.WriteField(f); err != nil {
			return err
		}
	}
	flags := byte(flagEndHeaders)
	if endStream {
		flags |= flagEndStream
	}
	return c.writeFrame(frameHeaders, flags, id, c.hbuf.Bytes())
}

// take waits for send window on the stream and the connection, and takes
// up to n bytes of it, at most one frame's worth.
func (st *h2Stream) take(n int) (int, error) {
	c := st.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if st.gone || c.closed {
			return 0, errStreamGone
		}
		k := min(int64(n), st.sendWindow, c.sendWindow, int64(c.peerMaxFrame))
		if k > 0 {
			st.sendWindow -= k
			c.sendWindow -= k
			return int(k), nil
		}
		c.cond.Wait()
	}
}

var (
	fieldStatus200 = hpack.HeaderField{Name: ":status", Value: "200"}
	fieldGRPC      = hpack.HeaderField{Name: "content-type", Value: "application/grpc"}
)

// respond writes the response headers if not yet written, then data (as
// the window allows), and, if trailers is non-nil, the trailers that end
// the stream. A response with no data and trailers is written as one
// header block (gRPC's trailers-only response).
func (st *h2Stream) respond(data []byte, trailers []hpack.HeaderField) error {
	if st.ended {
		return errStreamGone
	}
	c := st.c
	if !st.headersSent && len(data) == 0 && trailers != nil {
		st.headersSent, st.ended = true, true
		c.wmu.Lock()
		defer c.wmu.Unlock()
		if err := c.writeHeaders(st.id, true, append([]hpack.HeaderField{fieldStatus200, fieldGRPC}, trailers...)...); err != nil {
			return err
		}
		return c.bw.Flush()
	}
	for first := true; first || len(data) > 0; first = false {
		k := 0
		if len(data) > 0 {
			var err error
			if k, err = st.take(len(data)); err != nil {
				return err
			}
		}
		last := len(data) == k
		if err := st.write(data[:k], last, trailers); err != nil {
			return err
		}
		data = data[k:]
	}
	return nil
}

// write writes headers if not yet written, one DATA frame of p (if any),
// and, when last and trailers are non-nil, the trailers; then flushes. On a
// stream that has been reset it writes nothing, and gives the connection
// back the window p took.
func (st *h2Stream) write(p []byte, last bool, trailers []hpack.HeaderField) error {
	c := st.c
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	gone := st.gone || c.closed
	if gone && len(p) > 0 {
		c.sendWindow += int64(len(p))
		c.cond.Broadcast()
	}
	c.mu.Unlock()
	if gone {
		return errStreamGone
	}
	if !st.headersSent {
		st.headersSent = true
		if err := c.writeHeaders(st.id, false, fieldStatus200, fieldGRPC); err != nil {
			return err
		}
	}
	if len(p) > 0 {
		if err := c.writeFrame(frameData, 0, st.id, p); err != nil {
			return err
		}
	}
	if last && trailers != nil {
		st.ended = true
		if err := c.writeHeaders(st.id, true, trailers...); err != nil {
			return err
		}
	}
	return c.bw.Flush()
}

// refuse answers a request that is not gRPC with an HTTP status and no
// body.
func (st *h2Stream) refuse(status string) error {
	st.ended = true
	c := st.c
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writeHeaders(st.id, true, hpack.HeaderField{Name: ":status", Value: status}); err != nil {
		return err
	}
	return c.bw.Flush()
}

// end forgets a stream whose handler has returned. A stream the handler
// did not end is reset, so the client is not left waiting; one whose
// client has not ended its side (an early answer) is reset with NO_ERROR,
// which tells the client to stop sending (RFC 9113, 8.1).
func (st *h2Stream) end() {
	c := st.c
	c.mu.Lock()
	_, open := c.streams[st.id]
	delete(c.streams, st.id)
	closed := c.closed
	remoteOpen := !st.remoteDone
	c.mu.Unlock()
	switch {
	case !open || closed:
	case !st.ended:
		_ = c.resetStream(st.id, codeInternalErr)
	case remoteOpen:
		_ = c.resetStream(st.id, codeNoError)
	}
}
