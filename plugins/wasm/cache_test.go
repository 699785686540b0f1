package wasm_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// The tests of this file are review 16's: the compilation cache as an
// attack surface, and a module of many functions.

// cacheWAT is a minimal plugin that answers every approval with the
// answer at ANSWER: 528 declines, 600 accepts.
const cacheWAT = `(module
  (memory (export "memory") 1)
  (data (i32.const 16) "\00{\"name\":\"adv\",\"version\":\"1.0.0\",\"abi\":1,\"hooks\":[\"approval\"]}")
  (data (i32.const 512) "\00")
  (data (i32.const 528) "\00{\"decision\":\"decline\"}")
  (data (i32.const 600) "\00{\"decision\":\"accept\"} ")
  (global $next (mut i32) (i32.const 1024))
  (func (export "codexhost_abi_version") (result i32) (i32.const 1))
  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))
  (func (export "codexhost_alloc") (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $size)))
    (drop (memory.grow (i32.add (i32.shr_u (local.get $size) (i32.const 16)) (i32.const 1))))
    (local.get $ptr))
  (func (export "codexhost_free") (param i32))
  (func (export "codexhost_describe") (result i64) (call $pack (i32.const 16) (i32.const 62)))
  (func (export "codexhost_configure") (param i32 i32) (result i64) (call $pack (i32.const 512) (i32.const 1)))
  (func (export "codexhost_handle") (param i32 i32 i32) (result i64)
    (call $pack (i32.const ANSWER) (i32.const 23)))
)`

func cacheModule(t *testing.T, answer string) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.wat")
	require.NoError(t, os.WriteFile(p, []byte(strings.Replace(cacheWAT, "ANSWER", answer, 1)), 0o644))
	return plugintest.BuildWAT(t, p)
}

// cacheEntries lists the compiled modules in a cache directory.
func cacheEntries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "loads" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			out = append(out, p)
		}
		return nil
	}))
	return out
}

func precompileInto(t *testing.T, dir string, wasmBytes []byte) string {
	t.Helper()
	ctx := context.Background()
	rt, err := wasm.NewRuntime(ctx, &wasm.RuntimeOptions{CacheDir: dir})
	require.NoError(t, err)
	require.NoError(t, rt.Precompile(ctx, wasmBytes))
	require.NoError(t, rt.Close(ctx))
	es := cacheEntries(t, dir)
	require.Len(t, es, 1)
	return es[0]
}

// Who can write the compilation cache can change the machine code that
// runs: a directory of another user's, or one others may write, is not
// used (the runtime caches in memory), and nothing is written to it.
func TestCompileCacheMustBeTheUsersOwn(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "wazero")
	require.NoError(t, os.Mkdir(dir, 0o700))
	require.NoError(t, os.Chmod(dir, 0o777))
	rt, err := wasm.NewRuntime(ctx, &wasm.RuntimeOptions{CacheDir: dir})
	require.NoError(t, err)
	p, err := rt.Load(ctx, cacheModule(t, "528"), nil)
	require.NoError(t, err)
	require.NoError(t, p.Close(ctx))
	require.NoError(t, rt.Close(ctx))
	assert.Empty(t, cacheEntries(t, dir), "compiled code cached in a directory anyone can write")

	if os.Getuid() == 0 { // another user's, though not writable by others
		other := filepath.Join(t.TempDir(), "wazero")
		require.NoError(t, os.Mkdir(other, 0o755))
		require.NoError(t, os.Chown(other, 65534, 65534))
		rt, err := wasm.NewRuntime(ctx, &wasm.RuntimeOptions{CacheDir: other})
		require.NoError(t, err)
		p, err := rt.Load(ctx, cacheModule(t, "528"), &wasm.Options{Lazy: true})
		require.NoError(t, err)
		require.NoError(t, p.Close(ctx))
		require.NoError(t, rt.Close(ctx))
		assert.Empty(t, cacheEntries(t, other))
		_, err = os.Stat(filepath.Join(other, "loads"))
		assert.ErrorIs(t, err, fs.ErrNotExist, "a load record in another user's directory")
	}
}

// A FIFO planted as a cache entry blocked the compilation reading it (and
// Runtime.Close, which waits for compilations, for ever). One there when
// the runtime starts is removed; one planted later blocks only the loads
// that need it, each bounded by its context, and Close returns by its
// deadline, saying the runtime is left open.
func TestCompileCacheFIFO(t *testing.T) {
	ctx := context.Background()
	mod := cacheModule(t, "528")
	dir := t.TempDir()
	entry := precompileInto(t, dir, mod)
	require.NoError(t, os.Remove(entry))
	require.NoError(t, syscall.Mkfifo(entry, 0o600))

	rt, err := wasm.NewRuntime(ctx, &wasm.RuntimeOptions{CacheDir: dir})
	require.NoError(t, err)
	p, err := rt.Load(ctx, mod, nil)
	require.NoError(t, err, "the FIFO was removed: the module compiles")
	out, err := p.Call(ctx, abi.HookApproval, []byte(`{}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"decision":"decline"}`, string(out))
	require.NoError(t, rt.Close(ctx))

	// Planted after the start.
	entry = cacheEntries(t, dir)[0]
	rt, err = wasm.NewRuntime(ctx, &wasm.RuntimeOptions{CacheDir: dir})
	require.NoError(t, err)
	require.NoError(t, os.Remove(entry))
	require.NoError(t, syscall.Mkfifo(entry, 0o600))
	t.Cleanup(func() { // unblock the abandoned compilation
		if f, err := os.OpenFile(entry, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			_ = f.Close()
		}
	})
	lctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = rt.Load(lctx, mod, nil)
	require.Error(t, err)
	cctx, ccancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer ccancel()
	err = rt.Close(cctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a compilation did not end by the deadline")
}

// A module of many empty functions passed every other limit: 2M of them
// in 8 MiB took 5 s and 877 MB to compile, before its exports were
// checked (review 16). Their number is bounded before compiling.
func TestManyFunctionsAreRefused(t *testing.T) {
	leb := func(b []byte, v uint64) []byte {
		for {
			c := byte(v & 0x7f)
			if v >>= 7; v == 0 {
				return append(b, c)
			}
			b = append(b, c|0x80)
		}
	}
	section := func(b []byte, id byte, body []byte) []byte {
		return append(leb(append(b, id), uint64(len(body))), body...)
	}
	const n = 2 << 20
	b := section([]byte("\x00asm\x01\x00\x00\x00"), 1, []byte{1, 0x60, 0, 0})
	b = section(b, 3, append(leb(nil, n), make([]byte, n)...))
	code := leb(nil, n)
	for range n {
		code = append(code, 2, 0, 0x0b)
	}
	b = section(b, 10, code)

	ctx := context.Background()
	rt, err := wasm.NewRuntime(ctx, &wasm.RuntimeOptions{CacheDir: t.TempDir()})
	require.NoError(t, err)
	defer rt.Close(ctx)
	_, err = rt.Load(ctx, b, nil)
	require.ErrorIs(t, err, plugins.ErrLimits)
	assert.Contains(t, err.Error(), "functions")
}
