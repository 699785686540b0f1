package benchmarks

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host/internal/benchmarks/policy"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/process"
	"github.com/codexhost/codexhost/plugins/wasm"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

// envSmoke, when set, shrinks every benchmark to a smoke run that checks
// it still works (make test runs them all once with -benchtime 1x): a
// stream of 2000 deltas, 8 threads with 2 approvals each, a WebAssembly
// text guest for the load figure, no warm-up turns.
const envSmoke = "CODEXHOST_BENCH_SMOKE"

var smoke = os.Getenv(envSmoke) != ""

// envChild names what the test binary does when it is re-executed as a
// child process (a fake app-server, a memory probe) instead of running
// tests.
const envChild = "CODEXHOST_BENCH_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		os.Exit(child(mode))
	}
	code := m.Run()
	closeShared()
	os.Exit(code)
}

// child runs the test binary as the child process named by mode.
func child(mode string) int {
	switch mode {
	case "memory":
		return memoryChild()
	case "replay":
		fixedTurnID = replayTurnID
		return fakeAppServer(replayTurn)
	case "stream":
		fixedTurnID = replayTurnID
		return fakeAppServer(streamTurn)
	case "stalled":
		return stalledChild()
	case "firstturn":
		return firstTurnChild()
	case "threads":
		b, err := os.ReadFile(os.Getenv(envApprovalFile))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		approvalParams = b
		return fakeAppServer(threadsTurn)
	default:
		fmt.Fprintf(os.Stderr, "benchmarks: unknown child mode %q\n", mode)
		return 2
	}
}

// The guests the benchmarks load, by source directory (relative to this
// package).
var (
	policyGuest   = "guests/policy"
	execRenderDir = filepath.Join("..", "..", "..", "examples", "execrender")
	rulesDir      = filepath.Join("..", "..", "..", "plugins", "rules", "cmd", "rules-policy")
	toolDir       = filepath.Join("..", "..", "..", "examples", "tool")
)

var shared struct {
	once sync.Once
	rt   *wasm.Runtime
	err  error
}

// wasmRuntime returns the Wasm runtime the benchmarks share, as a host
// process shares one: it uses the default (per-user) compilation cache, so a
// guest is compiled once per machine.
func wasmRuntime(tb testing.TB) *wasm.Runtime {
	tb.Helper()
	shared.once.Do(func() { shared.rt, shared.err = wasm.NewRuntime(context.Background(), nil) })
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.rt
}

func closeShared() {
	if shared.rt != nil {
		_ = shared.rt.Close(context.Background())
	}
}

// loadWasm loads the Go guest in dir into the shared runtime, as shipped
// (default options: deadline enforced, a pool of instances), closing it
// with tb.
func loadWasm(tb testing.TB, dir string, opts *wasm.Options) *wasm.Plugin {
	tb.Helper()
	p, err := wasmRuntime(tb).Load(context.Background(), plugintest.BuildGoGuest(tb, dir), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// loadProcess builds the Go guest in dir as a process plugin and starts it.
func loadProcess(tb testing.TB, dir string) *process.Plugin {
	tb.Helper()
	p, err := process.Load(context.Background(), plugintest.BuildProcessGuest(tb, dir), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// inprocPlugin is the floor of the approval figures: the benchmarks'
// policy as an in-process Go handler behind plugins.Plugin, decoding the
// request and encoding the answer with encoding/json as a Go host would.
type inprocPlugin struct{ m abi.Manifest }

var _ plugins.Plugin = (*inprocPlugin)(nil)

func newInprocPlugin() *inprocPlugin {
	return &inprocPlugin{m: abi.Manifest{Name: "inproc-policy", ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}}}
}

func (p *inprocPlugin) Manifest() *abi.Manifest { return &p.m }

func (p *inprocPlugin) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	if hook != abi.HookApproval {
		return nil, &abi.Error{Code: abi.CodeUnsupportedHook, Message: hook.String()}
	}
	var r abi.ApprovalRequest
	if err := json.Unmarshal(req, &r); err != nil {
		return nil, &abi.Error{Code: abi.CodeBadRequest, Message: err.Error()}
	}
	resp, err := policy.Decide(ctx, &r)
	if err != nil {
		return nil, err
	}
	return json.Marshal(resp)
}

func (p *inprocPlugin) Close(context.Context) error { return nil }

// sdkPlugin runs the policy through sdk-guest's Handle in the host
// process: the guest's own code (its reflection-free codec included),
// compiled natively. It shows what the sandbox costs for the very same
// code.
type sdkPlugin struct{ m abi.Manifest }

func init() {
	guest.Info("sdk-policy", "1.0.0", "the benchmark policy through sdk-guest, in process")
	guest.OnApproval(policy.Decide)
}

func newSDKPlugin() *sdkPlugin { return &sdkPlugin{m: guest.Manifest()} }

func (p *sdkPlugin) Manifest() *abi.Manifest { return &p.m }

func (p *sdkPlugin) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	st, out := guest.Handle(ctx, hook, req)
	if st != abi.StatusOK {
		ae := &abi.Error{}
		if err := json.Unmarshal(out, ae); err != nil {
			return nil, err
		}
		return nil, ae
	}
	return out, nil
}

func (p *sdkPlugin) Close(context.Context) error { return nil }

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
