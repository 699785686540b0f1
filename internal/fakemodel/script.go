package fakemodel

import "sync"

// Script decides the fake model's reply to each responses request. Reply is
// called from the server's request goroutines one request at a time (calls
// are serialized by the Model), in arrival order.
type Script interface {
	Reply(req *ModelRequest) Reply
}

// ScriptFunc adapts a function to the Script interface.
type ScriptFunc func(req *ModelRequest) Reply

// Reply calls f(req).
func (f ScriptFunc) Reply(req *ModelRequest) Reply { return f(req) }

// Sequence answers the i-th request (counted from when the script is first
// used) with replies[i], and any later request with Text(DefaultText).
func Sequence(replies ...Reply) Script {
	var mu sync.Mutex
	next := 0
	return ScriptFunc(func(*ModelRequest) Reply {
		mu.Lock()
		defer mu.Unlock()
		if next >= len(replies) {
			return Text(DefaultText)
		}
		r := replies[next]
		next++
		return r
	})
}

// Turn scripts the model side of one turn that may go through tool calls:
// a request that is not a tool follow-up (its last input item is not a tool
// output, see [ModelRequest.IsToolFollowUp]) starts the turn over and gets
// steps[0]; each tool follow-up gets the next step. When the steps are used
// up, follow-ups get Text(DefaultText). Every new turn replays the steps
// from the start.
//
// For example Turn(ExecCommand("touch a"), Text("done")) answers the turn's
// first request with the exec_command call and, once codex sends the
// command's output back, finishes the turn with "done".
func Turn(steps ...Reply) Script {
	var mu sync.Mutex
	next := 0
	return ScriptFunc(func(req *ModelRequest) Reply {
		mu.Lock()
		defer mu.Unlock()
		if !req.IsToolFollowUp() {
			next = 0
		}
		if next >= len(steps) {
			return Text(DefaultText)
		}
		r := steps[next]
		next++
		return r
	})
}

// Turns gives each turn its own script: the first request that is not a tool
// follow-up goes to turns[0], and so do the follow-ups after it; the next
// such request moves on to turns[1], and so on. Once the scripts are used
// up, the last one keeps answering.
func Turns(turns ...Script) Script {
	var mu sync.Mutex
	cur := -1
	return ScriptFunc(func(req *ModelRequest) Reply {
		mu.Lock()
		if !req.IsToolFollowUp() || cur < 0 {
			if cur < len(turns)-1 {
				cur++
			}
		}
		var s Script
		if cur >= 0 && cur < len(turns) {
			s = turns[cur]
		}
		mu.Unlock()
		if s == nil {
			return Text(DefaultText)
		}
		return s.Reply(req)
	})
}
