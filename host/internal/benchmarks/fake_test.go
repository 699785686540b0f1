package benchmarks

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
)

// The test binary doubles as a fake app-server (child modes "replay" and
// "threads"), so that the figures that need an app-server measure the host,
// not codex. It speaks just enough of the protocol for host.Client.

// Environment of the fake app-server.
const (
	// envReplay names the file of notification lines "replay" writes
	// after each turn/start response.
	envReplay = "CODEXHOST_BENCH_REPLAY"
	// envApprovals and envDeltas shape each turn of "threads": this many
	// agent-message deltas, then this many command approvals, one after
	// the other (codex waits for each answer), then the turn completes.
	envApprovals = "CODEXHOST_BENCH_APPROVALS"
	envDeltas    = "CODEXHOST_BENCH_DELTAS"
	// envApprovalFile names the params of the approvals "threads" sends
	// (testdata/command-approval.json).
	envApprovalFile = "CODEXHOST_BENCH_APPROVAL_FILE"
	// envCommandItems, when set, wraps each approval of "threads" in its
	// command item as codex sends it: item/started before the request,
	// serverRequest/resolved and item/completed after the answer.
	envCommandItems = "CODEXHOST_BENCH_COMMAND_ITEMS"
)

type fakeMsg struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  json.RawMessage `json:"error,omitempty"`
}

type fakeServer struct {
	in  *bufio.Reader
	mu  sync.Mutex // guards out
	out *bufio.Writer

	pmu     sync.Mutex
	pending map[string]chan *fakeMsg // by request id
	nextID  int
	threads int
}

func (f *fakeServer) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.out.Write(b)
	f.out.WriteByte('\n')
	f.out.Flush()
}

func (f *fakeServer) notify(method string, params any) {
	f.send(map[string]any{"method": method, "params": params})
}

// sendLine writes one encoded message.
func (f *fakeServer) sendLine(line []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.out.Write(line)
	f.out.WriteByte('\n')
	f.out.Flush()
}

// request sends a server request, its params already encoded, and waits
// for the client's answer.
func (f *fakeServer) request(method string, params []byte) *fakeMsg {
	f.pmu.Lock()
	f.nextID++
	id := f.nextID
	ch := make(chan *fakeMsg, 1)
	f.pending[strconv.Itoa(id)] = ch
	f.pmu.Unlock()
	line := fmt.Appendf(nil, `{"id":%d,"method":%q,"params":`, id, method)
	f.sendLine(append(append(line, params...), '}'))
	return <-ch
}

// fakeThreadID is the id of the fake's n-th thread (from 1), shaped like
// codex's.
func fakeThreadID(n int) string { return fmt.Sprintf("019a6f3e-5b1c-7d2a-9e4f-%012d", n) }

func fakeThread(id string) map[string]any {
	return map[string]any{"id": id, "preview": "", "ephemeral": false, "modelProvider": "fake",
		"createdAt": 1, "updatedAt": 1, "status": map[string]any{"type": "idle"}, "path": nil,
		"cwd": "/tmp", "cliVersion": "0", "source": "appServer", "turns": []any{}, "sessionId": "s", "projectId": "p"}
}

// fakeAppServer serves stdin/stdout until stdin ends; turn plays one turn
// on a thread after its turn/start response was sent.
func fakeAppServer(turn func(f *fakeServer, threadID, turnID string)) int {
	f := &fakeServer{
		in:      bufio.NewReaderSize(os.Stdin, 1<<20),
		out:     bufio.NewWriterSize(os.Stdout, 1<<16),
		pending: map[string]chan *fakeMsg{},
	}
	turns := 0
	for {
		line, err := f.in.ReadBytes('\n')
		if err != nil {
			return 0
		}
		var m fakeMsg
		if err := json.Unmarshal(line, &m); err != nil {
			fmt.Fprintf(os.Stderr, "fake app-server: bad line %q\n", line)
			return 1
		}
		if m.Method == "" { // an answer to one of our requests
			f.pmu.Lock()
			ch := f.pending[string(m.ID)]
			delete(f.pending, string(m.ID))
			f.pmu.Unlock()
			if ch != nil {
				ch <- &m
			}
			continue
		}
		switch m.Method {
		case "initialize":
			f.send(map[string]any{"id": m.ID, "result": map[string]any{"codexHome": "/fake", "platformFamily": "unix", "platformOs": "linux", "userAgent": "fake/0"}})
		case "initialized":
		case "thread/start":
			f.threads++
			th := fakeThread(fakeThreadID(f.threads))
			f.send(map[string]any{"id": m.ID, "result": map[string]any{"thread": th, "model": "m", "modelProvider": "fake",
				"cwd": "/tmp", "approvalPolicy": "on-request", "approvalsReviewer": "user", "sandbox": map[string]any{"type": "readOnly"}}})
		case "turn/start":
			var p struct {
				ThreadID string `json:"threadId"`
			}
			_ = json.Unmarshal(m.Params, &p)
			turns++
			turnID := fmt.Sprintf("019a6f3e-6c2d-7e3b-8f50-%012d", turns)
			if fixedTurnID != "" {
				turnID = fixedTurnID
			}
			f.send(map[string]any{"id": m.ID, "result": map[string]any{"turn": map[string]any{"id": turnID, "items": []any{}, "status": "inProgress"}}})
			go turn(f, p.ThreadID, turnID)
		default:
			f.send(map[string]any{"id": m.ID, "error": map[string]any{"code": -32601, "message": "fake: no " + m.Method}})
		}
	}
}

// fixedTurnID, if set, is the id of every turn: the recorded stream of
// "replay" names one turn.
var fixedTurnID string

// replayTurn writes the recorded stream named by envReplay, as is.
func replayTurn(f *fakeServer, _, _ string) {
	file, err := os.Open(os.Getenv(envReplay))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake app-server:", err)
		os.Exit(1)
	}
	defer file.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.out.Flush()
	if _, err := io.Copy(os.Stdout, file); err != nil {
		os.Exit(1)
	}
}

// threadsTurn plays a turn of deltas and approvals. The lines are encoded
// from templates: the fake must cost little next to the host it measures.
func threadsTurn(f *fakeServer, threadID, turnID string) {
	approvals, _ := strconv.Atoi(os.Getenv(envApprovals))
	deltas, _ := strconv.Atoi(os.Getenv(envDeltas))
	f.notify("turn/started", map[string]any{"threadId": threadID, "turn": map[string]any{"id": turnID, "items": []any{}, "status": "inProgress"}})
	for i := range deltas {
		f.sendLine(fmt.Appendf(nil, `{"method":"item/agentMessage/delta","params":{"threadId":%q,"turnId":%q,"itemId":"m1","delta":"d%d "}}`,
			threadID, turnID, i))
	}
	var params map[string]any
	if err := json.Unmarshal(approvalParams, &params); err != nil {
		panic(err)
	}
	params["threadId"], params["turnId"], params["itemId"] = threadID, turnID, "call_@@"
	tmpl, err := json.Marshal(params)
	if err != nil {
		panic(err)
	}
	items := os.Getenv(envCommandItems) != ""
	for i := range approvals {
		id := fmt.Appendf(nil, "call_%d", i)
		if items {
			f.sendLine(fmt.Appendf(nil, `{"method":"item/started","params":{"threadId":%q,"turnId":%q,"startedAtMs":1764041234567,"item":%s}}`,
				threadID, turnID, bytes.ReplaceAll(commandItemStarted, []byte("call_@@"), id)))
		}
		p := bytes.Replace(tmpl, []byte("call_@@"), id, 1)
		ans := f.request("item/commandExecution/requestApproval", p)
		if ans.Error != nil {
			fmt.Fprintf(os.Stderr, "fake app-server: approval answered with an error: %s\n", ans.Error)
			os.Exit(1)
		}
		if items {
			f.sendLine(fmt.Appendf(nil, `{"method":"serverRequest/resolved","params":{"threadId":%q,"requestId":%s}}`, threadID, ans.ID))
			f.sendLine(fmt.Appendf(nil, `{"method":"item/completed","params":{"threadId":%q,"turnId":%q,"completedAtMs":1764041235678,"item":%s}}`,
				threadID, turnID, bytes.ReplaceAll(commandItemCompleted, []byte("call_@@"), id)))
		}
	}
	f.notify("turn/completed", map[string]any{"threadId": threadID, "turn": map[string]any{"id": turnID, "items": []any{}, "status": "completed", "durationMs": 1}})
}

// The command item of each approval, as codex 0.169.0 sends it in
// item/started and item/completed ("call_@@" is the item id).
var (
	commandItemStarted   = []byte(`{"type":"commandExecution","id":"call_@@","command":"/bin/bash -lc 'cd services/api && go test -race -count=1 ./internal/... 2>&1 | tail -50 && echo done'","cwd":"/home/builder/src/github.com/example/project","processId":null,"source":"agent","status":"inProgress","commandActions":[{"type":"unknown","command":"cd services/api"},{"type":"unknown","command":"go test -race -count=1 ./internal/..."},{"type":"read","command":"tail -50","name":"tail","path":"-"},{"type":"unknown","command":"echo done"}],"aggregatedOutput":null,"exitCode":null,"durationMs":null}`)
	commandItemCompleted = []byte(`{"type":"commandExecution","id":"call_@@","command":"/bin/bash -lc 'cd services/api && go test -race -count=1 ./internal/... 2>&1 | tail -50 && echo done'","cwd":"/home/builder/src/github.com/example/project","processId":"12345","source":"agent","status":"completed","commandActions":[{"type":"unknown","command":"cd services/api"},{"type":"unknown","command":"go test -race -count=1 ./internal/..."},{"type":"read","command":"tail -50","name":"tail","path":"-"},{"type":"unknown","command":"echo done"}],"aggregatedOutput":"ok  \texample.com/project/services/api/internal/store\t1.234s\nok  \texample.com/project/services/api/internal/web\t0.567s\ndone\n","exitCode":0,"durationMs":2345}`)
)

// approvalParams is testdata/command-approval.json, read by the child.
var approvalParams []byte
