//go:build race

package wasm_test

// raceEnabled: the race detector slows wazero's compiler about 8x.
const raceEnabled = true
