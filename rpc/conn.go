package rpc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Defaults for Options.
const (
	// DefaultMaxLineBytes is the default Options.MaxLineBytes (64 MiB).
	DefaultMaxLineBytes = 64 << 20
	// DefaultMaxQueuedBytes is the default Options.MaxQueuedBytes (64 MiB).
	DefaultMaxQueuedBytes = 64 << 20
)

// Handler answers incoming calls.
type Handler interface {
	// Handle runs in its own goroutine, concurrently with other calls and
	// with notification delivery. ctx is cancelled when the connection ends.
	// The result is marshalled with encoding/json and sent as the response.
	// A returned *WireError (or an error wrapping one) is sent as is; any
	// other error is sent with code ErrInternal and the error text as
	// message. A panic is recovered and answered with ErrInternal.
	Handle(ctx context.Context, req *Request) (result any, err error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request) (any, error)

// Handle calls f(ctx, req).
func (f HandlerFunc) Handle(ctx context.Context, req *Request) (any, error) { return f(ctx, req) }

var _ Handler = HandlerFunc(nil)

// NotificationHandler receives incoming notifications.
type NotificationHandler interface {
	// HandleNotification is called from a single goroutine, once per
	// notification, in arrival order; the next notification waits until it
	// returns. Blocking here is how a consumer applies backpressure. ctx is
	// cancelled by Conn.Close (not by the peer going away: notifications
	// received before the peer closed are still delivered). A panic is
	// recovered and logged.
	//
	// It may call Conn.Call: responses are routed by the reader, not by the
	// dispatcher. But while it blocks, incoming messages queue up, and once
	// Options.MaxQueuedBytes is reached the reader stops reading, responses
	// included; a handler that then waits for a response deadlocks until
	// Close. Hand long work to another goroutine instead.
	HandleNotification(ctx context.Context, n *Request)
}

// NotificationHandlerFunc adapts a function to NotificationHandler.
type NotificationHandlerFunc func(ctx context.Context, n *Request)

// HandleNotification calls f(ctx, n).
func (f NotificationHandlerFunc) HandleNotification(ctx context.Context, n *Request) { f(ctx, n) }

var _ NotificationHandler = NotificationHandlerFunc(nil)

// Options configures a Conn. The zero value, or a nil *Options, gives the
// defaults.
type Options struct {
	// Handler answers incoming calls (requests with an id).
	// Default (nil): every call is answered with ErrMethodNotFound.
	Handler Handler
	// Notifications receives incoming notifications (requests without an
	// id). Default (nil): notifications are read and discarded.
	Notifications NotificationHandler
	// MaxLineBytes is the longest incoming line accepted, excluding the
	// newline. A longer line ends the connection with a *ProtocolError
	// wrapping ErrLineTooLong. Lines longer than 64 KiB are assembled in a
	// buffer that is kept for reuse, so a Conn holds on to as much memory as
	// its longest line so far. Default (0 or less): DefaultMaxLineBytes.
	MaxLineBytes int
	// MaxQueuedBytes bounds the raw line bytes of received requests and
	// notifications waiting for the dispatcher; a message that the Params
	// decoder decoded counts twice its line, for its decoded value (see
	// ParamsDecoder). When the bound is reached
	// the reader stops reading until the queue drains, which pushes back on
	// the peer; nothing is dropped. While the reader waits it reads no
	// responses either. A single message larger than the bound is still
	// admitted when the queue is empty.
	// Default (0 or less): DefaultMaxQueuedBytes.
	MaxQueuedBytes int
	// Arrived, if not nil, is called on the dispatcher goroutine for each
	// incoming call, before its Handler starts: after Notifications has
	// returned for every notification that arrived before the call, and
	// before it is given any that arrived after. It must not block. It is
	// where a handler takes what the notifications so far have told it
	// (the subject of an approval, say) as of the call's arrival: the
	// Handler runs on a goroutine of its own, while later notifications
	// are delivered. It may set req.Decoded. A panic is recovered and
	// logged, and the call is still answered.
	Arrived func(req *Request)
	// Abandoned, if not nil, gives the answer to a call whose Handler's
	// goroutine ended without returning or panicking (runtime.Goexit: a
	// test's t.FailNow, a helper that ends its goroutine), as Handle's
	// result and error would. Without it such a call is answered with
	// ErrInternal. Either way it is answered once.
	Abandoned func(req *Request) (result any, err error)
	// Params, if not nil, decodes the params of incoming requests and
	// notifications as their line is read (see ParamsDecoder); handlers
	// find the result in Request.Decoded. Default (nil): params stay raw.
	Params ParamsDecoder
	// Logger receives diagnostics: Warn for responses to unknown ids, Error
	// for protocol errors and handler panics, Debug for the rest.
	// Default (nil): logs are discarded.
	Logger *slog.Logger
}

// A ParamsDecoder decodes the params of incoming requests and
// notifications while the Conn scans their line, so that a line is
// scanned once: the envelope scan hands the params, where they start, to
// the decoder, which decodes them and says where they end.
//
// DecodeParams is called on the Conn's reader goroutine, once per
// incoming request or notification that has params, in arrival order and
// never concurrently; while it runs nothing else is read, responses
// included, so it must not block. It may be called more than once for a
// message whose line the Conn ends up decoding another way (the result of
// the last call counts), and for none at all if the line is invalid.
//
// A decoded message waits for the dispatcher with its decoded value, so it
// counts twice its line bytes against Options.MaxQueuedBytes: a decoder's
// value should cost no more than the line it came from.
type ParamsDecoder interface {
	// DecodeParams decodes the JSON value params starts with: the params
	// of a request or notification with method. params is
	// the Request's own copy and may run past the value, to the end of
	// the line. It returns the decoded value and the length n of the
	// value: the Request gets Params params[:n] and Decoded v, and may keep
	// sub-slices of params[:n], which nothing modifies. ok true promises
	// that params[:n] is exactly one valid JSON value. ok false, for
	// params the decoder does not take, leaves Decoded nil and the params
	// to the Conn.
	DecodeParams(method string, params []byte) (v any, n int, ok bool)
}

// Conn is one JSON-RPC connection. Create it with NewConn; all its methods
// are safe for concurrent use.
//
// A Conn ends when Close is called, when the peer closes its side (EOF),
// when a read or write fails, or when the peer sends an invalid line. Done
// is closed and Err reports why as soon as it ends; Wait additionally waits
// for the goroutines the Conn owns.
type Conn struct {
	rwc       io.ReadWriteCloser
	handler   Handler
	notes     NotificationHandler
	arrived   func(*Request)
	onGoexit  func(*Request) (any, error)
	params    ParamsDecoder
	log       *slog.Logger
	maxLine   int
	nextID    atomic.Int64
	wsem      chan struct{} // write lock that a waiting writer can give up on
	in        inbox
	wg        sync.WaitGroup
	hctx      context.Context // for handlers: cancelled when the Conn ends
	hcancel   context.CancelFunc
	nctx      context.Context // for notifications: cancelled by Close
	ncancel   context.CancelFunc
	done      chan struct{}
	err       error // why the Conn ended; written once before done is closed
	failOnce  sync.Once
	closeOnce sync.Once

	// smu guards serving: the ids of the peer's calls read and not yet
	// answered. A call whose id is among them fails the connection (see
	// handleLine).
	smu     sync.Mutex
	serving map[ID]struct{}

	pmu         sync.Mutex
	pending     map[int64]chan *Response // calls awaiting a response
	abandoned   map[int64]struct{}       // ids of cancelled calls, for quiet late responses
	abandonRing [abandonedCap]int64      // insertion order of abandoned, oldest evicted
	abandonPos  int
}

// abandonedCap bounds how many cancelled call ids are remembered.
const abandonedCap = 1024

// readBufSize is the reader's buffer; longer lines are assembled in a
// separate buffer that is reused.
const readBufSize = 64 << 10

// maxPooledBuf bounds the write buffers kept for reuse.
const maxPooledBuf = 1 << 20

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// NewConn starts a connection over rwc and returns at once; the reader and
// dispatcher goroutines run until the Conn ends. opts is copied; nil means
// defaults.
//
// # Notes
//
// rwc.Close must unblock a Read or Write in progress (net.Pipe, network
// connections and os.File pipes do), otherwise Close cannot stop the reader.
// The Conn closes rwc when it ends for any reason. Call Close, or Wait for
// the peer to close, to release the goroutines.
func NewConn(rwc io.ReadWriteCloser, opts *Options) *Conn {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	if o.MaxQueuedBytes <= 0 {
		o.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Conn{
		rwc:       rwc,
		handler:   o.Handler,
		notes:     o.Notifications,
		arrived:   o.Arrived,
		onGoexit:  o.Abandoned,
		params:    o.Params,
		log:       o.Logger,
		maxLine:   o.MaxLineBytes,
		wsem:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		pending:   make(map[int64]chan *Response),
		serving:   make(map[ID]struct{}),
		abandoned: make(map[int64]struct{}),
	}
	c.in.init(o.MaxQueuedBytes)
	c.hctx, c.hcancel = context.WithCancel(context.Background())
	c.nctx, c.ncancel = context.WithCancel(context.Background())
	c.wg.Go(c.readLoop)
	c.wg.Go(c.dispatchLoop)
	return c
}

// Call sends a request and waits for its response. params is marshalled
// with encoding/json (nil omits "params"). If result is non-nil, the
// response's result is unmarshalled into it; a null or absent result leaves
// it untouched.
//
// # Errors
//
//   - The peer answered with an error: that *WireError (compare with
//     errors.Is, which matches by code).
//   - ctx ended first: an error wrapping ctx.Err(), returned at once; a
//     response arriving later is dropped.
//   - The connection ended first: the error Err reports (ErrClosed, or one
//     wrapping ErrPeerClosed, a *ProtocolError or the I/O error).
//   - params could not be marshalled or result could not be unmarshalled.
//
// # Notes
//
// A write in progress cannot be interrupted by ctx, only by Close: Call
// returns on cancellation while waiting for the write lock or for the
// response, but not while its own request is half written.
func (c *Conn) Call(ctx context.Context, method string, params, result any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("rpc: call %q: %w", method, err)
	}
	raw, err := marshalParams(params)
	if err != nil {
		return fmt.Errorf("rpc: call %q: marshal params: %w", method, err)
	}
	id := c.nextID.Add(1)
	ch := make(chan *Response, 1)
	c.pmu.Lock()
	c.pending[id] = ch
	c.pmu.Unlock()

	if err := c.send(ctx, &Request{ID: Int64ID(id), Method: method, Params: raw}); err != nil {
		c.forget(id, false)
		if err == ctx.Err() {
			return fmt.Errorf("rpc: call %q: %w", method, err)
		}
		return err
	}

	select {
	case resp := <-ch:
		return finish(method, resp, result)
	case <-ctx.Done():
		c.forget(id, true)
		return fmt.Errorf("rpc: call %q (id %d): %w", method, id, ctx.Err())
	case <-c.done:
		select {
		case resp := <-ch: // arrived just before the end
			return finish(method, resp, result)
		default:
		}
		c.forget(id, false)
		return c.Err()
	}
}

func finish(method string, resp *Response, result any) error {
	if resp.Error != nil {
		return resp.Error
	}
	if result == nil || resp.Result == nil || isNull(resp.Result) {
		return nil
	}
	if err := json.Unmarshal(resp.Result, result); err != nil {
		return fmt.Errorf("rpc: call %q: unmarshal result: %w", method, err)
	}
	return nil
}

// forget removes a pending call. If abandoned, the call was sent and
// cancelled, and its id is remembered so that a late response is dropped
// quietly.
func (c *Conn) forget(id int64, abandoned bool) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if _, ok := c.pending[id]; !ok {
		return
	}
	delete(c.pending, id)
	if !abandoned {
		return
	}
	if old := c.abandonRing[c.abandonPos]; old != 0 {
		delete(c.abandoned, old)
	}
	c.abandonRing[c.abandonPos] = id
	c.abandonPos = (c.abandonPos + 1) % abandonedCap
	c.abandoned[id] = struct{}{}
}

// Notify sends a notification. params is marshalled with encoding/json (nil
// omits "params"). It returns once the notification is written.
//
// # Errors
//
// Notify fails if ctx ends while waiting to write (an error wrapping
// ctx.Err()), if the connection has ended (the error Err reports), or if
// params cannot be marshalled.
func (c *Conn) Notify(ctx context.Context, method string, params any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("rpc: notify %q: %w", method, err)
	}
	raw, err := marshalParams(params)
	if err != nil {
		return fmt.Errorf("rpc: notify %q: marshal params: %w", method, err)
	}
	if err := c.send(ctx, &Request{Method: method, Params: raw}); err != nil {
		if err == ctx.Err() {
			return fmt.Errorf("rpc: notify %q: %w", method, err)
		}
		return err
	}
	return nil
}

func marshalParams(params any) (json.RawMessage, error) {
	if params == nil {
		return nil, nil
	}
	return json.Marshal(params)
}

// Close ends the connection: it closes rwc, makes pending and later Calls
// return ErrClosed, cancels the contexts of handlers and of the
// notification handler, and drops notifications not yet delivered. It does
// not wait for handlers to return; use Wait for that. Close is idempotent.
//
// # Errors
//
// Close returns the error from rwc.Close, or nil if rwc was already closed
// because the connection had ended or Close was called before.
func (c *Conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.ncancel()
		c.in.abandon()
		if first, cerr := c.fail(ErrClosed); first && cerr != nil {
			err = fmt.Errorf("rpc: close: %w", cerr)
		}
	})
	return err
}

// Wait blocks until the connection has ended and every goroutine the Conn
// owns (reader, dispatcher, handlers) has returned. It returns nil if the
// connection was ended by Close, and otherwise why it ended: an error
// wrapping ErrPeerClosed (and io.EOF), a *ProtocolError, or the read or
// write error.
//
// # Notes
//
// Wait waits for handlers and the notification handler, which see their
// context cancelled by Close but may ignore it; it must not be called from
// either. After the peer closes, Wait
// returns only once notifications already received have been delivered.
func (c *Conn) Wait() error {
	c.wg.Wait()
	<-c.done
	if c.err == ErrClosed {
		return nil
	}
	return c.err
}

// Done returns a channel that is closed when the connection ends, before
// Wait returns.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns nil while the connection is open, and afterwards why it
// ended: ErrClosed if Close ended it, otherwise what Wait returns.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

func (c *Conn) isDone() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// fail ends the connection with reason, once. It reports whether this call
// ended it, and the error from closing rwc.
func (c *Conn) fail(reason error) (first bool, closeErr error) {
	c.failOnce.Do(func() {
		first = true
		c.err = reason
		close(c.done)
		c.hcancel()
		c.in.close()
		closeErr = c.rwc.Close()
		if reason != ErrClosed {
			c.log.Debug("rpc: connection ended", "reason", reason)
		}
	})
	return first, closeErr
}

// send encodes m and writes it as one line.
func (c *Conn) send(ctx context.Context, m Message) error {
	bp := bufPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuf {
			bufPool.Put(bp)
		}
	}()
	buf, err := appendMessage((*bp)[:0], m, true)
	*bp = buf
	if err != nil {
		return err
	}
	buf = append(buf, '\n')
	*bp = buf
	return c.write(ctx, buf)
}

// write writes one line under the write lock. A failed write ends the
// connection. It returns ctx.Err() unwrapped if ctx ends while waiting for
// the lock, and Err() if the connection has ended.
func (c *Conn) write(ctx context.Context, line []byte) error {
	return c.writeThen(ctx, line, nil)
}

// writeThen is write that calls first, if not nil, once it holds the
// writer and before the line goes out (or instead, if it cannot): nothing
// written after first returns can precede the line on the wire.
func (c *Conn) writeThen(ctx context.Context, line []byte, first func()) error {
	if first != nil {
		defer func() {
			if first != nil {
				first()
			}
		}()
	}
	select {
	case c.wsem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.Err()
	}
	defer func() { <-c.wsem }()
	if first != nil {
		first()
		first = nil
	}
	if c.isDone() {
		return c.Err()
	}
	if _, err := c.rwc.Write(line); err != nil {
		c.fail(fmt.Errorf("rpc: write: %w", err))
		return c.Err()
	}
	return nil
}

// readLoop reads lines until the connection ends, routing responses to
// pending calls and queuing requests for the dispatcher.
func (c *Conn) readLoop() {
	br := bufio.NewReaderSize(c.rwc, readBufSize)
	var long []byte // reused buffer for lines longer than readBufSize
	var lineNo int64
	for {
		line, err := readLine(br, &long, c.maxLine)
		if len(line) > 0 {
			lineNo++
		}
		if err == errTooLong {
			c.protocolError(&ProtocolError{Line: lineNo, Snippet: snippet(line), Err: &lineTooLongError{limit: c.maxLine}})
			return
		}
		if err == nil {
			if !c.handleLine(lineNo, line) {
				return
			}
			continue
		}
		if !errors.Is(err, io.EOF) {
			c.fail(fmt.Errorf("rpc: read: %w", err)) // a partial line is dropped with the connection
			return
		}
		// A final line without newline is accepted if it is a complete
		// message; otherwise the peer died mid-message.
		reason := fmt.Errorf("%w: %w", ErrPeerClosed, err)
		if !isBlank(line) {
			if msg, derr := c.decode(line); derr != nil {
				reason = fmt.Errorf("%w: %w (line %d is incomplete)", ErrPeerClosed, err, lineNo)
			} else if !c.accept(msg, len(line)) {
				return
			}
		}
		c.fail(reason)
		return
	}
}

// errTooLong is readLine's signal for an oversize line.
var errTooLong = errors.New("line too long")

// readLine returns the next line, including its newline if it has one. The
// result aliases br's buffer or *long and is valid until the next call. A
// final line without newline is returned together with the read error. If
// the line is longer than max bytes (newline excluded), it returns the start
// of the line and errTooLong.
func readLine(br *bufio.Reader, long *[]byte, max int) ([]byte, error) {
	frag, err := br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		if contentLen(frag) > max {
			return frag, errTooLong
		}
		return frag, err
	}
	buf := append((*long)[:0], frag...)
	for {
		if len(buf) > max {
			*long = buf
			return buf, errTooLong
		}
		frag, err = br.ReadSlice('\n')
		buf = append(buf, frag...)
		if err != bufio.ErrBufferFull {
			break
		}
	}
	*long = buf
	if contentLen(buf) > max {
		return buf, errTooLong
	}
	return buf, err
}

func contentLen(line []byte) int {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		return n - 1
	}
	return len(line)
}

func isBlank(line []byte) bool {
	for _, b := range line {
		switch b {
		case ' ', '\t', '\r', '\n':
		default:
			return false
		}
	}
	return true
}

// handleLine decodes one line and routes it. It reports false if the reader
// must stop.
func (c *Conn) handleLine(lineNo int64, line []byte) bool {
	if isBlank(line) {
		return true
	}
	msg, err := c.decode(line)
	if err != nil {
		c.protocolError(&ProtocolError{Line: lineNo, Snippet: snippet(line), Err: err})
		return false
	}
	if r, ok := msg.(*Request); ok && r.IsCall() && !c.startServing(r.ID) {
		// Two calls in flight under one id: no answer could say which it
		// answers, and the peer could take one for the other (an accept
		// of ls for rm -rf). The connection fails, answering neither.
		c.protocolError(&ProtocolError{Line: lineNo, Snippet: snippet(line), Err: fmt.Errorf("%w: request id %s is already in flight", errDuplicateID, r.ID.String())})
		return false
	}
	return c.accept(msg, len(line))
}

// errDuplicateID is the cause of a ProtocolError for a call whose id is
// that of a call still being answered.
var errDuplicateID = errors.New("duplicate request id")

// decode is DecodeMessage with the Conn's ParamsDecoder.
func (c *Conn) decode(line []byte) (Message, error) {
	if m := decodeFastWith(line, c.params); m != nil {
		return m, nil
	}
	m, err := decodeSlow(line)
	if r, ok := m.(*Request); ok && err == nil {
		decodeParams(r, c.params)
	}
	return m, err
}

// accept routes a response or queues a request of size line bytes. It
// reports false if the reader must stop.
func (c *Conn) accept(msg Message, size int) bool {
	switch m := msg.(type) {
	case *Response:
		c.route(m)
	case *Request:
		if m.Decoded != nil {
			size *= 2 // the decoded value, counted as large as the line
		}
		return c.in.push(m, size)
	}
	return true
}

func (c *Conn) protocolError(pe *ProtocolError) {
	if !c.isDone() {
		c.log.Error("rpc: protocol error", "err", pe)
	}
	c.fail(pe)
}

// route hands a response to the call waiting for it.
func (c *Conn) route(resp *Response) {
	if resp.ID.kind == idInt {
		c.pmu.Lock()
		ch, ok := c.pending[resp.ID.num]
		late := false
		if ok {
			delete(c.pending, resp.ID.num)
		} else if _, late = c.abandoned[resp.ID.num]; late {
			delete(c.abandoned, resp.ID.num)
		}
		c.pmu.Unlock()
		if ok {
			ch <- resp // buffered; never blocks
			return
		}
		if late {
			c.log.Debug("rpc: dropping late response to a cancelled call", "id", resp.ID.String())
			return
		}
	}
	if !resp.ID.IsValid() {
		c.log.Warn("rpc: peer sent an error response without an id", "error", resp.Error)
		return
	}
	c.log.Warn("rpc: response for unknown request id", "id", resp.ID.String())
}

// dispatchLoop delivers queued requests in order until the inbox is
// abandoned, or closed and drained.
func (c *Conn) dispatchLoop() {
	for {
		req, ok := c.in.pop()
		if !ok {
			return
		}
		if req.IsCall() {
			if c.isDone() {
				c.log.Debug("rpc: not answering a call: connection ended", "method", req.Method, "id", req.ID.String())
				continue
			}
			if c.arrived != nil {
				c.arrive(req)
			}
			c.wg.Go(func() { c.serve(req) })
			continue
		}
		if c.notes != nil {
			c.deliver(req)
		}
	}
}

func (c *Conn) arrive(req *Request) {
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("rpc: Arrived panicked", "method", req.Method, "id", req.ID.String(), "panic", p, "stack", string(debug.Stack()))
		}
	}()
	c.arrived(req)
}

func (c *Conn) deliver(n *Request) {
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("rpc: notification handler panicked", "method", n.Method, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	c.notes.HandleNotification(c.nctx, n)
}

// startServing records id as being answered, or reports false if it
// already is.
func (c *Conn) startServing(id ID) bool {
	c.smu.Lock()
	defer c.smu.Unlock()
	if _, dup := c.serving[id]; dup {
		return false
	}
	c.serving[id] = struct{}{}
	return true
}

// serve runs the handler for one call and writes the response; then the
// call's id may be used again.
func (c *Conn) serve(req *Request) {
	var resp *Response
	// The response is written in a deferred call, which runs even when the
	// handler's goroutine ends with runtime.Goexit (resp is then nil).
	defer func() {
		if resp == nil {
			resp = c.abandon(req)
		}
		c.respond(req, resp)
	}()
	resp = c.answer(req)
}

// abandon answers a call whose handler's goroutine is ending without a
// result (runtime.Goexit): with Options.Abandoned's answer, or ErrInternal
// if there is none or it fails too.
func (c *Conn) abandon(req *Request) (resp *Response) {
	c.log.Error("rpc: handler ended its goroutine without answering", "method", req.Method, "id", req.ID.String())
	resp = &Response{ID: req.ID, Error: NewError(ErrInternal.Code, "handler ended without answering")}
	if c.onGoexit == nil {
		return resp
	}
	defer func() { _ = recover() }() // a panicking Abandoned: ErrInternal
	result, err := c.onGoexit(req)
	return toResponse(req, result, err)
}

// respond writes the response to a call; then the call's id may be used
// again.
func (c *Conn) respond(req *Request, resp *Response) {
	bp := bufPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBuf {
			bufPool.Put(bp)
		}
	}()
	buf, err := appendMessage((*bp)[:0], resp, true)
	if err != nil { // only a handler's *WireError with invalid Data
		c.log.Error("rpc: cannot encode response", "method", req.Method, "id", req.ID.String(), "err", err)
		buf, _ = appendMessage((*bp)[:0], &Response{ID: req.ID, Error: NewError(ErrInternal.Code, err.Error())}, true)
	}
	buf = append(buf, '\n')
	*bp = buf
	// The id is free again as the response goes out, not after: the peer
	// may reuse it as soon as it reads the response.
	stopServing := func() {
		c.smu.Lock()
		delete(c.serving, req.ID)
		c.smu.Unlock()
	}
	if err := c.writeThen(c.hctx, buf, stopServing); err != nil {
		c.log.Debug("rpc: response not sent", "method", req.Method, "id", req.ID.String(), "err", err)
	}
}

// answer runs the handler and turns its outcome, including a panic, into a
// response.
func (c *Conn) answer(req *Request) (resp *Response) {
	resp = &Response{ID: req.ID}
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("rpc: handler panicked", "method", req.Method, "id", req.ID.String(), "panic", p, "stack", string(debug.Stack()))
			resp.Result, resp.Error = nil, NewError(ErrInternal.Code, "handler panicked")
		}
	}()
	if c.handler == nil {
		resp.Error = NewError(ErrMethodNotFound.Code, "method not found: "+req.Method)
		return resp
	}
	result, err := c.handler.Handle(c.hctx, req)
	return toResponse(req, result, err)
}

// toResponse turns a handler's result and error into the response.
func toResponse(req *Request, result any, err error) *Response {
	resp := &Response{ID: req.ID}
	if err != nil {
		var we *WireError
		switch {
		case !errors.As(err, &we):
			resp.Error = NewError(ErrInternal.Code, err.Error())
		case we == nil:
			resp.Error = NewError(ErrInternal.Code, "handler returned a nil *WireError")
		default:
			resp.Error = we
		}
		return resp
	}
	raw, err := json.Marshal(result)
	if err != nil {
		resp.Error = NewError(ErrInternal.Code, "cannot marshal result: "+err.Error())
		return resp
	}
	resp.Result = raw
	return resp
}
