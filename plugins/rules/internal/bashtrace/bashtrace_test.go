package bashtrace

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseTrace(t *testing.T) {
	in := strings.Join([]string{
		`100 execve("\x2f\x62\x69\x6e\x2f\x62\x61\x73\x68", ["\x62\x61\x73\x68"], 0x7ffd /* 3 vars */) = 0`,
		`100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD, child_tidptr=0x7f) = 101`,
		`101 execve("\x2f\x75\x73\x72\x2f\x62\x69\x6e\x2f\x65\x63\x68\x6f", ["\x65\x63\x68\x6f", "\x61\x22\x2c\x20\x5b\x5d\x29\x0d\x0a"], 0x55 /* 6 vars */ <unfinished ...>`,
		`100 openat(AT_FDCWD, "\x6f\x75\x74", O_WRONLY|O_CREAT|O_TRUNC, 0666 <unfinished ...>`,
		`101 <... execve resumed>)             = 0`,
		`100 <... openat resumed>)             = 3`,
		`100 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---`,
		`100 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = -1 EACCES (Permission denied)`,
		`100 openat(AT_FDCWD, "\x61", O_RDONLY|O_CLOEXEC) = 3`,
		`100 rename("\x61", "\x62") = 0`,
		`100 +++ exited with 0 +++`,
	}, "\n")
	calls, err := parseTrace(strings.NewReader(in), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 7 {
		t.Fatalf("got %d calls, want 7: %+v", len(calls), calls)
	}
	tr := &Trace{}
	if err := tr.fill(calls); err != nil {
		t.Fatal(err)
	}
	// The top-level exec (strace starting the shell) is not listed.
	if len(tr.Execs) != 1 || !slices.Equal(tr.Execs[0].Argv, []string{"echo", "a\", [])\r\n"}) || tr.Execs[0].Path != "/usr/bin/echo" {
		t.Fatalf("execs: %+v", tr.Execs)
	}
	if !tr.Execs[0].ByShell || tr.Execs[0].Caller != "/bin/bash" {
		t.Errorf("the echo was executed by the shell: %+v", tr.Execs[0])
	}
	if len(tr.FileOps) != 2 || tr.FileOps[0].Paths[0] != "out" || tr.FileOps[1].Syscall != "rename" {
		t.Errorf("file ops: %+v", tr.FileOps)
	}
	if len(tr.Sockets) != 1 || tr.Sockets[0].Domain != "AF_INET" || tr.Sockets[0].Err != "EACCES" {
		t.Errorf("sockets: %+v", tr.Sockets)
	}
}

func TestParseTraceMalformed(t *testing.T) {
	for _, in := range []string{
		`garbage`,
		`100 execve("\x2f`,
		`100 <... execve resumed>) = 0`,
		`100 execve("\xZZ", [], 0x0) = 0`,
		`100 execve("/bin/x", ["a"], 0x0)`,
	} {
		if _, err := parseTrace(strings.NewReader(in), false); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	// Killed at the timeout, strace may leave its last line cut short.
	if _, err := parseTrace(strings.NewReader(`1 execve("\x61", ["\x61"], 0x0) = 0`+"\n"+`1 clone(child_stack=NULL, flags=SIG`), true); err != nil {
		t.Errorf("a cut last line after a kill: %v", err)
	}
	// An abbreviated argv cannot be judged.
	calls, err := parseTrace(strings.NewReader(`1 execve("\x61", ["\x61"], 0x0) = 0`+"\n"+`1 execve("\x62", ["\x62", ...], 0x0) = 0`), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&Trace{}).fill(calls); err == nil {
		t.Error("an abbreviated argv was accepted")
	}
}

func TestLoginShell(t *testing.T) {
	for argv, want := range map[string]bool{
		"bash -lc x": true, "bash -c x": false, "-bash -c x": true, "bash --login -c x": true,
		"bash -o pipefail -lc x": true, "bash -c x -l": false, "bash -c -l": true, "bash -- -l": false, "sh -xl -c x": true,
		"bash --rcfile -l -c x": false,
	} {
		if got := loginShell(strings.Fields(argv)); got != want {
			t.Errorf("loginShell(%s) = %v, want %v", argv, got, want)
		}
	}
}

// runner starts a Runner, or skips when strace is missing outside CI.
func runner(t *testing.T, o *Options) *Runner {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v (make strace installs it)", err)
		}
		t.Skip(err)
	}
	r, err := NewRunner(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRun(t *testing.T) {
	r := runner(t, nil)
	if b := r.LoginBaseline(Bash); len(b) == 0 {
		t.Log("this machine's /etc/profile executes nothing")
	}
	cases := []struct {
		line    string
		vouched []Vouched
		want    []string // substrings of the violations, in order; none: no violation
	}{
		{line: "echo hi > out; cat a.txt | cat", vouched: []Vouched{
			{Argv: []string{"echo", "hi"}, Redirects: []Redirect{{Fd: 1, Op: ">", Path: "out", Writes: true}}},
			{Argv: []string{"cat", "a.txt"}}, {Argv: []string{"cat"}}}},
		{line: "echo hi > out", vouched: []Vouched{{Argv: []string{"echo", "hi"}}},
			want: []string{`openat(["out"]`}},
		{line: "echo $'a\\x01\"b' \"c d\"", vouched: []Vouched{{Argv: []string{"echo", "a\x01\"b", "c d"}}}},
		{line: "ls; git status", vouched: []Vouched{{Argv: []string{"git", "status"}}, {Argv: []string{"ls"}}},
			want: []string{"executed"}},
		{line: "/bin/bash -lc 'git status'", vouched: []Vouched{{Argv: []string{"git", "status"}}}},
		{line: "sh -c 'echo hi; ls'", vouched: []Vouched{{Argv: []string{"echo", "hi"}}, {Argv: []string{"ls"}}}},
		{line: "./bash -c ls", vouched: []Vouched{{Argv: []string{"ls"}}},
			want: []string{"executed [./bash", "program ./bash executed /usr/bin/touch", "program /usr/bin/touch: openat"}},
		{line: "sort -o PWNED a.txt", vouched: []Vouched{{Argv: []string{"sort", "-o", "PWNED", "a.txt"}}},
			want: []string{"program /usr/bin/sort: openat([\"PWNED\"]"}},
		{line: "exec 3<>/dev/tcp/127.0.0.1/9", vouched: nil, want: []string{"socket AF_INET"}},
		{line: "env ls && timeout 5 git status", vouched: []Vouched{{Argv: []string{"env", "ls"}, Inner: 1}, {Argv: []string{"timeout", "5", "git", "status"}, Inner: 2}}},
		{line: "exec ls -la", vouched: []Vouched{{Argv: []string{"exec", "ls", "-la"}, Inner: 1}}},
		{line: "command -p ls", vouched: []Vouched{{Argv: []string{"command", "-p", "ls"}, Inner: 2}}},
		{line: "env ls", vouched: []Vouched{{Argv: []string{"env", "ls"}}}, want: []string{"program /usr/bin/env executed /usr/local/bin/ls", "program /usr/bin/env executed /usr/bin/ls"}},
		{line: "env ls", vouched: []Vouched{{Argv: []string{"ls"}}}, want: []string{"executed [/usr/bin/env", "program /usr/bin/env executed", "program /usr/bin/env executed"}},
		{line: "echo hi >& out", vouched: []Vouched{{Argv: []string{"echo", "hi"}, Redirects: []Redirect{{Fd: 1, Op: ">&", Path: "out"}}}},
			want: []string{`openat(["out"]`}},
		{line: "ls nonexist || echo none; ls -d sub && echo yes", vouched: []Vouched{{Argv: []string{"ls", "nonexist"}}, {Argv: []string{"echo", "none"}}, {Argv: []string{"ls", "-d", "sub"}}, {Argv: []string{"echo", "yes"}}}},
		{line: "ls || echo none", vouched: []Vouched{{Argv: []string{"ls"}}, {Argv: []string{"echo", "none"}}}},
		{line: "ls nonexist || echo none", vouched: []Vouched{{Argv: []string{"ls", "nonexist"}}}, want: []string{"executed"}},
		{line: "ls *.md src/*.go x* nomatch*", vouched: []Vouched{{Argv: []string{"ls", "*.md", "src/*.go", "x*", "nomatch*"}, Patterns: []int{1, 2, 3, 4}}}},
		{line: "ls *.md", vouched: []Vouched{{Argv: []string{"ls", "*.md"}}}, want: []string{"executed"}},
		{line: "ls .*", vouched: []Vouched{{Argv: []string{"ls", "*"}, Patterns: []int{1}}}, want: []string{"executed"}},
		{line: "exec nosuchprogram-x", vouched: []Vouched{{Argv: []string{"exec", "nosuchprogram-x"}, Inner: 1}}},
		{line: "cd sub && ls", vouched: []Vouched{{Argv: []string{"cd", "sub"}}, {Argv: []string{"ls"}}}},
		{line: "git -c core.pager='touch x' -p log", vouched: []Vouched{{Argv: []string{"git", "-c", "core.pager=touch x", "-p", "log"}}},
			want: nil}, // no terminal: git starts no pager; listed to show that such a line is judged by its execs
	}
	for _, c := range cases {
		tr, err := r.Run(t.Context(), Bash, c.line)
		if err != nil {
			t.Fatalf("%q: %v", c.line, err)
		}
		got := r.Check(tr, Bash, c.line, c.vouched)
		if len(got) != len(c.want) {
			t.Errorf("%q: violations %q, want %d matching %q (stderr %s)", c.line, got, len(c.want), c.want, tr.Stderr)
			continue
		}
		for i := range got {
			if !strings.Contains(got[i], c.want[i]) {
				t.Errorf("%q: violation %q does not contain %q", c.line, got[i], c.want[i])
			}
		}
	}
}

func TestRunDash(t *testing.T) {
	r := runner(t, nil)
	if !r.Builtin(Dash, "echo") || r.Builtin(Bash, "echo") || !r.Builtin(Bash, "cd") {
		t.Fatal("builtins: dash's echo is a builtin, bash's is disabled, cd is one in both")
	}
	tr, err := r.Run(t.Context(), Dash, "echo hi; ls sub")
	if err != nil {
		t.Fatal(err)
	}
	if string(tr.Stdout) != "hi\nbash\ndeeper\nfile.txt\n" {
		t.Errorf("stdout %q", tr.Stdout)
	}
	if v := r.Check(tr, Dash, "echo hi; ls sub", []Vouched{{Argv: []string{"echo", "hi"}}, {Argv: []string{"ls", "sub"}}}); len(v) != 0 {
		t.Errorf("violations: %q", v)
	}
}

func TestRunTimeout(t *testing.T) {
	r := runner(t, &Options{Timeout: 500 * time.Millisecond})
	start := time.Now()
	tr, err := r.Run(context.Background(), Bash, "sleep 30 & sleep 30")
	if err != nil {
		t.Fatal(err)
	}
	if !tr.TimedOut || tr.ExitCode != -1 {
		t.Errorf("timed out %v, exit %d", tr.TimedOut, tr.ExitCode)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the run took %v", d)
	}
	if v := r.Check(tr, Bash, "", nil); len(v) == 0 || v[0] != "the run timed out" {
		t.Errorf("violations %q", v)
	}
}

func TestRunOutputLimit(t *testing.T) {
	r := runner(t, &Options{OutputLimit: 10, TraceLimit: 64 << 10})
	tr, err := r.Run(t.Context(), Bash, "cat README.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Stdout) != 10 {
		t.Errorf("stdout %q", tr.Stdout)
	}
	// Many execs overflow the trace limit: the run cannot be judged.
	if _, err := r.Run(t.Context(), Bash, "for i in $(seq 1 500); do /usr/bin/true; done"); err == nil {
		t.Error("an oversized trace was accepted")
	}
}

// TestMatchExecsSkipsAnOptionalLookalike: in cat < missing | cat, the
// first cat may be missing (its redirection fails) and looks like the
// second: the one exec is the second's, in order or not. A match that
// took the first cat for it reported a violation.
func TestMatchExecsSkipsAnOptionalLookalike(t *testing.T) {
	cat, ok := lookPath("cat")
	if !ok {
		t.Skip("no cat on PATH")
	}
	want := []wantExec{
		{v: Vouched{Argv: []string{"cat"}}, optional: true},
		{v: Vouched{Argv: []string{"cat"}}},
	}
	got := []Exec{{Pid: 7, Path: cat, Argv: []string{"cat"}, ByShell: true}}
	for _, anyOrder := range []bool{false, true} {
		m, ok := matchExecs(want, got, anyOrder)
		if !ok || m[7].w.optional {
			t.Errorf("anyOrder %v: matched %v, %v; want the exec taken as the required cat", anyOrder, m, ok)
		}
	}
	if _, ok := matchExecs(want[1:], nil, false); ok {
		t.Error("a required command that did not run was matched")
	}
}
