// Package hostile is the hostile-plugin suite: guests written as a hostile
// plugin author would write them, each with the outcome the host must get.
// Its test (hostile_test.go) runs every guest through its runtime and
// checks that the stage (load or call) ends within its deadline plus a
// margin (100 ms for Wasm, 1 s for process plugins), that the host's memory
// stays bounded, that the error is of the right typed kind, and that what
// the runtimes log of it cannot drive a terminal.
//
// The table, [Guests], is the seam for the layers above the runtimes: a
// chain or host test can load each guest with [Guest.Load], put it in a
// chain, and check what codex receives and what the audit record says.
//
// The guests:
//
//   - testdata/wat/*.wat: hand-written WebAssembly, one misbehaviour each
//     (built by `make testdata`; the header of each file says what it does
//     and what the host must do);
//   - compile bombs generated in Go (bombs.go): too many blocks, loops or
//     locals, too large a module;
//   - testdata/goguest: one Go program built with sdk-guest, both as a
//     Wasm guest and as a process plugin; its settings ("mode") pick what
//     configure or an approval does, and for a process plugin the
//     CODEXHOST_HOSTILE environment variable what it does before its
//     handshake.
package hostile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/process"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// A Runtime is the runtime a guest runs in.
type Runtime uint8

const (
	Wasm Runtime = iota + 1
	Process
)

func (r Runtime) String() string {
	switch r {
	case Wasm:
		return "wasm"
	case Process:
		return "process"
	}
	return fmt.Sprintf("runtime(%d)", uint8(r))
}

// A Class is the kind of attack a guest makes.
type Class uint8

const (
	ClassLoop      Class = iota + 1 // loops forever in an entry point
	ClassSleep                      // sleeps (WASI poll_oneoff, Go time.Sleep) in an entry point
	ClassMemory                     // memory bombs
	ClassTable                      // table bombs
	ClassCompile                    // compile bombs
	ClassOutput                     // huge or malformed results
	ClassPointer                    // out-of-bounds pointers
	ClassABI                        // lies about the ABI: exports, imports, versions, manifests
	ClassLogFlood                   // codexhost.log floods
	ClassStdio                      // stdout and stderr floods
	ClassEscape                     // terminal escapes in names, reasons, logs
	ClassTrap                       // traps, panics and exits
	ClassHang                       // process plugins that hang or ignore signals
	ClassCrash                      // process plugins that crash
	ClassChildren                   // process plugins that fork children and daemons
	ClassHandshake                  // process plugins that never handshake or lie in it
)

var classNames = map[Class]string{
	ClassLoop: "infinite loops", ClassSleep: "sleeps", ClassMemory: "memory bombs", ClassTable: "table bombs",
	ClassCompile: "compile bombs", ClassOutput: "huge or malformed outputs", ClassPointer: "out-of-bounds pointers",
	ClassABI: "ABI lies", ClassLogFlood: "log floods", ClassStdio: "stdout/stderr floods",
	ClassEscape: "terminal escapes", ClassTrap: "traps, panics, exits", ClassHang: "hangs, ignored signals",
	ClassCrash: "crashes", ClassChildren: "children and daemons", ClassHandshake: "handshake failures and lies",
}

func (c Class) String() string {
	if s, ok := classNames[c]; ok {
		return s
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// A Stage is where a guest's misbehaviour shows: at load or at a call.
type Stage uint8

const (
	AtLoad Stage = iota + 1
	AtCall
)

// Want is the outcome the host must get from a guest.
type Want struct {
	// Kind: the stage fails with a *plugins.CallError of this kind (at
	// load, the failed start of the first instance or process unwraps to
	// one, for Wasm). Zero: see Err.
	Kind plugins.FailureKind
	// Err: the stage fails with an error matching Err (errors.Is). With
	// Kind zero and Err nil the stage succeeds (the host contained the
	// guest: it dropped its output, refused its grow...).
	Err error
	// AnyError: the stage fails, in no particular way (a process plugin
	// that breaks the handshake).
	AnyError bool
	// ABIError: the plugin's own *abi.Error (sdk-guest turns a panic into
	// one).
	ABIError bool
}

func (w Want) String() string {
	switch {
	case w.Kind != 0:
		return "fails: " + w.Kind.String()
	case w.Err != nil:
		return "fails: " + w.Err.Error()
	case w.AnyError:
		return "fails"
	case w.ABIError:
		return "plugin error"
	}
	return "succeeds"
}

// A Guest is a hostile plugin and the outcome the host must get from it.
type Guest struct {
	Name    string
	Class   Class
	Runtime Runtime
	Stage   Stage
	Want    Want
	// Deadline is the deadline of the stage: the load's context deadline
	// (AtLoad; for a process plugin also its StartTimeout), or the call
	// timeout (AtCall).
	Deadline time.Duration

	// The guest's source: a WAT file (testdata/wat/WAT.wat), a generated
	// module, or the Go guest (testdata/goguest) with Settings and Env.
	WAT      string
	Generate func() []byte
	Go       bool
	Settings map[string]any
	Env      []string // process plugins: their environment

	// Request is the approval request of the call; nil: a small one.
	Request *abi.ApprovalRequest
	// MaxResultBytes, if set, is the plugin's result limit.
	MaxResultBytes int
	// KnownLimit, if set, says why the guest is bounded by a limit of
	// wazero's rather than the host's deadline: the suite then checks
	// only that it ends, with the outcome wanted, within Deadline.
	KnownLimit string
	// MaxRSSGrowth bounds the growth of the host's peak RSS while the
	// guest runs; 0: 100 MiB.
	MaxRSSGrowth int64
	// Calls is the number of calls the stage makes (default 1): the
	// outcome is that of the last one.
	Calls int
	// Children: the guest starts a child and writes its pid to the file
	// named by the "pidFile" setting. Escapes: that child escapes the
	// host's kill (a double-forked daemon; see docs/security.md).
	Children, Escapes bool

	module []byte // set by Prepare
}

// Deadlines of the suite.
const (
	// WasmCall bounds a Wasm guest's call; WasmLoad its load.
	WasmCall = 300 * time.Millisecond
	WasmLoad = 500 * time.Millisecond
	// GoWasmLoad bounds the load of a Go Wasm guest (its runtime starts
	// in a few ms, but in hundreds under the race detector).
	GoWasmLoad = 2 * time.Second
	// ProcessCall bounds a process plugin's call, ProcessLoad its load
	// (and its StartTimeout).
	ProcessCall = 500 * time.Millisecond
	ProcessLoad = 2 * time.Second
	// FloodCall bounds the calls that flood the host with output or
	// allocate to the limit: they must finish, and are slow under the
	// race detector.
	FloodCall = 5 * time.Second
	// WasmMargin and ProcessMargin are how far past its deadline a stage
	// may end.
	WasmMargin    = 100 * time.Millisecond
	ProcessMargin = time.Second
)

// Margin is how far past its deadline the guest's stage may end.
func (g *Guest) Margin() time.Duration {
	if g.Runtime == Process {
		return ProcessMargin
	}
	return WasmMargin
}

// RaceMargin is Margin under the race detector, which slows the host side
// of the runtimes several times (measured: stopping a Go guest and
// releasing its instance took up to 500 ms past the deadline on a loaded
// 2-core machine). The suite asserts it when built with -race, Margin
// otherwise.
//
// With one P (GOMAXPROCS=1, as go test -cpu=1 sets) a spinning guest
// gives its P back only when the Go scheduler preempts it at wazero's
// loop-header check, which is a call into Go; under the race detector on a
// loaded machine that has taken up to 3 s. The margin is then 5 s.
func (g *Guest) RaceMargin() time.Duration {
	if runtime.GOMAXPROCS(0) == 1 {
		return 5 * time.Second
	}
	if g.Runtime == Process {
		return ProcessMargin + time.Second
	}
	return WasmMargin + 600*time.Millisecond
}

// dir is the directory of this package's source.
func dir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "", errors.New("hostile: cannot find the suite's source (built with -trimpath?)")
	}
	return filepath.Dir(file), nil
}

// Setup is what loading the guests needs.
type Setup struct {
	// Wasm is the runtime of the Wasm guests.
	Wasm *wasm.Runtime
	// Logger receives the plugins' logs.
	Logger *slog.Logger
	// TempDir holds the guests' pid and marker files.
	TempDir string
}

// Module returns the Wasm module of a Wasm guest: built from its WAT file
// or Go source, or generated.
func (g *Guest) Module() ([]byte, error) {
	d, err := dir()
	if err != nil {
		return nil, err
	}
	switch {
	case g.Generate != nil:
		return g.Generate(), nil
	case g.WAT != "":
		return plugintest.WAT(filepath.Join(d, "testdata", "wat", g.WAT+".wat"))
	case g.Go:
		return plugintest.GoGuest(filepath.Join(d, "testdata", "goguest"))
	}
	return nil, fmt.Errorf("hostile: guest %s has no module", g.Name)
}

// Binary returns the path of the process guest's binary, built once.
func Binary() (string, error) {
	d, err := dir()
	if err != nil {
		return "", err
	}
	return plugintest.ProcessGuest(filepath.Join(d, "testdata", "goguest"))
}

// settings returns the guest's settings JSON, with its pid file (if it
// starts children) and marker under tmp.
func (g *Guest) settings(tmp string) (json.RawMessage, error) {
	if g.Settings == nil {
		return nil, nil
	}
	s := map[string]any{}
	for k, v := range g.Settings {
		s[k] = v
	}
	if g.Children {
		s["pidFile"] = g.PidFile(tmp)
	}
	if _, ok := s["marker"]; ok {
		s["marker"] = filepath.Join(tmp, g.Name+".marker")
	}
	return json.Marshal(s)
}

// PidFile is the file a guest that starts a child writes its pid to.
func (g *Guest) PidFile(tmp string) string { return filepath.Join(tmp, g.Name+".pid") }

// Prepare builds the guest's module or binary, so that Load does no more
// than load it.
func (g *Guest) Prepare() error {
	if g.Runtime == Process {
		_, err := Binary()
		return err
	}
	m, err := g.Module()
	g.module = m
	return err
}

// Load loads the guest as its Stage needs: for AtLoad under a context with
// the guest's Deadline (and, for a process plugin, that StartTimeout), for
// AtCall with the guest's Deadline as the call timeout.
func (g *Guest) Load(ctx context.Context, s *Setup) (plugins.Plugin, error) {
	settings, err := g.settings(s.TempDir)
	if err != nil {
		return nil, err
	}
	o := plugins.Options{Settings: settings, MaxResultBytes: g.MaxResultBytes}
	if g.Stage == AtCall {
		o.Timeout = g.Deadline
	}
	if g.Stage == AtLoad {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.Deadline)
		defer cancel()
	}
	switch g.Runtime {
	case Wasm:
		m := g.module
		if m == nil {
			if m, err = g.Module(); err != nil {
				return nil, err
			}
		}
		p, err := s.Wasm.Load(ctx, m, &wasm.Options{Options: o, Logger: s.Logger, Name: g.Name})
		if err != nil {
			return nil, err
		}
		return p, nil
	case Process:
		bin, err := Binary()
		if err != nil {
			return nil, err
		}
		env := append([]string(nil), g.Env...)
		if m, ok := g.Settings["marker"]; ok && m != nil {
			env = append(env, "CODEXHOST_HOSTILE_MARKER="+filepath.Join(s.TempDir, g.Name+".marker"))
		}
		po := &process.Options{Options: o, Env: env, Logger: s.Logger, MaxRestarts: 100}
		if g.Stage == AtLoad {
			po.StartTimeout = g.Deadline
		} else {
			po.StartTimeout = ProcessLoad
		}
		p, err := process.Load(ctx, bin, po)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	return nil, fmt.Errorf("hostile: guest %s: unknown runtime %v", g.Name, g.Runtime)
}

// Call makes the guest's call: an approval request, decoded as the host
// decodes it, under a caller's deadline of the guest's Deadline (which
// bounds a process plugin's restart, as the call timeout bounds the call).
func (g *Guest) Call(ctx context.Context, p plugins.Plugin) (*abi.ApprovalResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, g.Deadline)
	defer cancel()
	req := g.Request
	if req == nil {
		req = &abi.ApprovalRequest{Kind: abi.ApprovalCommand, ThreadID: "thr-hostile", Command: "git status"}
	}
	return plugins.Call[abi.ApprovalResponse](ctx, p, abi.HookApproval, req)
}

// Check reports whether err is the outcome g wants, and if not why.
func (g *Guest) Check(err error) error {
	w := g.Want
	switch {
	case w.Kind != 0:
		var ce *plugins.CallError
		if !errors.As(err, &ce) {
			return fmt.Errorf("want a *plugins.CallError of kind %v, got %v", w.Kind, err)
		}
		if ce.Kind != w.Kind {
			return fmt.Errorf("want kind %v, got %v: %v", w.Kind, ce.Kind, err)
		}
		if w.Kind == plugins.FailTimeout && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("a timeout must match context.DeadlineExceeded: %v", err)
		}
	case w.Err != nil:
		if !errors.Is(err, w.Err) {
			return fmt.Errorf("want an error matching %q, got %v", w.Err, err)
		}
	case w.AnyError:
		if err == nil {
			return errors.New("want an error, got none")
		}
	case w.ABIError:
		var ae *abi.Error
		if !errors.As(err, &ae) {
			return fmt.Errorf("want an *abi.Error, got %v", err)
		}
	default:
		if err != nil {
			return fmt.Errorf("want success, got %v", err)
		}
	}
	return nil
}
