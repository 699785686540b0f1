package hosttest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EnvFakeAppServer names the environment variable that selects a
// [FakeAppServer] scenario.
const EnvFakeAppServer = "FAKE_APPSERVER"

type fakeMsg struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  json.RawMessage `json:"error,omitempty"`
}

// FakeAppServer plays a scripted app-server on stdin and stdout, for
// tests of clients that must see what the real codex cannot be made to do
// on demand (die mid-turn, send an unknown request, stream 10k deltas in a
// tight loop). A test binary doubles as the fake: its TestMain calls
//
//	if sc := os.Getenv(hosttest.EnvFakeAppServer); sc != "" {
//		os.Exit(hosttest.FakeAppServer(sc))
//	}
//
// and the test starts the test binary itself as codex, with
// EnvFakeAppServer set to the scenario. Scenarios: "text" (FAKE_DELTAS
// agent-message deltas, then "done"), "approval", "tool" and
// "unknown-request" (one server request; the client's answer comes back
// as a codexhost/test/answer notification), "approvals" (FAKE_APPROVALS
// command approvals FAKE_INTERVAL_MS apart, answers echoed by id; with
// FAKE_APPROVALS_HOLD=K those after the K-th wait for the client's
// codexhost/test/resume request), "die",
// "hang", "exit-at-start", and "lines" (the raw lines of FAKE_LINES after
// turn/started, and nothing else; then it exits if FAKE_LINES_THEN is
// "exit"). It returns the exit status.
//
// FAKE_THREAD_STARTED places the thread/started notification, which the
// fake otherwise does not send: "after-response" sends it right after the
// thread/start response, as codex does; "at-turn-start" holds it until the
// next turn/start arrives and sends it first, the interleaving in which a
// client reads it only after it has started a turn. FAKE_INIT_NOTICE sends
// a configWarning right after the initialize response; FAKE_NO_INIT never
// answers initialize. review/start reviews on the thread asked for, or on
// FAKE_REVIEW_THREAD when set; turn/interrupt is answered, and does nothing.
func FakeAppServer(scenario string) int {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	var outMu sync.Mutex // the "approvals" scenario writes from two goroutines
	send := func(v any) {
		b, _ := json.Marshal(v)
		outMu.Lock()
		out.Write(b)
		out.WriteByte('\n')
		outMu.Unlock()
	}
	flush := func() {
		outMu.Lock()
		out.Flush()
		outMu.Unlock()
	}
	notify := func(method string, params any) { send(map[string]any{"method": method, "params": params}) }
	read := func() (*fakeMsg, bool) {
		line, err := in.ReadBytes('\n')
		if err != nil {
			return nil, false
		}
		var m fakeMsg
		if json.Unmarshal(line, &m) != nil {
			fmt.Fprintf(os.Stderr, "fake: bad line %q\n", line)
			return nil, false
		}
		return &m, true
	}
	n, _ := strconv.Atoi(os.Getenv("FAKE_DELTAS"))
	thread := map[string]any{"id": "th1", "preview": "", "ephemeral": false, "modelProvider": "fake",
		"createdAt": 1, "updatedAt": 1, "status": map[string]any{"type": "idle"}, "path": nil,
		"cwd": "/tmp", "cliVersion": "0", "source": "appServer", "turns": []any{}, "sessionId": "s", "projectId": "p"}
	threadStarted := os.Getenv("FAKE_THREAD_STARTED")
	pendingThreadStarted := false
	if scenario == "exit-at-start" {
		fmt.Fprintln(os.Stderr, "Error: config.toml: invalid type: expected a string for key `model`")
		return 1
	}
	for {
		m, ok := read()
		if !ok {
			return 0
		}
		if m.Method == "" { // a response from the client
			continue
		}
		switch m.Method {
		case "initialize":
			if os.Getenv("FAKE_NO_INIT") != "" {
				continue // never answers: the start hangs until the client gives up
			}
			send(map[string]any{"id": m.ID, "result": map[string]any{"codexHome": "/fake", "platformFamily": "unix", "platformOs": "linux", "userAgent": "fake/0"}})
			if os.Getenv("FAKE_INIT_NOTICE") != "" {
				notify("configWarning", map[string]any{"summary": "fake notice", "details": nil})
			}
		case "initialized":
		// Methods the examples of host's example_methods_test.go call.
		case "thread/loaded/list":
			send(map[string]any{"id": m.ID, "result": map[string]any{"data": []string{"th1", "th2"}}})
		case "fuzzyFileSearch":
			send(map[string]any{"id": m.ID, "result": map[string]any{"files": []any{
				map[string]any{"root": "/src", "path": "cmd/main.go", "file_name": "main.go", "score": 90, "match_type": "file"}}}})
		case "collaborationMode/list":
			send(map[string]any{"id": m.ID, "result": map[string]any{"data": []any{
				map[string]any{"name": "Plan", "mode": "plan"}, map[string]any{"name": "Default", "mode": "default"}}}})
		case "thread/turns/list":
			// Two stored turns of th1, in the order asked for.
			var p struct {
				SortDirection string `json:"sortDirection"`
			}
			_ = json.Unmarshal(m.Params, &p)
			turns := []any{
				map[string]any{"id": "tu-a", "items": []any{map[string]any{"type": "agentMessage", "id": "m-a", "text": "first"}}, "status": "completed"},
				map[string]any{"id": "tu-b", "items": []any{}, "status": "interrupted"},
			}
			if p.SortDirection == "desc" {
				turns[0], turns[1] = turns[1], turns[0]
			}
			send(map[string]any{"id": m.ID, "result": map[string]any{"data": turns}})
		case "thread/start", "thread/resume":
			send(map[string]any{"id": m.ID, "result": map[string]any{"thread": thread, "model": "m", "modelProvider": "fake",
				"cwd": "/tmp", "approvalPolicy": "on-request", "approvalsReviewer": "user", "sandbox": map[string]any{"type": "readOnly"}}})
			switch threadStarted {
			case "after-response":
				notify("thread/started", map[string]any{"thread": thread})
			case "at-turn-start":
				pendingThreadStarted = true
			}
		case "thread/fork":
			// The fork is th2 (its turns run as th1's: the lines of
			// FAKE_LINES name the thread they are about).
			fork := maps.Clone(thread)
			fork["id"] = "th2"
			send(map[string]any{"id": m.ID, "result": map[string]any{"thread": fork, "model": "m", "modelProvider": "fake",
				"cwd": "/tmp", "approvalPolicy": "on-request", "approvalsReviewer": "user", "sandbox": map[string]any{"type": "readOnly"}}})
		case "review/start":
			// The review runs on FAKE_REVIEW_THREAD when set (a codex
			// that did not review inline), else on the thread asked for.
			var p struct {
				ThreadID string `json:"threadId"`
			}
			_ = json.Unmarshal(m.Params, &p)
			on := p.ThreadID
			if v := os.Getenv("FAKE_REVIEW_THREAD"); v != "" {
				on = v
			}
			send(map[string]any{"id": m.ID, "result": map[string]any{"reviewThreadId": on,
				"turn": map[string]any{"id": "tu-r", "items": []any{}, "status": "inProgress"}}})
		case "turn/interrupt":
			send(map[string]any{"id": m.ID, "result": map[string]any{}})
		case "turn/start":
			if pendingThreadStarted {
				pendingThreadStarted = false
				notify("thread/started", map[string]any{"thread": thread})
				flush()
			}
			turn := map[string]any{"id": "tu1", "items": []any{}, "status": "inProgress"}
			send(map[string]any{"id": m.ID, "result": map[string]any{"turn": turn}})
			notify("turn/started", map[string]any{"threadId": "th1", "turn": turn})
			for i := range n {
				notify("item/agentMessage/delta", map[string]any{"threadId": "th1", "turnId": "tu1", "itemId": "m1", "delta": fmt.Sprintf("d%d ", i)})
			}
			switch scenario {
			case "die":
				flush()
				fmt.Fprintln(os.Stderr, "thread 'main' panicked: fake app-server dies mid-turn")
				os.Exit(3)
			case "approval", "unknown-request", "tool":
				method, params := "item/commandExecution/requestApproval", map[string]any{"threadId": "th1", "turnId": "tu1", "itemId": "c1", "command": "rm -rf /", "startedAtMs": 1}
				if scenario == "unknown-request" {
					method = "codexhost/notARealRequest"
				}
				if scenario == "tool" {
					method, params = "item/tool/call", map[string]any{"threadId": "th1", "turnId": "tu1", "callId": "c1", "tool": "lookup", "arguments": map[string]any{}}
				}
				send(map[string]any{"id": 0, "method": method, "params": params})
				flush()
				var answer *fakeMsg
				for answer == nil {
					r, ok := read()
					if !ok {
						return 0
					}
					if r.Method == "" {
						answer = r
					}
				}
				// Echo the client's answer back so the test can see it.
				notify("codexhost/test/answer", map[string]any{"threadId": "th1", "turnId": "tu1", "result": answer.Result, "error": answer.Error})
			case "approvals":
				// A steady stream of command approvals ("cmd-0", "cmd-1",
				// ...), FAKE_INTERVAL_MS apart, sent without waiting for
				// answers; then every answer is echoed back, by id. With
				// FAKE_APPROVALS_HOLD=K the requests after cmd-K wait until
				// the client calls codexhost/test/resume: whatever the
				// client does before that call (a test acting once cmd-K
				// reached it) comes before every later request, however
				// slowly it runs.
				total, _ := strconv.Atoi(os.Getenv("FAKE_APPROVALS"))
				ms, _ := strconv.Atoi(os.Getenv("FAKE_INTERVAL_MS"))
				hold := -1
				if k, err := strconv.Atoi(os.Getenv("FAKE_APPROVALS_HOLD")); err == nil {
					hold = k
				}
				resume := make(chan struct{})
				go func() {
					for i := range total {
						send(map[string]any{"id": i, "method": "item/commandExecution/requestApproval", "params": map[string]any{
							"threadId": "th1", "turnId": "tu1", "itemId": fmt.Sprintf("c%d", i), "command": fmt.Sprintf("cmd-%d", i), "startedAtMs": 1}})
						flush()
						if i == hold {
							<-resume
						}
						time.Sleep(time.Duration(ms) * time.Millisecond)
					}
				}()
				var answers []*fakeMsg
				resumed := false
				for len(answers) < total {
					r, ok := read()
					if !ok {
						return 0
					}
					switch {
					case r.Method == "":
						answers = append(answers, r)
					case r.Method == "codexhost/test/resume" && !resumed:
						resumed = true
						send(map[string]any{"id": r.ID, "result": map[string]any{}})
						flush()
						close(resume)
					}
				}
				for _, a := range answers {
					notify("codexhost/test/answer", map[string]any{"threadId": "th1", "turnId": "tu1", "id": a.ID, "result": a.Result, "error": a.Error})
				}
			case "hang":
				flush()
				select {} // never completes the turn
			case "lines":
				// FAKE_LINES, raw lines, after turn/started: a stream the
				// real codex does not send (an event without its item, a
				// turn/completed without its turn). The turn ends when
				// they end it.
				for l := range strings.SplitSeq(os.Getenv("FAKE_LINES"), "\n") {
					if l != "" {
						outMu.Lock()
						out.WriteString(l + "\n")
						outMu.Unlock()
					}
				}
				flush()
				if os.Getenv("FAKE_LINES_THEN") == "exit" {
					os.Exit(0) // app-server gone, its lines sent
				}
				continue
			}
			notify("item/completed", map[string]any{"threadId": "th1", "turnId": "tu1", "completedAtMs": 2,
				"item": map[string]any{"type": "agentMessage", "id": "m1", "text": "done"}})
			done := map[string]any{"id": "tu1", "items": []any{}, "status": "completed", "durationMs": 5}
			notify("turn/completed", map[string]any{"threadId": "th1", "turn": done})
		default:
			send(map[string]any{"id": m.ID, "error": map[string]any{"code": -32601, "message": "fake: no " + m.Method}})
		}
		flush()
	}
}
