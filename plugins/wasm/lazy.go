package wasm

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/internal/regfile"
	"github.com/codexhost/codexhost/plugins"
)

// This file owns lazy loads (Options.Lazy): the records that let Load
// trust a manifest before the guest has run, and the load that then runs
// on a goroutine of its own.

// recordsDir is the directory of the records, in the cache directory.
const recordsDir = "loads"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// A record says that a module loaded with given options: its file holds
// the manifest the guest described itself with. A nil *record records
// nothing.
type record struct {
	path     string
	maxBytes int // the manifest's bound, the describe result's
}

// record returns the record of loading wasm with o and the memory limit
// limit, or nil if the runtime keeps no records (its cache is in memory
// only). The key covers what the caller controls of a load's outcome: the
// module's bytes, the settings, the grants with the granted variables'
// values, the limits and the versions of the ABI and of wazero. It does
// not cover the granted directories' files, the clock, or codexhost's own
// checks of a module: a lazy load that then fails is reported as such.
func (rt *Runtime) record(wasm []byte, o *Options, limit uint32) *record {
	if rt.recordDir == "" {
		return nil
	}
	h := sha256.New()
	field := func(b []byte) { // length-prefixed: no two keys run together
		_ = binary.Write(h, binary.LittleEndian, uint64(len(b)))
		h.Write(b)
	}
	field([]byte("codexhost load record v1"))
	field(fmt.Appendf(nil, "abi %d wazero %s", abi.Version, wazeroVersion()))
	// The module by two CRCs (64 bits, hardware-accelerated: hashing it
	// with SHA-256 cost a lazy load a third of its time). The key only
	// finds a record; it vouches for nothing: the plugin's own manifest
	// is compared with the record when it loads.
	field(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil,
		crc32.Checksum(wasm, castagnoli)), crc32.ChecksumIEEE(wasm)))
	field(o.Settings)
	grants, _ := json.Marshal(o.Grants)
	field(grants)
	for _, k := range o.Grants.Env {
		v, ok := os.LookupEnv(k)
		field(fmt.Appendf(nil, "%t %s", ok, v))
	}
	l := moduleLimits(o)
	field(fmt.Appendf(nil, "%d %d %d", limit, l.ModuleBytes, l.TableElements))
	return &record{
		path:     filepath.Join(rt.recordDir, hex.EncodeToString(h.Sum(nil))),
		maxBytes: plugins.DefaultMaxResultBytes,
	}
}

// read returns the recorded manifest, or nil if there is none (or it
// cannot be read, or it is not a regular file: opening a FIFO planted
// there must not block Load, hence O_NONBLOCK).
func (r *record) read() []byte {
	if r == nil {
		return nil
	}
	f, err := regfile.Open(r.path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(r.maxBytes)+1))
	if err != nil || len(b) == 0 || len(b) > r.maxBytes || !json.Valid(b) {
		return nil
	}
	return b
}

// write records the manifest m, atomically; a failure only costs the
// next load its laziness.
func (r *record) write(m []byte) {
	if r == nil {
		return
	}
	dir := filepath.Dir(r.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	f, err := os.CreateTemp(dir, ".record-*")
	if err != nil {
		return
	}
	_, err = f.Write(m)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), r.path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
}

// remove deletes the record, which a failed lazy load disproved.
func (r *record) remove() {
	if r != nil {
		_ = os.Remove(r.path)
	}
}

// lazy registers p, whose manifest admit has read from its record, with
// its load to come: it starts at the first Call or Ready (or Close, which
// ends it at once). The load counts as a call in flight (it holds a slot):
// Close stops it and waits for it. It reports false if the runtime is
// closed.
func (p *Plugin) lazy(wasm []byte, o *Options, limit uint32, rec *record) bool {
	p.ready = make(chan struct{})
	p.slots <- struct{}{} // empty: the plugin is new
	p.inflight = 1
	if !p.rt.register(p) {
		return false
	}
	logger := p.logger
	p.startLazy = sync.OnceFunc(func() {
		go p.loadLazily(wasm, o, limit, logger, rec) // owned by p: Close waits for it (drained)
	})
	return true
}

// loadLazily is a lazy load: it boots the plugin, its first instance going
// to the pool, or sets loadErr; then it frees the load's slot and closes
// ready.
func (p *Plugin) loadLazily(wasm []byte, o *Options, limit uint32, logger *slog.Logger, rec *record) {
	// Not on a thread of its own at a low priority: the thread would have
	// to end with the load (an unprivileged thread cannot take its
	// priority back), and a thread that ends kills the children it
	// started with Pdeathsig, codex among them (host/proc_linux.go).
	var in *instance
	err := error(plugins.ErrClosed)
	select {
	case p.rt.lazyTurn <- struct{}{}: // one lazy load at a time
		if !p.closed.Load() && !p.rt.isClosed() {
			// Bounded by the compile and start timeouts; ends when the
			// plugin or the runtime is closed.
			in, _, err = p.boot(context.Background(), wasm, o, limit, logger, true)
		}
		<-p.rt.lazyTurn
	case <-p.closing.Done():
	case <-p.rt.closing.Done():
	}
	switch {
	case err != nil && (p.closed.Load() || p.rt.isClosed()):
		p.loadErr = fmt.Errorf("wasm: the plugin was closed while it loaded: %w", plugins.ErrClosed)
	case err != nil:
		if !errors.Is(err, context.DeadlineExceeded) { // a busy machine disproves nothing
			rec.remove() // it no longer loads as recorded
		}
		p.loadErr = fmt.Errorf("wasm: load plugin (lazily, after Load returned): %w", err)
		p.logger.Error("wasm: lazy load failed", "err", err)
	}
	p.put(in) // first: a call that has waited finds the instance
	close(p.ready)
}

// waitLoaded waits for a lazy load to end, and fails a call if it failed.
func (p *Plugin) waitLoaded(ctx context.Context, hook abi.Hook) error {
	p.startLazy()
	select {
	case <-p.ready:
	case <-p.done:
		return plugins.ErrClosed
	case <-ctx.Done():
		kind := plugins.FailUnavailable
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			kind = plugins.FailTimeout
		}
		return &plugins.CallError{Plugin: p.name, Hook: hook, Kind: kind,
			Err: fmt.Errorf("wasm: waiting for the plugin to load: %w", ctx.Err())}
	}
	if p.loadErr != nil {
		return &plugins.CallError{Plugin: p.name, Hook: hook, Kind: plugins.FailUnavailable, Err: p.loadErr}
	}
	return nil
}

// Ready loads the plugin, if Load returned before loading it
// (Options.Lazy) and no call has started the load yet, waits for it, and
// returns the error that stopped it loading, if any: nil at once for a
// plugin that Load loaded. After Close, a load that had not ended returns
// an error matching plugins.ErrClosed. ctx bounds the wait, not the load;
// its error is returned if it ends first.
func (p *Plugin) Ready(ctx context.Context) error {
	if p.ready == nil {
		return nil
	}
	p.startLazy()
	select {
	case <-p.ready:
		return p.loadErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// describesAsRecorded reports whether mb, the manifest a lazy plugin's
// guest describes itself with, says what p's manifest (its record's) says,
// field by field: a guest need not describe itself byte for byte the same
// way twice.
func (p *Plugin) describesAsRecorded(mb []byte) bool {
	var got abi.Manifest
	return json.Unmarshal(mb, &got) == nil && plugins.SameManifest(&got, &p.manifest)
}
