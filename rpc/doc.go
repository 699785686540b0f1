// Package rpc is a bidirectional JSON-RPC 2.0 connection over newline-delimited JSON.
//
// # Wire format
//
// Every message is one JSON object on one line, terminated by "\n". The
// "jsonrpc":"2.0" member is accepted but not required when reading and is
// never written, which matches what codex app-server speaks. Ids are integers
// or strings (see [ID]). Batches are not supported.
//
// # Concurrency model
//
// A [Conn] owns three kinds of goroutines, all tracked by [Conn.Wait]:
//
//   - One reader reads lines, decodes them, and routes every response straight
//     to the [Conn.Call] waiting for it. Requests and notifications are
//     appended, in arrival order, to a single in-memory queue. With
//     [Options.Params], the reader also decodes their params in the same
//     scan of the line ([ParamsDecoder], [Request.Decoded]).
//   - One dispatcher consumes that queue in order. It delivers a notification
//     by calling [NotificationHandler.HandleNotification] synchronously, so
//     notifications arrive exactly once and strictly in order; for a call it
//     calls [Options.Arrived] (in order with the notifications), then
//     starts a handler goroutine and moves on at once.
//   - One handler goroutine per incoming call runs [Handler.Handle] and writes
//     the response, so a slow handler never delays later messages.
//
// Writes from Call, Notify and handler goroutines are serialized; each
// message is written with a single Write call.
//
// Nothing read is dropped (until Close, which abandons notifications not yet
// delivered). When the queue holds more than
// [Options.MaxQueuedBytes] of raw line bytes, the reader stops reading until
// the dispatcher catches up, so a slow notification handler pushes back on
// the peer through the transport (for example, a full OS pipe) instead of
// growing memory without bound. A line that cannot be decoded, or that is
// longer than [Options.MaxLineBytes], ends the connection with a
// [*ProtocolError] rather than being skipped, since it might have been the
// response some Call is waiting for.
package rpc
