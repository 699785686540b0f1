// Package host runs a Codex `app-server` process and drives it: threads,
// turns, a typed stream of turn events, and one dispatch point for every
// request the server sends back (approvals, user input, tool calls).
//
// A [Client] owns one app-server process. Every method blocks and takes a
// context first; streams are [iter.Seq2] values. The caller decides what runs
// concurrently: a Client is safe for concurrent use by many goroutines, and
// many threads and turns may be active on one Client at once.
//
// Server requests go to [Options.Handler], a [Handler] with one typed
// method per request, in [abi] terms. The answer codex receives is derived
// from the handler's result and the request alone, never forwarded: an
// answer the request does not entitle is refused and the request answered
// fail-closed. When Handler is nil, the client answers safely: approvals
// are declined, user-input questions get empty answers, and dynamic tool
// calls fail with an explanation. See [SafeHandler].
//
// host is a codex client only: the plugin chain that answers with
// plugins is package plugins/chain, which implements [Handler].
//
// # Events are never dropped
//
// Notifications are delivered to each turn in order, exactly once. When a
// consumer is slow, delivery blocks and the pressure travels back through
// the JSON-RPC connection to app-server's stdout pipe; memory stays bounded
// and nothing is discarded. A consumer that stops iterating before the
// turn's end must call [Turn.Close]: breaking out of [Turn.Events] leaves
// the turn subscribed, so that Events can be called again to continue
// (an iterator that reaches the turn's end, and [Client.Events], close it
// themselves).
package host
