package plugins

import (
	"errors"
	"fmt"
	"time"

	"github.com/codexhost/codexhost/abi"
)

// ErrLimits: the plugin asks for more resources (abi.Manifest.Limits)
// than the operator's limits allow.
var ErrLimits = errors.New("plugins: plugin needs more than its limits allow")

// CheckLimits compares the manifest's Limits (what the plugin says it
// needs) with the operator's: memoryPages, the Wasm memory limit in 64 KiB
// pages (0: the runtime has none, the request is not checked), and timeout,
// the per-call deadline. It never raises a limit.
//
// # Errors
//
//   - ErrLimits, naming what the plugin asks for and what is allowed.
func CheckLimits(m *abi.Manifest, memoryPages uint32, timeout time.Duration) error {
	l := m.Limits
	if memoryPages > 0 && l.MemoryPages > memoryPages {
		return fmt.Errorf("%w: plugin %q needs %d MiB of memory, the limit is %d MiB; raise the memory limit or do not load the plugin",
			ErrLimits, m.Name, uint64(l.MemoryPages)*65536>>20, uint64(memoryPages)*65536>>20)
	}
	if need := time.Duration(l.TimeoutMillis) * time.Millisecond; need > timeout {
		return fmt.Errorf("%w: plugin %q needs up to %v per call, the timeout is %v; raise the timeout or do not load the plugin",
			ErrLimits, m.Name, need, timeout)
	}
	return nil
}
