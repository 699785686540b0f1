package hostile

import (
	"context"
	"strings"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
)

// bigRequest is larger than a guest's first input buffer (4 KiB): the host
// frees it and allocates a larger one.
var bigRequest = &abi.ApprovalRequest{Kind: abi.ApprovalCommand, ThreadID: "thr-hostile", Command: "echo " + strings.Repeat("a", 10000)}

// Guests returns the suite's guests. Each call returns a fresh slice.
func Guests() []Guest {
	var gs []Guest
	for _, g := range watGuests() {
		g.Runtime, g.WAT = Wasm, g.Name
		gs = append(gs, g)
	}
	for _, g := range bombGuests() {
		g.Runtime, g.Class, g.Stage = Wasm, ClassCompile, AtLoad
		gs = append(gs, g)
	}
	for _, g := range goWasmGuests() {
		g.Runtime, g.Go = Wasm, true
		if g.Deadline == 0 {
			g.Deadline = WasmCall
		}
		gs = append(gs, g)
	}
	for _, g := range processGuests() {
		g.Runtime, g.Go = Process, true
		if g.Deadline == 0 {
			g.Deadline = ProcessCall
			if g.Stage == AtLoad {
				g.Deadline = ProcessLoad
			}
		}
		if g.Settings == nil {
			g.Settings = map[string]any{"mode": ""}
		}
		gs = append(gs, g)
	}
	return gs
}

// watGuests are the hand-written WebAssembly guests, testdata/wat/NAME.wat.
func watGuests() []Guest {
	return []Guest{
		{Name: "abi-command", Class: ClassABI, Stage: AtLoad, Want: Want{Err: plugins.ErrBadModule}, Deadline: WasmLoad},                           // is a WASI command (exports _start)
		{Name: "abi-import-memory", Class: ClassABI, Stage: AtLoad, Want: Want{Err: plugins.ErrBadModule}, Deadline: WasmLoad},                     // imports its memory
		{Name: "abi-import-unknown", Class: ClassABI, Stage: AtLoad, Want: Want{Err: plugins.ErrBadModule}, Deadline: WasmLoad},                    // imports env.foo
		{Name: "abi-log-signature", Class: ClassABI, Stage: AtLoad, Want: Want{Err: plugins.ErrBadModule}, Deadline: WasmLoad},                     // imports codexhost.log with the wrong signature
		{Name: "abi-manifest-abi-2", Class: ClassABI, Stage: AtLoad, Want: Want{Err: plugins.ErrIncompatibleABI}, Deadline: WasmLoad},              // its manifest says ABI 2
		{Name: "abi-manifest-network", Class: ClassABI, Stage: AtLoad, Want: Want{Err: plugins.ErrNotGranted}, Deadline: WasmLoad},                 // its manifest asks for the network
		{Name: "abi-manifest-no-hooks", Class: ClassABI, Stage: AtLoad, Want: Want{Err: plugins.ErrBadManifest}, Deadline: WasmLoad},               // its manifest lists no hook
		{Name: "abi-missing-handle", Class: ClassABI, Stage: AtLoad, Want: Want{Err: plugins.ErrBadModule}, Deadline: WasmLoad},                    // exports no codexhost_handle
		{Name: "abi-no-memory", Class: ClassABI, Stage: AtLoad, Want: Want{Err: plugins.ErrBadModule}, Deadline: WasmLoad},                         // exports no memory
		{Name: "abi-version-99", Class: ClassABI, Stage: AtLoad, Want: Want{Err: plugins.ErrIncompatibleABI}, Deadline: WasmLoad},                  // says it speaks ABI v99
		{Name: "abi-wasi-unknown", Class: ClassABI, Stage: AtLoad, Want: Want{Err: plugins.ErrBadModule}, Deadline: WasmLoad},                      // imports a WASI function that does not exist
		{Name: "abi-wrong-signature", Class: ClassABI, Stage: AtLoad, Want: Want{Err: plugins.ErrBadModule}, Deadline: WasmLoad},                   // exports codexhost_handle returning i32
		{Name: "alloc-oob", Class: ClassPointer, Stage: AtLoad, Want: Want{Kind: plugins.FailBadOutput}, Deadline: WasmLoad},                       // codexhost_alloc returns a buffer outside its memory
		{Name: "alloc-zero", Class: ClassPointer, Stage: AtLoad, Want: Want{Kind: plugins.FailMemory}, Deadline: WasmLoad},                         // codexhost_alloc returns 0 (cannot allocate)
		{Name: "configure-oob", Class: ClassOutput, Stage: AtLoad, Want: Want{Kind: plugins.FailBadOutput}, Deadline: WasmLoad},                    // answers configure with a result outside its memory
		{Name: "describe-huge", Class: ClassOutput, Stage: AtLoad, Want: Want{Kind: plugins.FailTooLarge}, Deadline: WasmLoad},                     // describes itself with a manifest of 1 GiB
		{Name: "describe-not-json", Class: ClassOutput, Stage: AtLoad, Want: Want{Err: plugins.ErrBadManifest}, Deadline: WasmLoad},                // describes itself with a manifest that is not JSON
		{Name: "describe-oob", Class: ClassOutput, Stage: AtLoad, Want: Want{Kind: plugins.FailBadOutput}, Deadline: WasmLoad},                     // describes itself with a manifest outside its memory
		{Name: "div-zero-handle", Class: ClassTrap, Stage: AtCall, Want: Want{Kind: plugins.FailTrap}, Deadline: WasmCall},                         // divides by zero
		{Name: "escape-log", Class: ClassEscape, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                                                  // logs a line of terminal escapes (OSC title, hyperlink, clear screen, CR, C1, bidi)
		{Name: "escape-name", Class: ClassEscape, Stage: AtLoad, Want: Want{Err: plugins.ErrBadManifest}, Deadline: WasmLoad},                      // names itself with terminal escapes: refused, the name shown escaped
		{Name: "escape-reason", Class: ClassEscape, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                                               // declines with a reason full of terminal escapes
		{Name: "escape-stdout", Class: ClassEscape, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                                               // writes terminal escapes to stdout and stderr
		{Name: "exit-handle", Class: ClassTrap, Stage: AtCall, Want: Want{Kind: plugins.FailTrap}, Deadline: WasmCall},                             // calls proc_exit(0) in codexhost_handle
		{Name: "exit-init", Class: ClassTrap, Stage: AtLoad, Want: Want{Kind: plugins.FailTrap}, Deadline: WasmLoad},                               // calls proc_exit(1) in _initialize
		{Name: "fd-write-oob", Class: ClassPointer, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                                               // writes to stdout from an iovec outside its memory
		{Name: "grow-handle", Class: ClassMemory, Stage: AtCall, Want: Want{Kind: plugins.FailMemory}, Deadline: WasmCall},                         // grows its memory by 65535 pages (4 GiB) at once; traps if refused
		{Name: "grow-init", Class: ClassMemory, Stage: AtLoad, Want: Want{Kind: plugins.FailMemory}, Deadline: FloodCall},                          // grows its memory until refused in _initialize, then traps
		{Name: "grow-loop-handle", Class: ClassMemory, Stage: AtCall, Want: Want{Kind: plugins.FailMemory}, Deadline: FloodCall},                   // grows its memory 16 pages at a time until refused, then traps
		{Name: "grow-within-limit", Class: ClassMemory, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                                           // grows 100 pages (6.4 MiB), writes to them, answers
		{Name: "indirect-null-handle", Class: ClassTrap, Stage: AtCall, Want: Want{Kind: plugins.FailTrap}, Deadline: WasmCall},                    // calls through a null table entry
		{Name: "log-flood-every-level", Class: ClassLogFlood, Stage: AtCall, Want: Want{}, Deadline: FloodCall},                                    // logs 1 million lines at every level
		{Name: "log-flood-handle", Class: ClassLogFlood, Stage: AtCall, Want: Want{}, Deadline: FloodCall},                                         // logs 1 million lines of 16 bytes
		{Name: "log-flood-init", Class: ClassLogFlood, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                                            // logs 1 million lines in _initialize
		{Name: "log-len-huge", Class: ClassPointer, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                                               // logs a line of 4 GiB
		{Name: "log-level-bogus", Class: ClassPointer, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                                            // logs at level -2147483648
		{Name: "log-long-lines", Class: ClassLogFlood, Stage: AtCall, Want: Want{}, Deadline: FloodCall},                                           // logs 10000 lines of 64 KiB
		{Name: "log-oob", Class: ClassPointer, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                                                    // logs a line outside its memory
		{Name: "loop-alloc-call", Class: ClassLoop, Stage: AtCall, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmCall, Request: bigRequest}, // loops in codexhost_alloc when asked for more than 4 KiB (a large request)
		{Name: "log-then-sleep-handle", Class: ClassSleep, Stage: AtCall, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmCall},               // logs at ERROR, then sleeps (cmd/codexhost's stopping tests use it)
		{Name: "loop-alloc", Class: ClassLoop, Stage: AtLoad, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmLoad},                           // loops forever in codexhost_alloc
		{Name: "loop-calls-handle", Class: ClassLoop, Stage: AtCall, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmCall},                    // loops forever calling a function
		{Name: "loop-configure", Class: ClassLoop, Stage: AtLoad, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmLoad},                       // loops forever in codexhost_configure
		{Name: "loop-describe", Class: ClassLoop, Stage: AtLoad, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmLoad},                        // loops forever in codexhost_describe
		{Name: "loop-free", Class: ClassLoop, Stage: AtCall, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmCall, Request: bigRequest},       // loops forever in codexhost_free (called when a large request replaces the input buffer)
		{Name: "loop-handle", Class: ClassLoop, Stage: AtCall, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmCall},                          // loops forever in codexhost_handle
		{Name: "loop-init", Class: ClassLoop, Stage: AtLoad, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmLoad},                            // loops forever in _initialize
		{Name: "loop-version", Class: ClassLoop, Stage: AtLoad, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmLoad},                         // loops forever in codexhost_abi_version
		{Name: "memory-max-declared", Class: ClassMemory, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                                         // declares a 4 GiB maximum but uses one page
		{Name: "memory-min-huge", Class: ClassMemory, Stage: AtLoad, Want: Want{Err: plugins.ErrBadModule}, Deadline: WasmLoad},                    // declares a memory of 60000 pages (3.7 GiB) minimum
		{Name: "poll-oob", Class: ClassPointer, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                                                   // polls with subscriptions outside its memory
		{Name: "poll-stdin-handle", Class: ClassSleep, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                                            // polls stdin with a 4.9 h clock: stdin is always ready (empty)
		{Name: "result-bad-status", Class: ClassOutput, Stage: AtCall, Want: Want{Kind: plugins.FailBadOutput}, Deadline: WasmCall},                // answers with status byte 7
		{Name: "result-empty", Class: ClassOutput, Stage: AtCall, Want: Want{Kind: plugins.FailBadOutput}, Deadline: WasmCall},                     // answers with an empty result (no status byte)
		{Name: "result-error-not-json", Class: ClassOutput, Stage: AtCall, Want: Want{Kind: plugins.FailBadOutput}, Deadline: WasmCall},            // answers with an error result that is not JSON
		{Name: "result-len-huge", Class: ClassOutput, Stage: AtCall, Want: Want{Kind: plugins.FailTooLarge}, Deadline: WasmCall},                   // answers with a result of 2 GiB
		{Name: "result-ok-not-json", Class: ClassOutput, Stage: AtCall, Want: Want{Kind: plugins.FailBadOutput}, Deadline: WasmCall},               // answers OK with a payload that is not JSON
		{Name: "result-oob", Class: ClassOutput, Stage: AtCall, Want: Want{Kind: plugins.FailBadOutput}, Deadline: WasmCall},                       // answers with a result far outside its memory
		{Name: "result-wraps", Class: ClassOutput, Stage: AtCall, Want: Want{Kind: plugins.FailBadOutput}, Deadline: WasmCall},                     // answers with a result that wraps around the address space
		{Name: "sleep-alloc", Class: ClassSleep, Stage: AtLoad, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmLoad},                         // sleeps in codexhost_alloc
		{Name: "sleep-configure", Class: ClassSleep, Stage: AtLoad, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmLoad},                     // sleeps in codexhost_configure
		{Name: "sleep-describe", Class: ClassSleep, Stage: AtLoad, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmLoad},                      // sleeps in codexhost_describe
		{Name: "sleep-handle", Class: ClassSleep, Stage: AtCall, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmCall},                        // sleeps in codexhost_handle
		{Name: "sleep-init", Class: ClassSleep, Stage: AtLoad, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmLoad},                          // sleeps (WASI poll_oneoff, 4.9 h) in _initialize
		{Name: "sleep-loop-handle", Class: ClassSleep, Stage: AtCall, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmCall},                   // sleeps 1 ms at a time, forever
		{Name: "sleep-two-clocks-handle", Class: ClassSleep, Stage: AtCall, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmCall},             // sleeps on two clock subscriptions at once
		{Name: "sleep-version", Class: ClassSleep, Stage: AtLoad, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmLoad},                       // sleeps in codexhost_abi_version
		// wazero lets a guest's call stack grow to 84 MiB (its own
		// ceiling, not configurable in v1.12.0), copying it as it
		// doubles: the one resource the host bounds only through wazero.
		// See docs/security.md.
		{Name: "stack-overflow-handle", Class: ClassTrap, Stage: AtCall, Want: Want{Kind: plugins.FailTrap}, Deadline: 60 * time.Second,
			MaxRSSGrowth: 320 << 20, KnownLimit: "wazero checks a deadline at loop headers only, and grows a guest's stack to 84 MiB before it traps"}, // recurses without end
		{Name: "stderr-flood-handle", Class: ClassStdio, Stage: AtCall, Want: Want{}, Deadline: FloodCall},                       // writes 1 million lines to stderr
		{Name: "stdio-flood-init", Class: ClassStdio, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                           // writes 1 million lines to stdout in _initialize
		{Name: "stdout-flood-handle", Class: ClassStdio, Stage: AtCall, Want: Want{}, Deadline: FloodCall},                       // writes 1 million lines to stdout
		{Name: "stdout-no-newline", Class: ClassStdio, Stage: AtCall, Want: Want{}, Deadline: FloodCall},                         // writes 10 MB to stdout with no newline
		{Name: "table-fill-oob", Class: ClassTable, Stage: AtCall, Want: Want{Kind: plugins.FailTrap}, Deadline: WasmCall},       // fills a table past its declared maximum
		{Name: "table-grow-externref", Class: ClassTable, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                       // grows an externref table by 100 million; traps if that worked
		{Name: "table-grow-handle", Class: ClassTable, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                          // grows a table without a maximum by 100 million elements; traps if that worked
		{Name: "table-grow-init", Class: ClassTable, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                            // grows a table by 100 million elements in _initialize; traps if that worked
		{Name: "table-grow-loop-handle", Class: ClassTable, Stage: AtCall, Want: Want{}, Deadline: WasmCall},                     // grows a table 10000 elements at a time until refused
		{Name: "table-import", Class: ClassTable, Stage: AtLoad, Want: Want{Err: plugins.ErrBadModule}, Deadline: WasmLoad},      // imports a table
		{Name: "table-many", Class: ClassTable, Stage: AtLoad, Want: Want{Err: plugins.ErrLimits}, Deadline: WasmLoad},           // declares 9 tables
		{Name: "table-max-huge", Class: ClassTable, Stage: AtLoad, Want: Want{Err: plugins.ErrLimits}, Deadline: WasmLoad},       // declares a table of 4294967295 elements maximum
		{Name: "table-min-huge", Class: ClassTable, Stage: AtLoad, Want: Want{Err: plugins.ErrLimits}, Deadline: WasmLoad},       // declares a table of 10 million elements minimum
		{Name: "trap-describe", Class: ClassTrap, Stage: AtLoad, Want: Want{Kind: plugins.FailTrap}, Deadline: WasmLoad},         // traps in codexhost_describe
		{Name: "trap-handle", Class: ClassTrap, Stage: AtCall, Want: Want{Kind: plugins.FailTrap}, Deadline: WasmCall},           // traps in codexhost_handle
		{Name: "trap-init", Class: ClassTrap, Stage: AtLoad, Want: Want{Kind: plugins.FailTrap}, Deadline: WasmLoad},             // traps in _initialize
		{Name: "yield-loop-handle", Class: ClassSleep, Stage: AtCall, Want: Want{Kind: plugins.FailTimeout}, Deadline: WasmCall}, // calls sched_yield forever
	}
}

// bombGuests are the generated compile bombs.
func bombGuests() []Guest {
	return []Guest{
		{Name: "bomb-nested-blocks", Generate: bombNestedBlocks, Want: Want{Err: plugins.ErrLimits}, Deadline: WasmLoad}, // 60000 nested blocks in one function
		{Name: "bomb-loops", Generate: bombLoops, Want: Want{Err: plugins.ErrLimits}, Deadline: WasmLoad},                // 20 functions of 3000 loops
		{Name: "bomb-br-if", Generate: bombBrIf, Want: Want{Err: plugins.ErrLimits}, Deadline: WasmLoad},                 // 20000 br_if in one function
		{Name: "bomb-locals", Generate: bombLocals, Want: Want{Err: plugins.ErrLimits}, Deadline: WasmLoad},              // 2^32 locals
		{Name: "bomb-size", Generate: bombSize, Want: Want{Err: plugins.ErrLimits}, Deadline: WasmLoad},                  // a 65 MiB module
		// As costly as the limits allow: compiled within the start
		// timeout (10 s), then refused for lacking the ABI.
		{Name: "bomb-just-under", Generate: bombJustUnder, Want: Want{Err: plugins.ErrBadModule}, Deadline: 10 * time.Second},
	}
}

func mode(m string) map[string]any { return map[string]any{"mode": m} }

// goWasmGuests are the Go guest, built for WebAssembly with sdk-guest, in
// its modes.
func goWasmGuests() []Guest {
	load := func(g Guest) Guest {
		g.Stage = AtLoad
		if g.Deadline == 0 {
			g.Deadline = GoWasmLoad
		}
		return g
	}
	call := func(g Guest) Guest {
		g.Stage = AtCall
		return g
	}
	return []Guest{
		call(Guest{Name: "go-loop", Class: ClassLoop, Settings: mode("loop"), Want: Want{Kind: plugins.FailTimeout}}),
		call(Guest{Name: "go-sleep", Class: ClassSleep, Settings: mode("sleep"), Want: Want{Kind: plugins.FailTimeout}}),
		call(Guest{Name: "go-sleep-loop", Class: ClassSleep, Settings: mode("sleep-loop"), Want: Want{Kind: plugins.FailTimeout}}),
		call(Guest{Name: "go-timer-goroutines", Class: ClassSleep, Settings: mode("timer-goroutines"), Want: Want{Kind: plugins.FailTimeout}}),
		call(Guest{Name: "go-deadlock", Class: ClassTrap, Settings: mode("deadlock"), Want: Want{Kind: plugins.FailTrap}}),
		call(Guest{Name: "go-alloc", Deadline: FloodCall, Class: ClassMemory, Settings: mode("alloc"), Want: Want{Kind: plugins.FailMemory}}),
		call(Guest{Name: "go-exit", Class: ClassTrap, Settings: mode("exit"), Want: Want{Kind: plugins.FailTrap}}),
		call(Guest{Name: "go-panic", Class: ClassTrap, Settings: mode("panic"), Want: Want{ABIError: true}}),
		call(Guest{Name: "go-big-result", Deadline: FloodCall, Class: ClassOutput, Settings: mode("big-result"), MaxResultBytes: 1 << 20, Want: Want{Kind: plugins.FailTooLarge}}),
		call(Guest{Name: "go-log-flood", Deadline: FloodCall, Class: ClassLogFlood, Settings: mode("log-flood")}),
		call(Guest{Name: "go-stdout-flood", Deadline: FloodCall, Class: ClassStdio, Settings: mode("stdout-flood")}),
		call(Guest{Name: "go-stderr-flood", Deadline: FloodCall, Class: ClassStdio, Settings: mode("stderr-flood")}),
		call(Guest{Name: "go-escape-log", Class: ClassEscape, Settings: mode("escape-log")}),
		call(Guest{Name: "go-escape-reason", Class: ClassEscape, Settings: mode("escape-reason")}),
		load(Guest{Name: "go-configure-loop", Class: ClassLoop, Settings: mode("configure-loop"), Want: Want{Kind: plugins.FailTimeout}}),
		load(Guest{Name: "go-configure-sleep", Class: ClassSleep, Settings: mode("configure-sleep"), Want: Want{Kind: plugins.FailTimeout}}),
		load(Guest{Name: "go-configure-alloc", Deadline: FloodCall, Class: ClassMemory, Settings: mode("configure-alloc"), Want: Want{Kind: plugins.FailMemory}}),
		load(Guest{Name: "go-configure-exit", Class: ClassTrap, Settings: mode("configure-exit"), Want: Want{Kind: plugins.FailTrap}}),
		load(Guest{Name: "go-configure-log-flood", Deadline: FloodCall, Class: ClassLogFlood, Settings: mode("configure-log-flood")}),
	}
}

// processGuests are the Go guest as a process plugin, in its modes and
// with its misbehaviours before the handshake.
func processGuests() []Guest {
	env := func(m string) []string { return []string{"CODEXHOST_HOSTILE=" + m} }
	deadline := Want{Err: context.DeadlineExceeded}
	return []Guest{
		{Name: "proc-loop", Class: ClassLoop, Stage: AtCall, Settings: mode("loop"), Want: Want{Kind: plugins.FailTimeout}},
		{Name: "proc-sleep", Class: ClassSleep, Stage: AtCall, Settings: mode("sleep"), Want: Want{Kind: plugins.FailTimeout}},
		{Name: "proc-deadlock", Class: ClassHang, Stage: AtCall, Settings: mode("deadlock"), Want: Want{Kind: plugins.FailTimeout}},
		{Name: "proc-exit", Class: ClassCrash, Stage: AtCall, Settings: mode("exit"), Want: Want{Kind: plugins.FailTrap}},
		{Name: "proc-panic", Class: ClassCrash, Stage: AtCall, Settings: mode("panic"), Want: Want{ABIError: true}},
		{Name: "proc-segv", Class: ClassCrash, Stage: AtCall, Settings: mode("segv"), Want: Want{Kind: plugins.FailTrap}},
		{Name: "proc-big-result", Class: ClassOutput, Stage: AtCall, Settings: mode("big-result"), MaxResultBytes: 1 << 20, Want: Want{Kind: plugins.FailTooLarge}},
		{Name: "proc-log-flood", Deadline: FloodCall, Class: ClassLogFlood, Stage: AtCall, Settings: mode("log-flood")},
		{Name: "proc-stdout-flood", Deadline: FloodCall, Class: ClassStdio, Stage: AtCall, Settings: mode("stdout-flood")},
		{Name: "proc-stderr-flood", Deadline: FloodCall, Class: ClassStdio, Stage: AtCall, Settings: mode("stderr-flood")},
		{Name: "proc-escape-log", Class: ClassEscape, Stage: AtCall, Settings: mode("escape-log")},
		{Name: "proc-escape-reason", Class: ClassEscape, Stage: AtCall, Settings: mode("escape-reason")},
		{Name: "proc-fork", Class: ClassChildren, Stage: AtCall, Settings: mode("fork"), Children: true, Want: Want{Kind: plugins.FailTimeout}},
		{Name: "proc-setsid", Class: ClassChildren, Stage: AtCall, Settings: mode("setsid"), Children: true, Want: Want{Kind: plugins.FailTimeout}},
		{Name: "proc-double-fork", Class: ClassChildren, Stage: AtCall, Settings: mode("double-fork"), Children: true, Escapes: true, Want: Want{Kind: plugins.FailTimeout}},
		{Name: "proc-ignore-signals", Class: ClassHang, Stage: AtCall, Env: env("ignore-signals"), Settings: mode("ignore-ctx"), Want: Want{Kind: plugins.FailTimeout}},
		// The first call crashes the plugin and arms its restart to hang
		// before the handshake: the second call's restart must end at
		// that call's deadline.
		{Name: "proc-restart-hangs", Class: ClassHang, Stage: AtCall, Calls: 2, Env: env("hang-if-marked"),
			Settings: map[string]any{"mode": "crash-and-arm", "marker": true}, Want: Want{Kind: plugins.FailTimeout}},

		{Name: "proc-never-handshake", Class: ClassHandshake, Stage: AtLoad, Env: env("never-handshake"), Want: deadline},
		{Name: "proc-ignore-signals-never-handshake", Class: ClassHang, Stage: AtLoad, Env: env("ignore-signals-never-handshake"), Want: deadline},
		{Name: "proc-lie-version", Class: ClassHandshake, Stage: AtLoad, Env: env("lie-version"), Want: Want{Err: plugins.ErrIncompatibleABI}},
		{Name: "proc-lie-address", Class: ClassHandshake, Stage: AtLoad, Env: env("lie-address"), Want: Want{AnyError: true}},
		{Name: "proc-lie-protocol", Class: ClassHandshake, Stage: AtLoad, Env: env("lie-protocol"), Want: Want{AnyError: true}},
		{Name: "proc-stdout-garbage", Class: ClassHandshake, Stage: AtLoad, Env: env("stdout-garbage"), Want: Want{AnyError: true}},
		{Name: "proc-panic-start", Class: ClassCrash, Stage: AtLoad, Env: env("panic-start"), Want: Want{AnyError: true}},
		{Name: "proc-segv-start", Class: ClassCrash, Stage: AtLoad, Env: env("segv-start"), Want: Want{AnyError: true}},
		{Name: "proc-exit-start", Class: ClassCrash, Stage: AtLoad, Env: env("exit-start"), Want: Want{AnyError: true}},
		{Name: "proc-stderr-flood-start", Class: ClassStdio, Stage: AtLoad, Env: env("stderr-flood-start"), Want: Want{AnyError: true}},
		{Name: "proc-escape-stderr-start", Class: ClassEscape, Stage: AtLoad, Env: env("escape-stderr-start"), Want: Want{AnyError: true}},
		{Name: "proc-configure-loop", Class: ClassLoop, Stage: AtLoad, Settings: mode("configure-loop"), Want: deadline},
		{Name: "proc-configure-sleep", Class: ClassSleep, Stage: AtLoad, Settings: mode("configure-sleep"), Want: deadline},
		{Name: "proc-configure-exit", Class: ClassCrash, Stage: AtLoad, Settings: mode("configure-exit"), Want: Want{AnyError: true}},
	}
}
