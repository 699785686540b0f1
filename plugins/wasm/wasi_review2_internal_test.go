package wasm

// Review (round 14) of 4ae3973/967fd8a: shortRead (wasi.go) and stream.Write
// (instance.go) against hostile guests. Each test fails at 3bcfb72.

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero/api"

	"github.com/codexhost/codexhost/abi"
)

// openGranted opens name in the granted dir (preopen 3) of mod and
// returns its descriptor; path and result use memory [0, 4096).
func openGranted(t *testing.T, mod api.Module, call wasiCaller, name string) uint64 {
	t.Helper()
	mem := mod.Memory()
	require.True(t, mem.WriteString(0, name))
	st := call(context.Background(), mod, "path_open", 3, 0, 0, uint64(len(name)), 0, 1<<1|1<<2, 0, 0, 4092)
	require.Zero(t, st[0], "path_open")
	fd, _ := mem.ReadUint32Le(4092)
	return uint64(fd)
}

// callNoPanic calls fn of the bounded WASI and turns a panic into a
// failure: wazero would turn it into an error ending the call, after
// the host ran whatever the panic interrupted.
func callNoPanic(t *testing.T, call wasiCaller, mod api.Module, fn string, params ...uint64) (st []uint64) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s%v panicked in the host: %v", fn, params, r)
		}
	}()
	return call(context.Background(), mod, fn, params...)
}

// shortRead reads iovs_len from the stack and computes n*8 before the
// bound (which it wraps) has checked n <= maxIovecs: n = 1<<29 makes
// n*8 wrap to 0, mem.Read(iovs, 0) succeeds with an empty list, and
// the loop indexes list[4:]: a Go panic in the host function (wazero
// recovers it into a failed call; the instance is discarded with a Go
// stack trace in the error). n = 1<<29+1 likewise (list of 8 bytes,
// panic at i = 1).
func TestShortReadIovecCountWraps(t *testing.T) {
	r, call := boundedWASI(t)
	mod := grantedModule(t, r, 1, t.TempDir())
	for _, n := range []uint64{1 << 29, 1<<29 + 1, 1<<32 - 1} {
		for _, fn := range []string{"fd_read", "fd_pread"} {
			var st []uint64
			if fn == "fd_read" {
				st = callNoPanic(t, call, mod, fn, 0, 0, n, 100)
			} else {
				st = callNoPanic(t, call, mod, fn, 0, 0, n, 0, 100)
			}
			require.Equal(t, uint64(errnoInval), st[0], "%s with iovs_len %#x: EINVAL, as the bound says", fn, n)
		}
	}
}

// The same shortRead scans and serves a list of more than maxIovecs
// entries when the cut falls within the first 1024: fd_read with
// iovs_len = 1<<20 is served (with a 12.5 MiB memory), though the bound
// promises EINVAL over IOV_MAX. With all lengths 0 shortRead walks all
// of them (up to memory/8 entries: 512 Mi at 4 GiB) before the bound
// refuses the call.
func TestShortReadIovecCountUnchecked(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), bytes.Repeat([]byte{'x'}, 3<<20), 0o644))
	r, call := boundedWASI(t)
	mod := grantedModule(t, r, 200, dir)
	fd := openGranted(t, mod, call, "f")
	const iovs, n = 4096, 1 << 20 // 8 MiB of list
	writeIovecs(t, mod.Memory(), iovs, n, 0, 0)
	writeIovecs(t, mod.Memory(), iovs, 1, 10<<20, 2<<20) // the first buffer 2 MiB: cut at 0
	st := callNoPanic(t, call, mod, "fd_read", fd, iovs, n, 100)
	got, _ := mod.Memory().ReadUint32Le(100)
	require.Equal(t, uint64(errnoInval), st[0], "iovs_len %d > IOV_MAX: EINVAL (got errno %d, nread %d)", n, st[0], got)
}

// wazero's readv reads the guest's list entry by entry from live guest
// memory while it reads the file into the buffers: a buffer that covers
// a later entry rewrites that entry with file data before wazero reads
// it. shortRead checks the sum of the lengths before the call only.
// Entry 0 = {&entry1, 8}, entry 1 = {0, 0}: the sum is 8, so the list is
// passed as is; the file's first 8 bytes become entry 1 = {1 MiB, 8
// MiB}, and wazero then reads 8 MiB in the same call (with 4 GiB of
// memory and a sparse file, 4 GiB: the round-13 33 s read again). The
// agent can write the granted directory (dirfs.go), or the guest can pick
// 8 suitable bytes of any file with fd_pread's offset.
func TestShortReadListRewrittenByTheRead(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 8+9<<20)
	binary.LittleEndian.PutUint32(data[0:], 1<<20) // buf
	binary.LittleEndian.PutUint32(data[4:], 8<<20) // len
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), data, 0o644))
	r, call := boundedWASI(t)
	mod := grantedModule(t, r, 200, dir)
	fd := openGranted(t, mod, call, "f")
	mem := mod.Memory()
	for _, fn := range []string{"fd_read", "fd_pread"} {
		const iovs = 8192
		writeIovecs(t, mem, iovs, 2, 0, 0)
		writeIovecs(t, mem, iovs, 1, iovs+8, 8)
		var st []uint64
		if fn == "fd_read" {
			call(context.Background(), mod, "fd_seek", fd, 0, 0, 100)
			st = callNoPanic(t, call, mod, fn, fd, iovs, 2, 100)
		} else {
			st = callNoPanic(t, call, mod, fn, fd, iovs, 2, 0, 100)
		}
		if st[0] != 0 {
			continue // refused: fine
		}
		n, _ := mem.ReadUint32Le(100)
		require.LessOrEqual(t, n, uint32(maxReadBytes), "%s read %d bytes in one call", fn, n)
	}
}

// The restore after a cut list writes back the 8*(cut+1) bytes of the
// list it saved, over whatever the read wrote there. Without the cut (a
// list within 1 MiB) wazero leaves the read's writes; with it:
//   - a buffer that contains the list: the file bytes read into the
//     list's place are replaced by the old list (refusing such a list,
//     as TestShortReadListRewrittenByTheRead needs, also passes);
//   - result.nread inside the list (at the cut entry's length): the guest
//     reads back the old length, 2 MiB, for a read of 1 MiB, and takes 1
//     MiB of stale buffer for file data.
func TestShortReadRestoreOverwritesTheRead(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), data, 0o644))
	r, call := boundedWASI(t)
	mod := grantedModule(t, r, 100, dir)
	fd := openGranted(t, mod, call, "f")
	mem := mod.Memory()

	// The buffer [8192, +2 MiB) holds the list at 8192 + 16.
	const buf = 8192
	const iovs = buf + 16
	t.Run("list in the buffer", func(t *testing.T) {
		writeIovecs(t, mem, iovs, 1, buf, 2<<20)
		st := callNoPanic(t, call, mod, "fd_pread", fd, iovs, 1, 0, 100)
		if st[0] != 0 {
			return // refused (a buffer over its own list): fine
		}
		n, _ := mem.ReadUint32Le(100)
		got, _ := mem.Read(buf, n)
		require.Equal(t, uint32(maxReadBytes), n)
		require.True(t, bytes.Equal(data[:n], got), "the bytes read are in the buffer: at the list's place %q, want %q", got[16:24], data[16:24])
	})
	t.Run("nread in the list", func(t *testing.T) {
		writeIovecs(t, mem, iovs, 1, 1<<20, 2<<20)
		st := callNoPanic(t, call, mod, "fd_pread", fd, iovs, 1, 0, iovs+4)
		if st[0] == errnoInval {
			return // refused (the result over the list): fine
		}
		require.Zero(t, st[0])
		n, _ := mem.ReadUint32Le(iovs + 4)
		require.Equal(t, uint32(maxReadBytes), n, "nread as the guest reads it")
	})
}

// The guest's side of TestShortReadIovecCountWraps: one fd_read
// from a real module. wazero recovers the panic: the call fails (the
// instance is discarded) instead of answering EINVAL.
func TestShortReadIovecCountWrapsInAModule(t *testing.T) {
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm")
	}
	d := t.TempDir()
	src := filepath.Join(d, "m.wat")
	require.NoError(t, os.WriteFile(src, []byte(`(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "go") (param i32) (result i32)
    (call $fd_read (i32.const 0) (i32.const 0) (local.get 0) (i32.const 100))))`), 0o644))
	out, err := exec.Command(tool, "-o", filepath.Join(d, "m.wasm"), src).CombinedOutput()
	require.NoError(t, err, "%s", out)
	bin, err := os.ReadFile(filepath.Join(d, "m.wasm"))
	require.NoError(t, err)
	r, _ := boundedWASI(t)
	cfg, err := moduleConfig(&abi.Capabilities{})
	require.NoError(t, err)
	mod, err := r.InstantiateWithConfig(context.Background(), bin, cfg)
	require.NoError(t, err)
	res, err := mod.ExportedFunction("go").Call(context.Background(), 1<<29)
	if err != nil {
		t.Fatalf("fd_read(iovs_len 1<<29) failed the call: %.300s", err)
	}
	require.Equal(t, []uint64{errnoInval}, res)
}

// wasiCaller calls a function of the bounded WASI (boundedWASI).
type wasiCaller = func(ctx context.Context, mod api.Module, name string, params ...uint64) []uint64

func reviewOutput(call, life int) (*output, *bytes.Buffer) {
	var logs bytes.Buffer
	p := &Plugin{name: "x", logger: slog.New(slog.NewTextHandler(&logs, nil)),
		maxCallOutputBytes: call, maxOutputBytes: life}
	o := &output{p: p, remaining: life}
	o.callStart()
	return o, &logs
}

// stream.Write looks for the next newline in all of b at each turn of its
// loop, but keeps at most maxLineBytes of it: a write of N bytes with no
// newline (or its newline at the end) is scanned N/4096 times over,
// until the budgets are spent: about budget/4160 scans of the whole
// write. With the defaults (64 KiB a call) and a 4 GiB memory, one
// fd_write of it scans ~60 GiB in the host function, where no deadline
// reaches; 15 GiB here, with a call budget of 1 MiB and a 64 MiB write.
// Only the first maxLineBytes+1 bytes need looking at.
func TestStreamScanIsBounded(t *testing.T) {
	o, _ := reviewOutput(1<<20, 1<<30)
	s := &stream{out: o, name: "stdout", level: slog.LevelInfo}
	b := bytes.Repeat([]byte{'x'}, 64<<20)
	n, err := s.Write(b)
	require.NoError(t, err)
	require.Equal(t, len(b), n)
	t.Logf("one write of 64 MiB without a newline: %d bytes searched", s.scanned)
	require.LessOrEqual(t, s.scanned, 1<<20+2*maxLineBytes, "the host searches about the 1 MiB budget, not 250 times 64 MiB")
}

// A line of exactly maxLineBytes whose newline comes in the next write
// (bufio.Writer's 4096-byte flushes do this) is logged as the line and
// then an empty line, each charged a record.
func TestStreamLineOfMaxBytesThenNewline(t *testing.T) {
	o, logs := reviewOutput(1<<20, 1<<30)
	s := &stream{out: o, name: "stdout", level: slog.LevelInfo}
	_, _ = s.Write(bytes.Repeat([]byte{'x'}, maxLineBytes))
	_, _ = s.Write([]byte("\nnext\n"))
	recs := strings.Count(logs.String(), "\n")
	require.Equal(t, 2, recs, "the line and \"next\":\n%.200s", logs.String())
}

// codexhost.log lines dropped for the record cost alone (len 0, or any
// line once the budget is spent by takeLine) add nothing to dropped, so a
// call that dropped only such lines ends without the "dropped" warning:
// the operator never learns that records were dropped.
func TestDroppedRecordsAreReported(t *testing.T) {
	o, logs := reviewOutput(1000, 1<<30)
	for range 100 {
		o.takeLine(0) // hostLog(level, ptr, 0)
	}
	o.callEnd()
	require.Contains(t, logs.String(), "dropped", "84 records dropped, none reported")
}

// openBelowMaxFD holds: whatever mix of path_open (files, the directory
// itself), fd_renumber onto free low numbers and fd_close the guest does,
// the table stays below maxFD and so do the host descriptors (passes).
func TestDescriptorsStayBelowMaxFD(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("counts /proc/self/fd")
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644))
	r, call := boundedWASI(t)
	mod := grantedModule(t, r, 1, dir)
	mem := mod.Memory()
	fds := func() int {
		es, err := os.ReadDir("/proc/self/fd")
		require.NoError(t, err)
		return len(es)
	}
	before := fds()
	open := func(name string, oflags uint64) (uint32, uint64) {
		require.True(t, mem.WriteString(0, name))
		st := call(context.Background(), mod, "path_open", 3, 0, 0, uint64(len(name)), oflags, 1<<1|1<<14, 0, 0, 4092)
		fd, _ := mem.ReadUint32Le(4092)
		return fd, st[0]
	}
	maxSeen := uint32(0)
	for i := range 2000 {
		name, of := "f", uint64(0)
		if i%3 == 0 {
			name, of = ".", 2 // O_DIRECTORY
		}
		fd, errno := open(name, of)
		if errno == 0 {
			maxSeen = max(maxSeen, fd)
		}
		switch i % 7 {
		case 0: // close a low one, then move a high one onto it
			call(context.Background(), mod, "fd_close", 10)
			call(context.Background(), mod, "fd_renumber", 63, 10)
		case 3:
			call(context.Background(), mod, "fd_renumber", uint64(i%60+4), uint64((i*7)%60+4))
		}
	}
	held := fds() - before
	t.Logf("highest fd %d, host holds %d more descriptors", maxSeen, held)
	require.Less(t, maxSeen, uint32(maxFD))
	require.LessOrEqual(t, held, maxFD)
}
