//go:build race

package hostile

// raceEnabled: the race detector slows the host side of the runtimes
// (wazero's Go code, memory growth, logging) several times.
const raceEnabled = true
