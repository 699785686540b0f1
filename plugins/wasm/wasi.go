package wasm

import (
	"context"
	"errors"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// The WASI functions a guest gets: wazero's, except two whose cost grows
// with a length the guest chooses, up to its whole linear memory, in one
// host call that the call deadline cannot interrupt (wazero checks the
// context between guest instructions, not inside host functions). With a
// memory limit raised to 4 GiB, one random_get of all of it took seconds
// past the deadline (review, round 11). They are wrapped:
//
//   - random_get fills the buffer in chunks of randomChunk bytes and stops
//     with EIO once the call's context is done; the guest is then closed
//     at its next instruction, as for any call that overruns.
//   - poll_oneoff refuses more than maxPollSubscriptions subscriptions
//     with EINVAL before reading any. Go's runtime polls one clock and one
//     subscription per waiting file descriptor; a plugin has three.
//
// Both keep wazero's own code for what they do accept.

const (
	randomChunk          = 64 << 10
	maxPollSubscriptions = 1024
	// WASI errno values (wasi_snapshot_preview1's errno enum).
	errnoInval = 28
	errnoIO    = 29
)

// instantiateWASI instantiates wasi_snapshot_preview1 into r with the two
// wrapped functions.
func instantiateWASI(ctx context.Context, r wazero.Runtime) error {
	randomGet, pollOneoff, err := wazeroWASI(ctx, r)
	if err != nil {
		return err
	}
	b := r.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	i32 := api.ValueTypeI32
	b.NewFunctionBuilder().
		WithGoModuleFunction(boundedRandomGet(randomGet), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		WithParameterNames("buf", "buf_len").WithResultNames("errno").
		Export("random_get")
	b.NewFunctionBuilder().
		WithGoModuleFunction(boundedPollOneoff(pollOneoff), []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}).
		WithParameterNames("in", "out", "nsubscriptions", "result.nevents").WithResultNames("errno").
		Export("poll_oneoff")
	_, err = b.Instantiate(ctx)
	return err
}

// wazeroWASI returns wazero's own random_get and poll_oneoff, taken from
// a compiled copy of its WASI module (never instantiated).
func wazeroWASI(ctx context.Context, r wazero.Runtime) (randomGet, pollOneoff api.GoModuleFunction, err error) {
	orig := r.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(orig)
	cm, err := orig.Compile(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer cm.Close(ctx)
	defs := cm.ExportedFunctions()
	randomGet, ok1 := defs["random_get"].GoFunction().(api.GoModuleFunction)
	pollOneoff, ok2 := defs["poll_oneoff"].GoFunction().(api.GoModuleFunction)
	if !ok1 || !ok2 {
		return nil, nil, errors.New("wazero's random_get or poll_oneoff is not a Go module function")
	}
	return randomGet, pollOneoff, nil
}

// boundedRandomGet calls random_get on at most randomChunk bytes at a
// time, and stops when ctx is done.
func boundedRandomGet(orig api.GoModuleFunction) api.GoModuleFunction {
	return api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
		buf, n := uint32(stack[0]), uint32(stack[1])
		for {
			chunk := min(n, randomChunk)
			stack[0], stack[1] = uint64(buf), uint64(chunk)
			orig.Call(ctx, mod, stack)
			if stack[0] != 0 || n == chunk {
				return // an error (EFAULT, EIO), or done
			}
			buf, n = buf+chunk, n-chunk
			if ctx.Err() != nil {
				stack[0] = errnoIO
				return
			}
		}
	})
}

// boundedPollOneoff refuses more than maxPollSubscriptions subscriptions.
func boundedPollOneoff(orig api.GoModuleFunction) api.GoModuleFunction {
	return api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
		if uint32(stack[2]) > maxPollSubscriptions {
			stack[0] = errnoInval
			return
		}
		orig.Call(ctx, mod, stack)
	})
}
