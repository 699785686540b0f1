// Package benchmarks measures codexhost's performance figures, each next to
// its floor, as the Benchmark functions of its tests (GitHub issue 8):
//
//  1. BenchmarkApproval: an approval through the host's dispatch, answered
//     in process (the floor), by a Wasm plugin and by a process plugin.
//  2. BenchmarkPipeline, BenchmarkRenderLatency: a recorded stream of 100k
//     events through rpc decoding, typed events and a renderer.
//  3. BenchmarkLoad, BenchmarkHostStart, BenchmarkInstance,
//     BenchmarkMemory, BenchmarkProcessStart: plugin load and start costs.
//  4. BenchmarkConcurrentThreads: 64 threads with approvals on one
//     app-server connection.
//  5. BenchmarkRealTurn: a real codex turn, bare client against codexhost.
//  6. BenchmarkPluginCall: what measuring and tracing a plugin call costs.
//  7. BenchmarkStalledConsumer: peak memory under a stalled consumer.
//  8. BenchmarkApprovalWire: approvals over the wire through a Go handler,
//     codexhost against a raw floor client on the same fake stream.
//
// `make bench` runs them (see ./benchtab) and prints one table; the figures,
// the floors and the last recorded run are in docs/performance.md. The
// package has no API: it holds tests and the plugins they load.
package benchmarks
