package host

import (
	"encoding/json"
	"fmt"
	"iter"
	"sync"

	"github.com/codexhost/codexhost/host/internal/protocol"
	"github.com/codexhost/codexhost/host/transcript"
	"github.com/codexhost/codexhost/rpc"
)

// A Replayed is a server request or an event read back from a transcript.
// Exactly one of Request and Event is set.
type Replayed struct {
	// Line is the record's line number in the transcript.
	Line int
	// Request is a server request, as a live Client would have handed it
	// to its handler: a file-change approval carries the changes of its
	// item's item/started event, and approvals carry the thread's cwd.
	// Its Hook reports false for a method no plugin hook answers.
	Request *Request
	// Answer is the result the host sent for Request, as recorded, or nil
	// if the transcript has none; AnswerError is the error it sent
	// instead.
	Answer      json.RawMessage
	AnswerError *rpc.WireError
	// Event is a notification, normalized as a Client delivers it to
	// observers (Seq counts the transcript's notifications from 1).
	Event *Event
}

// Replay yields the server requests and the events of a transcript, in
// order, translated as a live Client translates them, so that their
// [Request.Approval], [Request.UserInput], [Request.ToolCall] and
// [Event.ABIEvent] are what plugins saw.
// Responses, the host's own calls and lines that are not JSON are
// skipped. A line that is JSON but not a JSON-RPC message ends the
// iteration with an error naming it.
func Replay(t *transcript.Transcript) iter.Seq2[*Replayed, error] {
	return func(yield func(*Replayed, error) bool) {
		type answer struct {
			result json.RawMessage
			err    *rpc.WireError
		}
		answers := map[rpc.ID]answer{} // the host's answers to server requests
		for _, rec := range t.Records {
			if rec.Dir != transcript.Out || rec.Msg == nil {
				continue
			}
			if m, err := rpc.DecodeMessage(rec.Msg); err == nil {
				if resp, ok := m.(*rpc.Response); ok {
					answers[resp.ID] = answer{resp.Result, resp.Error}
				}
			}
		}

		var files fileChangeCache
		var cwds sync.Map
		threadCalls := map[rpc.ID]bool{} // the host's thread/start, resume and fork calls
		var seq uint64
		for _, rec := range t.Records {
			if rec.Msg == nil {
				continue
			}
			m, err := rpc.DecodeMessage(rec.Msg)
			if err != nil {
				yield(nil, fmt.Errorf("host: transcript line %d: %w", rec.Line, err))
				return
			}
			switch m := m.(type) {
			case *rpc.Request:
				if rec.Dir == transcript.Out {
					switch protocol.ClientMethod(m.Method) {
					case protocol.ClientThreadStart, protocol.ClientThreadResume, protocol.ClientThreadFork:
						threadCalls[m.ID] = true
					}
					continue
				}
				if m.IsCall() {
					r := &Replayed{Line: rec.Line, Request: newRequest(m.Method, m.Params, &files, &cwds)}
					if a, ok := answers[m.ID]; ok {
						r.Answer, r.AnswerError = a.result, a.err
					}
					if !yield(r, nil) {
						return
					}
					continue
				}
				ev, _ := decodeEvent(m.Method, m.Params)
				seq++
				ev.Seq = seq
				files.observe(ev)
				if !yield(&Replayed{Line: rec.Line, Event: ev}, nil) {
					return
				}
			case *rpc.Response:
				if rec.Dir == transcript.In && threadCalls[m.ID] && m.Error == nil {
					var resp struct {
						Thread struct {
							ID string `json:"id"`
						} `json:"thread"`
						Cwd string `json:"cwd"`
					}
					if json.Unmarshal(m.Result, &resp) == nil && resp.Thread.ID != "" {
						cwds.Store(resp.Thread.ID, resp.Cwd)
					}
				}
			}
		}
	}
}
