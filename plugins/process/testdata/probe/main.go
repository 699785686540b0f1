// Command probe is a process plugin for the fault tests of plugins/process:
// it reports what it sees and misbehaves on request.
//
// In init, before anything else: with PROBE_SLEEP set it only sleeps (the
// grandchild of "spawn"); with PROBE_MARKER set it writes its pid to that
// file (proof that it ran); with PROBE_AUTOMTLS set it ignores the TLS key
// pair the host passes and falls back to go-plugin's AutoMTLS, as a plugin
// of another language or an older sdk-guest does. It then writes one line to its raw stderr, and
// with PROBE_STDOUT_EARLY set one line to stdout, before the handshake.
// Its manifest asks for the environment variable PROBE_GRANTED.
//
// Approval requests, by command:
//
//	"env"             accepts with os.Environ(), NUL-separated
//	"pid"             accepts with its pid
//	"say TEXT"        writes TEXT to stderr and to stdout, accepts
//	"hang TEXT"       writes TEXT to stderr, then never answers (the host
//	                  sees the line once the call is in the plugin)
//	"spawn"           starts a grandchild that sleeps holding the plugin's
//	                  stdout and stderr, accepts with its pid
//	"spawn-setsid"    starts a grandchild that sleeps in a session of its
//	                  own (setsid), its output to /dev/null, accepts with
//	                  its pid
//	"exit-now"        exits with code 3
//	anything else     accepts with "ok"
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

func init() {
	if os.Getenv("PROBE_SLEEP") != "" {
		time.Sleep(time.Hour)
		os.Exit(0)
	}
	if os.Getenv("PROBE_AUTOMTLS") != "" {
		_ = os.Unsetenv("CODEXHOST_PLUGIN_TLS_FD")
	}
	if m := os.Getenv("PROBE_MARKER"); m != "" {
		if err := os.WriteFile(m, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			panic(err)
		}
	}
	fmt.Fprintln(os.Stderr, "probe: raw stderr before serve")
	if os.Getenv("PROBE_STDOUT_EARLY") != "" {
		fmt.Println("probe: this line breaks the handshake")
	}
	guest.Info("probe", "1.0.0", "fault probe for the process runtime tests")
	guest.Capabilities(abi.Capabilities{Env: []string{"PROBE_GRANTED"}})
	guest.OnApproval(approve)
}

func main() { guest.Main() }

func accept(reason string) (*abi.ApprovalResponse, error) {
	return &abi.ApprovalResponse{Decision: abi.Accept, Reason: reason}, nil
}

func approve(_ context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
	cmd := req.Command
	switch {
	case cmd == "env":
		return accept(strings.Join(os.Environ(), "\x00"))
	case cmd == "pid":
		return accept(strconv.Itoa(os.Getpid()))
	case strings.HasPrefix(cmd, "say "):
		fmt.Fprintln(os.Stderr, "stderr: "+cmd[4:])
		fmt.Println("stdout: " + cmd[4:])
		return accept("said")
	case strings.HasPrefix(cmd, "hang "):
		fmt.Fprintln(os.Stderr, "stderr: "+cmd[5:])
		select {} // the gRPC server's goroutines live on: no deadlock
	case cmd == "spawn":
		c := exec.Command(os.Args[0])
		c.Env = append(os.Environ(), "PROBE_SLEEP=1")
		// The raw descriptors, not os.Stdout/os.Stderr (go-plugin replaces
		// those with pipes of its own): the host's pipes stay open as long
		// as the grandchild lives.
		c.Stdout = os.NewFile(1, "stdout")
		c.Stderr = os.NewFile(2, "stderr")
		if err := c.Start(); err != nil {
			return nil, err
		}
		return accept(strconv.Itoa(c.Process.Pid))
	case cmd == "spawn-setsid":
		c := exec.Command(os.Args[0])
		c.Env = append(os.Environ(), "PROBE_SLEEP=1")
		// A session of its own, out of the plugin's process group; its
		// output goes to /dev/null, so it holds none of the host's pipes.
		c.SysProcAttr = newSession()
		if err := c.Start(); err != nil {
			return nil, err
		}
		return accept(strconv.Itoa(c.Process.Pid))
	case cmd == "exit-now":
		os.Exit(3)
	}
	return accept("ok")
}
