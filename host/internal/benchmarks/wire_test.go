package benchmarks

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/internal/benchmarks/policy"
)

// The shape of figure 8: each op is wirePairs pairs of turns (one per
// client, in alternating order) of wireApprovals approvals each. Many
// short pairs make the median of their ratios hold on a busy machine,
// where the load comes and goes within a second.
var (
	wireApprovals = 100
	wirePairs     = 5
)

func init() {
	if smoke {
		wireApprovals, wirePairs = 5, 1
	}
}

// policyHandler answers approvals with the benchmarks' policy, in process:
// a Go handler as a user of host writes one.
type policyHandler struct{ host.SafeHandler }

func (policyHandler) Approval(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
	return policy.Decide(ctx, req.ApprovalRequest)
}

// floorClient is the raw floor of figure 8: about a hundred lines of Go
// that speak app-server's protocol with encoding/json on one goroutine,
// as a program that needs nothing more would. It decodes every event and
// answers every approval with the same policy as the host's handler.
type floorClient struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	w      *bufio.Writer
	nextID int
	thread string
}

type floorMsg struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

// floorEvent is what the floor reads from every notification.
type floorEvent struct {
	ThreadID string `json:"threadId"`
	TurnID   string `json:"turnId"`
	ItemID   string `json:"itemId"`
	Delta    string `json:"delta"`
	Item     *struct {
		ID, Type, Status, Command, Cwd string
		AggregatedOutput               *string `json:"aggregatedOutput"`
		ExitCode                       *int    `json:"exitCode"`
	} `json:"item"`
	Turn *struct{ ID, Status string } `json:"turn"`
}

// floorApproval is what the floor reads from a command approval.
type floorApproval struct {
	ThreadID, TurnID, ItemID, Command, Cwd, Reason string
	ProposedExecpolicyAmendment                    []string `json:"proposedExecpolicyAmendment"`
}

func startFloor(tb testing.TB, env []string) *floorClient {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(append(os.Environ(), envChild+"=threads"), env...)
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	f := &floorClient{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<16), w: bufio.NewWriter(in)}
	tb.Cleanup(func() { _ = in.Close(); _ = cmd.Wait() })
	if _, err := f.call("initialize", map[string]any{"clientInfo": map[string]string{"name": "floor", "version": "0"}}); err != nil {
		tb.Fatal(err)
	}
	f.send(map[string]any{"method": "initialized"})
	res, err := f.call("thread/start", map[string]any{})
	if err != nil {
		tb.Fatal(err)
	}
	var th struct{ Thread struct{ ID string } }
	if err := json.Unmarshal(res, &th); err != nil {
		tb.Fatal(err)
	}
	f.thread = th.Thread.ID
	return f
}

func (f *floorClient) send(v any) {
	b, _ := json.Marshal(v)
	f.w.Write(append(b, '\n'))
	f.w.Flush()
}

func (f *floorClient) call(method string, params any) (json.RawMessage, error) {
	f.nextID++
	f.send(map[string]any{"id": f.nextID, "method": method, "params": params})
	for {
		line, err := f.out.ReadBytes('\n')
		if err != nil {
			return nil, err
		}
		var m floorMsg
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, err
		}
		if m.Method == "" && string(m.ID) == fmt.Sprint(f.nextID) {
			if m.Error != nil {
				return nil, fmt.Errorf("%s: %s", method, m.Error)
			}
			return m.Result, nil
		}
	}
}

// timedTurn runs one turn and returns its time; it fails b unless the
// turn had exactly the approvals and deltas wanted.
func (f *floorClient) timedTurn(ctx context.Context, b *testing.B, approvals, deltas int) time.Duration {
	t0 := time.Now()
	a, d, err := f.turnCounting(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if a != approvals || d != deltas {
		b.Fatalf("the floor answered %d approvals and read %d deltas, want %d and %d", a, d, approvals, deltas)
	}
	return time.Since(t0)
}

// turnCounting runs one turn, answering its approvals, and returns how
// many it answered and how many deltas it read.
func (f *floorClient) turnCounting(ctx context.Context) (answered, deltas int, err error) {
	if _, err := f.call("turn/start", map[string]any{"threadId": f.thread, "input": []any{}}); err != nil {
		return 0, 0, err
	}
	for {
		line, err := f.out.ReadBytes('\n')
		if err != nil {
			return answered, deltas, err
		}
		var m floorMsg
		if err := json.Unmarshal(line, &m); err != nil {
			return answered, deltas, err
		}
		if m.ID != nil { // a request: an approval
			var p floorApproval
			if err := json.Unmarshal(m.Params, &p); err != nil {
				return answered, deltas, err
			}
			resp, _ := policy.Decide(ctx, &abi.ApprovalRequest{Kind: abi.ApprovalCommand, ThreadID: p.ThreadID, TurnID: p.TurnID,
				ItemID: p.ItemID, Command: p.Command, Cwd: p.Cwd, Reason: p.Reason, ProposedAmendment: p.ProposedExecpolicyAmendment})
			f.send(map[string]any{"id": m.ID, "result": map[string]any{"decision": resp.Decision}})
			answered++
			continue
		}
		var ev floorEvent
		if err := json.Unmarshal(m.Params, &ev); err != nil {
			return answered, deltas, err
		}
		switch {
		case m.Method == "item/agentMessage/delta" && ev.ThreadID == f.thread:
			deltas++
		case m.Method == "turn/completed" && ev.ThreadID == f.thread:
			return answered, deltas, nil
		}
	}
}

// alternate runs pairs of one host turn and one floor turn, in alternating
// order, wirePairs per op of b, and reports each client's time per unit
// (perTurn units a turn) and x-floor, the median of the pairs' ratios of
// the host's time to the floor's.
func alternate(b *testing.B, perTurn int, unit string, hostTurn, floorTurn func() time.Duration) {
	if !smoke { // warm up both
		hostTurn()
		floorTurn()
	}
	var ratios []float64
	var hostTotal, floorTotal time.Duration
	pairs := 0
	for b.Loop() {
		for range wirePairs {
			var h, f time.Duration
			if pairs%2 == 0 {
				h, f = hostTurn(), floorTurn()
			} else {
				f, h = floorTurn(), hostTurn()
			}
			pairs++
			hostTotal += h
			floorTotal += f
			ratios = append(ratios, float64(h)/float64(f))
		}
	}
	slices.Sort(ratios)
	med := ratios[len(ratios)/2]
	if len(ratios)%2 == 0 {
		med = (ratios[len(ratios)/2-1] + med) / 2
	}
	n := float64(pairs * perTurn)
	b.ReportMetric(float64(hostTotal.Nanoseconds())/n, "host-ns/"+unit)
	b.ReportMetric(float64(floorTotal.Nanoseconds())/n, "floor-ns/"+unit)
	b.ReportMetric(med, "x-floor")
}

// BenchmarkApprovalWire is figure 8: approvals through a Go handler over
// the wire, codexhost against the raw floor client, on the same fake
// app-server stream (each approval wrapped in its command item's
// item/started and item/completed, as codex sends them). One op is
// wirePairs pairs of turns of wireApprovals approvals each, one turn per
// client, in alternating order; x-floor is the median of the pairs'
// ratios of codexhost's time to the floor's.
func BenchmarkApprovalWire(b *testing.B) {
	wireBench(b, wireApprovals, 0, wireApprovals, "approval", envCommandItems+"=1")
}

// wireBench runs codexhost and the floor client on turns of approvals
// approvals and deltas deltas (env adds to the fake's environment), in
// alternating pairs (see alternate), reported per unit, perTurn of them a
// turn. Each client must see every delta, and the floor must answer every
// approval.
func wireBench(b *testing.B, approvals, deltas, perTurn int, unit string, env ...string) {
	abs, err := filepath.Abs(filepath.Join("testdata", "command-approval.json"))
	if err != nil {
		b.Fatal(err)
	}
	env = append(env,
		fmt.Sprintf("%s=%d", envApprovals, approvals),
		fmt.Sprintf("%s=%d", envDeltas, deltas),
		envApprovalFile+"="+abs)
	ctx := context.Background()
	c := startFake(b, "threads", env, policyHandler{})
	th, err := c.StartThread(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	hostTurn := func() time.Duration {
		t0 := time.Now()
		t, err := c.StartTurn(ctx, th.ID, []host.Input{host.TextInput("go")}, nil)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for ev, err := range t.Events(ctx) {
			if err != nil {
				b.Fatal(err)
			}
			if ev.Kind == abi.EventAgentMessageDelta {
				n++
			}
		}
		if n != deltas {
			b.Fatalf("codexhost delivered %d deltas, want %d", n, deltas)
		}
		return time.Since(t0)
	}
	fl := startFloor(b, env)
	floorTurn := func() time.Duration { return fl.timedTurn(ctx, b, approvals, deltas) }
	alternate(b, perTurn, unit, hostTurn, floorTurn)
}

// wireDeltas is the number of deltas of each turn of figure 10.
var wireDeltas = 20000

func init() {
	if smoke {
		wireDeltas = 100
	}
}

// BenchmarkDeltaWire is figure 10: a turn of wireDeltas agent-message
// deltas over the wire, every one read as a typed event by codexhost's
// Turn.Events and decoded by the raw floor client, on the same fake
// app-server stream, the two alternating as in figure 8. It fails if
// either client misses a delta.
func BenchmarkDeltaWire(b *testing.B) {
	wireBench(b, 0, wireDeltas, wireDeltas, "delta")
}

// BenchmarkPackageInit is figure 11: the package initialization of a
// program that imports host (initprog), as GODEBUG=inittrace=1 reports
// it: the sum of every package's init clock time, per process start.
func BenchmarkPackageInit(b *testing.B) {
	prog := filepath.Join(b.TempDir(), "initprog")
	if out, err := exec.Command("go", "build", "-o", prog, "./initprog").CombinedOutput(); err != nil {
		b.Fatalf("go build ./initprog: %v\n%s", err, out)
	}
	var sums []float64
	pkgs := 0
	for b.Loop() {
		cmd := exec.Command(prog)
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("initprog: %v\n%s", err, out)
		}
		sum, n := 0.0, 0
		for line := range strings.Lines(string(out)) {
			// init internal/bytealg @0.008 ms, 0.004 ms clock, 0 bytes, 0 allocs
			f := strings.Fields(line)
			if len(f) < 7 || f[0] != "init" || f[6] != "clock," {
				continue
			}
			ms, err := strconv.ParseFloat(f[4], 64)
			if err != nil {
				b.Fatalf("inittrace line %q: %v", line, err)
			}
			sum += ms
			n++
		}
		if n == 0 {
			b.Fatalf("initprog printed no inittrace lines:\n%s", out)
		}
		sums = append(sums, sum)
		pkgs = n
	}
	slices.Sort(sums)
	b.ReportMetric(sums[len(sums)/2], "init-ms")
	b.ReportMetric(float64(pkgs), "packages")
}
