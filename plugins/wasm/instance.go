package wasm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"runtime"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/internal/termsafe"
	"github.com/codexhost/codexhost/plugins"
)

// An instance is one instantiation of a plugin's module. It is used by one
// goroutine at a time (the pool hands it to one call).
type instance struct {
	p   *Plugin
	mod api.Module
	mem api.Memory

	version, alloc, free, describeFn, configureFn, handleFn api.Function

	// stack is the reused parameter/result stack of CallWithStack; every
	// ABI function takes at most 3 parameters.
	stack []uint64
	// inPtr and inCap are the guest's input buffer, reused across calls.
	inPtr, inCap uint32

	lim *limitedMemory
	out *output
	ctx *callCtx // the context of hook calls, reused

	// cur is the context of what runs in the instance now (the start or a
	// call): a guest's sleep (WASI poll_oneoff, which Go's time.Sleep
	// uses) waits on it, so that the deadline or a cancellation ends the
	// sleep. Written and read by the goroutine using the instance.
	cur context.Context
}

// instanceKey is the context key of the instance a guest function runs in:
// host functions (codexhost.log) find it there.
type instanceKey struct{}

func instanceFrom(ctx context.Context) *instance {
	in, _ := ctx.Value(instanceKey{}).(*instance)
	return in
}

// enter makes ctx the context of what runs next in the instance, and
// returns it bound to the instance.
func (in *instance) enter(ctx context.Context) context.Context {
	if cc, ok := ctx.(*callCtx); !ok || cc.in != in {
		ctx = context.WithValue(ctx, instanceKey{}, in)
	}
	in.cur = ctx
	return ctx
}

// sleep implements the instance's sys.Nanosleep: it returns after ns, or
// when the context of what runs in the instance is done; wazero then stops
// the guest at its next function call or loop.
func (in *instance) sleep(ns int64) {
	ctx := in.cur
	if ctx == nil || ns <= 0 {
		return
	}
	if ctx.Err() != nil {
		return
	}
	t := time.NewTimer(time.Duration(ns))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// newInstance instantiates the plugin's module in its sandbox (running
// _initialize) and looks up its exports.
func (p *Plugin) newInstance(ctx context.Context) (*instance, error) {
	in := &instance{
		p:     p,
		stack: make([]uint64, 3),
		lim:   &limitedMemory{limit: p.memLimitBytes},
	}
	in.ctx = newCallCtx(in)
	in.out = &output{p: p, remaining: p.maxOutputBytes}
	in.out.callStart() // the start counts as a call
	ictx := experimental.WithMemoryAllocator(in.enter(ctx), experimental.MemoryAllocatorFunc(in.lim.allocate))
	if p.host != nil {
		ictx = experimental.WithImportResolver(ictx, func(name string) api.Module {
			if name == abi.ImportModule {
				return p.host
			}
			return nil
		})
	}
	cfg := p.config.
		WithStdout(&stream{out: in.out, name: "stdout", level: slog.LevelInfo}).
		WithStderr(&stream{out: in.out, name: "stderr", level: slog.LevelWarn, stderr: true}).
		WithNanosleep(in.sleep)
	mod, err := p.rt.r.InstantiateModule(ictx, p.compiled.mod, cfg)
	runtime.KeepAlive(in)
	if err != nil {
		if mod != nil {
			_ = mod.Close(context.Background())
		}
		// wazero does not close a module whose start function failed:
		// its memory goes now, not at some later collection.
		in.lim.release()
		if p.rt.isClosed() {
			return nil, plugins.ErrClosed
		}
		var ce *plugins.CallError
		if ctx.Err() != nil || in.outOfMemory() {
			ce = p.callError(ctx, 0, in, err)
		} else {
			ce = p.callError(ctx, 0, in, fmt.Errorf("instantiate: %w", err))
		}
		return nil, ce
	}
	in.mod = mod
	in.mem = mod.Memory()
	in.version = mod.ExportedFunction(abi.ExportABIVersion)
	in.alloc = mod.ExportedFunction(abi.ExportAlloc)
	in.free = mod.ExportedFunction(abi.ExportFree)
	in.describeFn = mod.ExportedFunction(abi.ExportDescribe)
	in.configureFn = mod.ExportedFunction(abi.ExportConfigure)
	in.handleFn = mod.ExportedFunction(abi.ExportHandle)
	if in.mem == nil || in.version == nil || in.alloc == nil || in.free == nil ||
		in.describeFn == nil || in.configureFn == nil || in.handleFn == nil {
		in.close()
		return nil, fmt.Errorf("%w: missing export after instantiation", plugins.ErrBadModule)
	}
	return in, nil
}

func (in *instance) close() {
	in.ctx.timer.Stop()
	in.out.flush()
	in.out.callEnd()
	if in.mod != nil {
		_ = in.mod.Close(context.Background())
	}
	in.lim.release() // no call runs in it: close is its owner's
}

// outOfMemory reports whether the instance was refused memory, or its Go
// runtime said it ran out of it.
func (in *instance) outOfMemory() bool {
	return in.lim.refused || strings.Contains(in.out.firstErrLine(), "out of memory")
}

// call calls f with in.stack. A function that returns after ctx is done
// (a guest woken from its sleep by the deadline returns before wazero
// stops it) fails with ctx's error: its result is not used.
func (in *instance) call(ctx context.Context, f api.Function) error {
	err := f.CallWithStack(ctx, in.stack)
	runtime.KeepAlive(in) // and its memory (limitedMemory)
	if err != nil {
		return err
	}
	return ctx.Err()
}

// checkVersion calls codexhost_abi_version.
func (in *instance) checkVersion(ctx context.Context) error {
	ctx = in.enter(ctx)
	if err := in.call(ctx, in.version); err != nil {
		return err
	}
	if v := uint32(in.stack[0]); v != abi.Version {
		return fmt.Errorf("%w: plugin %q speaks ABI v%d, this host speaks v%d", plugins.ErrIncompatibleABI, in.p.name, v, abi.Version)
	}
	return nil
}

// describe calls codexhost_describe and returns the manifest JSON.
func (in *instance) describe(ctx context.Context) ([]byte, error) {
	ctx = in.enter(ctx)
	if err := in.call(ctx, in.describeFn); err != nil {
		return nil, err
	}
	b, err := in.result(in.stack[0], plugins.DefaultMaxResultBytes)
	var ae *abi.Error
	if errors.As(err, &ae) {
		return nil, fmt.Errorf("%w: describe failed: %w", plugins.ErrBadManifest, err)
	}
	return b, err
}

// configure writes settings and calls codexhost_configure.
func (in *instance) configure(ctx context.Context, settings []byte) error {
	ctx = in.enter(ctx)
	if err := in.write(ctx, settings); err != nil {
		return err
	}
	in.stack[0], in.stack[1] = uint64(in.inPtr), uint64(len(settings))
	if err := in.call(ctx, in.configureFn); err != nil {
		return err
	}
	_, err := in.result(in.stack[0], plugins.DefaultMaxResultBytes)
	return err
}

// handle runs one hook call. An *abi.Error leaves the instance usable;
// any other error means it must be discarded.
func (in *instance) handle(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	in.lim.refused = false
	in.out.callStart()
	ctx = in.enter(ctx)
	if err := in.write(ctx, req); err != nil {
		return nil, err
	}
	in.stack[0], in.stack[1], in.stack[2] = uint64(hook), uint64(in.inPtr), uint64(len(req))
	if err := in.call(ctx, in.handleFn); err != nil {
		return nil, err
	}
	return in.result(in.stack[0], in.p.maxResult)
}

// write copies b into the instance's input buffer, replacing the buffer by
// a larger one if it is too small.
func (in *instance) write(ctx context.Context, b []byte) error {
	if uint64(len(b)) > in.p.memLimitBytes {
		return &plugins.CallError{Plugin: in.p.name, Kind: plugins.FailMemory,
			Err: fmt.Errorf("wasm: request of %d bytes exceeds the memory limit of %d MiB", len(b), in.p.memLimitBytes>>20)}
	}
	n := uint32(len(b))
	if in.inPtr == 0 || n > in.inCap {
		if in.inPtr != 0 {
			in.stack[0] = uint64(in.inPtr)
			if err := in.call(ctx, in.free); err != nil {
				return err
			}
			in.inPtr, in.inCap = 0, 0
		}
		size := max(n, minInputBuffer)
		if size&(size-1) != 0 && size < 1<<31 { // round up to a power of two
			size = 1 << bits.Len32(size)
		}
		in.stack[0] = uint64(size)
		if err := in.call(ctx, in.alloc); err != nil {
			return err
		}
		ptr := uint32(in.stack[0])
		if ptr == 0 {
			return &plugins.CallError{Plugin: in.p.name, Kind: plugins.FailMemory,
				Err: fmt.Errorf("wasm: %s could not allocate %d bytes", abi.ExportAlloc, size)}
		}
		in.inPtr, in.inCap = ptr, size
	}
	if !in.mem.Write(in.inPtr, b) {
		return &plugins.CallError{Plugin: in.p.name, Kind: plugins.FailBadOutput,
			Err: fmt.Errorf("wasm: %s returned buffer [%d, +%d) outside memory of %d bytes", abi.ExportAlloc, in.inPtr, in.inCap, in.mem.Size())}
	}
	return nil
}

// result reads a packed result: the payload of an OK result (copied out of
// guest memory), an *abi.Error for an error result, or a *CallError.
func (in *instance) result(packed uint64, limit int) ([]byte, error) {
	ptr, n := abi.UnpackResult(packed)
	if n == 0 {
		return nil, in.badOutput("empty result (no status byte)")
	}
	if int64(n)-1 > int64(limit) {
		return nil, &plugins.CallError{Plugin: in.p.name, Kind: plugins.FailTooLarge,
			Err: fmt.Errorf("wasm: result of %d bytes exceeds the limit of %d", n-1, limit)}
	}
	b, ok := in.mem.Read(ptr, n)
	if !ok {
		return nil, in.badOutput(fmt.Sprintf("result [%d, +%d) lies outside memory of %d bytes", ptr, n, in.mem.Size()))
	}
	switch abi.Status(b[0]) {
	case abi.StatusOK:
		out := make([]byte, n-1)
		copy(out, b[1:])
		runtime.KeepAlive(in) // and its memory, which b is in
		return out, nil
	case abi.StatusError:
		e := new(abi.Error)
		err := json.Unmarshal(b[1:], e)
		runtime.KeepAlive(in)
		if err != nil {
			return nil, in.badOutput(fmt.Sprintf("error result is not an abi.Error: %v", err))
		}
		// The message is the plugin's: a decision's reason and codex's
		// rejection text quote it (review, round 11).
		e.Message = termsafe.Quote(e.Message, plugins.MaxQuotedErrorBytes)
		return nil, e
	default:
		return nil, in.badOutput(fmt.Sprintf("unknown status byte %d", b[0]))
	}
}

func (in *instance) badOutput(msg string) error {
	return &plugins.CallError{Plugin: in.p.name, Kind: plugins.FailBadOutput, Err: errors.New("wasm: " + msg)}
}

// output captures an instance's stdout, stderr and codexhost.log lines
// into the plugin's logger, line by line, up to two byte budgets: one for
// each call (the start of the instance counts as one), one for the
// instance's lifetime. What is over either is dropped and counted, and
// callEnd logs one line saying how much.
type output struct {
	p             *Plugin
	remaining     int // the lifetime budget left
	callRemaining int // the call's budget left
	dropped       int // bytes dropped in this call
	droppedLines  int // lines dropped in this call (an empty one is 0 bytes)
	streams       []*stream
	// firstErr is the first stderr line of the current call (e.g. a Go
	// runtime's "fatal error: out of memory"), for error messages.
	firstErr string
}

func (o *output) callStart() {
	o.firstErr = ""
	o.callRemaining = o.p.maxCallOutputBytes
	o.dropped, o.droppedLines = 0, 0
}

// callEnd logs how much output the call dropped, if any.
func (o *output) callEnd() {
	if o.dropped == 0 && o.droppedLines == 0 {
		return
	}
	budget, limit := "call", o.p.maxCallOutputBytes
	if o.remaining <= 0 {
		budget, limit = "instance lifetime", o.p.maxOutputBytes
	}
	msg := fmt.Sprintf("wasm: dropped %d bytes of guest output over the %s budget of %d bytes", o.dropped, budget, limit)
	if o.droppedLines > 0 {
		msg += fmt.Sprintf(" (%d whole lines)", o.droppedLines)
	}
	o.p.logger.Warn(msg, "dropped", o.dropped, "budget", budget, "limit", limit)
	o.dropped, o.droppedLines = 0, 0
}

// recordCost is what each logged line costs of the output budgets beyond
// its bytes: a record's own overhead (a slog record, a line of the log).
// Without it, empty lines cost nothing, and a guest logged millions of
// records a second past both budgets (review, round 13).
const recordCost = 64

// takeLine reports whether a line of n bytes and its record's cost fit in
// the budgets, and counts them there if they do. If not, the n bytes are
// counted as dropped and the budget that is short is spent: the rest of
// the call's output (of the instance's, for the lifetime budget) is
// dropped without being read.
func (o *output) takeLine(n int) bool {
	cost := n + recordCost
	if cost > o.remaining || cost > o.callRemaining {
		o.dropped += n
		o.droppedLines++
		if cost > o.remaining {
			o.remaining = 0
		}
		o.callRemaining = 0
		return false
	}
	o.remaining -= cost
	o.callRemaining -= cost
	return true
}

// spent reports whether no line can be logged any more in this call.
func (o *output) spent() bool { return o.remaining <= 0 || o.callRemaining <= 0 }

func (o *output) firstErrLine() string { return o.firstErr }

func (o *output) flush() {
	for _, s := range o.streams {
		s.flush()
	}
}

// A stream is stdout or stderr of an instance.
type stream struct {
	out    *output
	name   string
	level  slog.Level
	stderr bool
	buf    []byte // an incomplete line
	added  bool
	// cut: the last line was logged in pieces and its newline has not
	// come yet.
	cut bool
	// scanned counts the bytes searched for a newline (tests bound it).
	scanned int
}

// maxLineBytes bounds a line of guest output; a longer one is logged in
// pieces.
const maxLineBytes = 4 << 10

// Write implements io.Writer. It never fails: the guest must not see an
// error (or block) because the host drops its output. Once the budgets are
// spent, the rest is counted without being read.
func (s *stream) Write(b []byte) (int, error) {
	n := len(b)
	o := s.out
	if !s.added {
		s.added = true
		o.streams = append(o.streams, s)
	}
	for len(b) > 0 {
		if o.spent() {
			o.dropped += len(s.buf) + len(b)
			s.buf = s.buf[:0]
			break
		}
		if s.cut && b[0] == '\n' {
			// The newline of a line logged in pieces when its buffer
			// filled: it ends that line, not an empty one.
			s.cut = false
			b = b[1:]
			continue
		}
		s.cut = false
		// Look no further than a piece: a long write without a newline is
		// not searched again for each piece.
		room := maxLineBytes - len(s.buf)
		look := b[:min(len(b), room+1)]
		s.scanned += len(look)
		i := bytes.IndexByte(look, '\n')
		if i < 0 {
			// An incomplete line, or a long one: keep up to maxLineBytes,
			// logged in pieces of that size.
			k := min(len(b), room)
			s.buf = append(s.buf, b[:k]...)
			b = b[k:]
			if len(s.buf) >= maxLineBytes {
				s.flush()
				s.cut = true
			}
			continue
		}
		line := b[:i]
		if len(s.buf) > 0 {
			s.buf = append(s.buf, line...)
			line = s.buf
		}
		if o.takeLine(len(line) + 1) { // with its newline
			s.emit(line)
		}
		s.buf = s.buf[:0]
		b = b[i+1:]
	}
	return n, nil
}

func (s *stream) flush() {
	if len(s.buf) > 0 {
		if s.out.takeLine(len(s.buf)) {
			s.emit(s.buf)
		}
		s.buf = s.buf[:0]
	}
}

func (s *stream) emit(line []byte) {
	msg := termsafe.Line(string(line))
	if s.stderr && s.out.firstErr == "" && strings.TrimSpace(msg) != "" {
		s.out.firstErr = truncate(msg, 200)
	}
	s.out.p.logger.Log(context.Background(), s.level, msg, "stream", s.name)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
