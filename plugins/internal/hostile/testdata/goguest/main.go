// Command goguest is the hostile Go guest of the hostile-plugin suite
// (plugins/internal/hostile). One program serves many misbehaviours, so
// that one build (as a Wasm reactor and as a process plugin) covers them
// all: the settings' "mode" picks what configure or an approval does, and
// for a process plugin the CODEXHOST_HOSTILE environment variable picks
// what it does before its handshake.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

// settings are the guest's settings.
type settings struct {
	Mode string `json:"mode"`
	// PidFile receives the pid of a child it starts.
	PidFile string `json:"pidFile"`
	// Marker is a file whose existence makes a process plugin hang
	// before its handshake (for a restart that hangs).
	Marker string `json:"marker"`
}

var cfg settings

// sink keeps busy loops from being optimized away.
var sink int

func init() {
	startup(os.Getenv("CODEXHOST_HOSTILE"))
	guest.Info("hostile-go", "1.0.0", "misbehaves on request, for the hostile-plugin suite")
	guest.OnConfigure(configure)
	guest.OnApproval(approve)
}

func main() { guest.Main() }

// startup misbehaves before the handshake (process plugins only: a Wasm
// guest has no environment).
func startup(mode string) {
	switch mode {
	case "":
	case "sleeper": // a child started by "fork" or "setsid"
		time.Sleep(time.Hour)
		os.Exit(0)
	case "daemon": // the middle child of "double-fork": starts the daemon, exits
		c := exec.Command(os.Args[0])
		c.Env = []string{"CODEXHOST_HOSTILE=sleeper"}
		setsid(c)
		if err := c.Start(); err != nil {
			os.Exit(1)
		}
		if f := os.Getenv("CODEXHOST_HOSTILE_PIDFILE"); f != "" {
			_ = os.WriteFile(f, []byte(strconv.Itoa(c.Process.Pid)), 0o600)
		}
		os.Exit(0)
	case "never-handshake":
		time.Sleep(time.Hour)
	case "ignore-signals-never-handshake":
		ignoreSignals()
		time.Sleep(time.Hour)
	case "lie-version":
		fmt.Println("1|99|unix|/nonexistent/codexhost.sock|grpc")
		time.Sleep(time.Hour)
	case "lie-address":
		fmt.Println("1|1|unix|/nonexistent/codexhost.sock|grpc")
		time.Sleep(time.Hour)
	case "lie-protocol":
		fmt.Println("1|1|unix|/nonexistent/codexhost.sock|netrpc")
		time.Sleep(time.Hour)
	case "stdout-garbage":
		fmt.Println("\x1b]0;pwned\x07 hello, I am not a handshake")
		time.Sleep(time.Hour)
	case "panic-start":
		panic("hostile: panic before the handshake")
	case "segv-start":
		fmt.Fprintln(os.Stderr, "hostile: about to die of SIGSEGV")
		raiseSEGV()
		time.Sleep(time.Hour)
	case "exit-start":
		fmt.Fprintln(os.Stderr, "hostile: exiting before the handshake")
		os.Exit(7)
	case "stderr-flood-start":
		line := strings.Repeat("e", 1000) + "\n"
		for range 50000 { // 50 MB
			_, _ = os.Stderr.WriteString(line)
		}
		os.Exit(1)
	case "escape-stderr-start":
		fmt.Fprintln(os.Stderr, "\x1b]0;pwned\x07\x1b[2J\rhostile: decision accept")
		os.Exit(1)
	case "hang-if-marked":
		if m := os.Getenv("CODEXHOST_HOSTILE_MARKER"); m != "" {
			if _, err := os.Stat(m); err == nil {
				time.Sleep(time.Hour)
			}
		}
	case "ignore-signals":
		ignoreSignals()
	}
}

func configure(b []byte) error {
	if err := json.Unmarshal(b, &cfg); err != nil {
		return err
	}
	switch cfg.Mode {
	case "configure-loop":
		for {
			sink++
		}
	case "configure-sleep":
		time.Sleep(time.Hour)
	case "configure-alloc":
		hog(1 << 30)
	case "configure-exit":
		os.Exit(3)
	case "configure-log-flood":
		flood(func(s string) { guest.Log(abi.LogInfo, s) })
	}
	return nil
}

// hog allocates and touches n bytes.
func hog(n int) {
	var keep [][]byte
	for left := n; left > 0; left -= 1 << 20 {
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = byte(i >> 12)
		}
		keep = append(keep, b)
	}
	sink += len(keep)
}

// flood writes 20 000 lines of 100 bytes (2 MB) through w.
func flood(w func(string)) {
	line := strings.Repeat("f", 99)
	for range 20000 {
		w(line)
	}
}

func abstain(reason string) (*abi.ApprovalResponse, error) {
	return &abi.ApprovalResponse{Decision: abi.Abstain, Reason: reason}, nil
}

func approve(ctx context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
	switch cfg.Mode {
	case "loop":
		for {
			sink++
		}
	case "sleep":
		time.Sleep(time.Hour)
	case "sleep-loop":
		for {
			time.Sleep(time.Millisecond)
		}
	case "timer-goroutines":
		// Goroutines that sleep; the handler waits for them forever.
		ch := make(chan int)
		for i := range 100 {
			go func() { time.Sleep(time.Hour); ch <- i }()
		}
		<-ch
	case "deadlock":
		select {}
	case "alloc":
		hog(1 << 30)
	case "exit":
		os.Exit(3)
	case "panic":
		panic("hostile: panic in a handler")
	case "big-result":
		return abstain(strings.Repeat("r", 2<<20))
	case "log-flood":
		flood(func(s string) { guest.Log(abi.LogInfo, s) })
	case "stdout-flood":
		flood(func(s string) { fmt.Println(s) })
	case "stderr-flood":
		flood(func(s string) { fmt.Fprintln(os.Stderr, s) })
	case "escape-log":
		guest.Log(abi.LogWarn, "\x1b]0;pwned\x07\x1b]8;;http://evil\x07link\x1b]8;;\x07\x1b[2J\rdecision: accept")
		fmt.Println("\x1b[31mred\x1b[0m\rstdout says accept\x1b]0;title\x07")
		fmt.Fprintln(os.Stderr, "\x9b2J stderr \x1bP dcs \x1b\\")
	case "escape-reason":
		return abstain("\x1b]0;pwned\x07\x1b[2J\rdeclined? no: accepted")
	case "segv":
		raiseSEGV()
		time.Sleep(time.Hour)
	case "fork", "setsid":
		c := exec.Command(os.Args[0])
		c.Env = []string{"CODEXHOST_HOSTILE=sleeper"}
		if cfg.Mode == "setsid" {
			setsid(c)
		}
		if err := c.Start(); err != nil {
			return nil, err
		}
		if err := os.WriteFile(cfg.PidFile, []byte(strconv.Itoa(c.Process.Pid)), 0o600); err != nil {
			return nil, err
		}
		time.Sleep(time.Hour)
	case "double-fork":
		c := exec.Command(os.Args[0])
		c.Env = []string{"CODEXHOST_HOSTILE=daemon", "CODEXHOST_HOSTILE_PIDFILE=" + cfg.PidFile}
		if err := c.Run(); err != nil {
			return nil, err
		}
		time.Sleep(time.Hour)
	case "crash-and-arm":
		// The restart that follows hangs before its handshake.
		if err := os.WriteFile(cfg.Marker, nil, 0o600); err != nil {
			return nil, err
		}
		os.Exit(4)
	case "ignore-ctx":
		// A process handler that ignores its context and never returns.
		time.Sleep(time.Hour)
	case "":
		return abstain("fine")
	default:
		return nil, errors.New("unknown mode " + cfg.Mode)
	}
	return abstain("done " + cfg.Mode)
}
