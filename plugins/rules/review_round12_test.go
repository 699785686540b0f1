package rules

import (
	"testing"
)

// Review round 12 (adversarial review of the worktree adv1). Each test
// below fails while the engine accepts its lines; each demonstration runs
// under real bash (demoMarker: a fresh directory holding x and pwn, the
// agent-written program that touches PWNED). A demonstration whose tool is
// missing (or does not cooperate) is logged, and the engine's verdict is
// asserted either way.

// round12Check asserts that no line of cases is accepted past a rule
// declining rm, and that no demonstration that made PWNED is accepted.
func round12Check(t *testing.T, cases []struct{ line, demo string }) {
	t.Helper()
	p := mustParse(t, noRmThenAnything)
	for _, tc := range cases {
		ran := demoMarker(t, tc.demo)
		if v, ok := acceptedBy(t, p, tc.line); ok {
			t.Errorf("%q: accepted by rule %q as %q, past the rule declining rm (under bash %q ran its command: %v)",
				tc.line, v.Rule, commandsOf(v.Analysis), tc.demo, ran)
		}
		if v, ok := acceptedBy(t, p, tc.demo); ok && ran {
			t.Errorf("%q: accepted by rule %q; under bash it made PWNED", tc.demo, v.Rule)
		}
	}
}

// TestRound12SqliteCommandsFromStdin: round 11 refuses a dot command
// (.system, .shell) given to sqlite3 as an argument or behind -cmd, but
// sqlite3 reads dot commands from its standard input too, and the line
// chooses that input: a here-string, a pipe from printf, or -init
// /dev/stdin (the file -init names is read as commands before anything
// else). The argv the engine sees holds no dot command, and each line runs
// the shell command of its .system.
func TestRound12SqliteCommandsFromStdin(t *testing.T) {
	round12Check(t, []struct{ line, demo string }{
		{"sqlite3 <<< '.system rm -rf victim'", "sqlite3 <<< '.system touch PWNED'"},
		{"printf '.system rm -rf victim\\n' | sqlite3", "printf '.system touch PWNED\\n' | sqlite3"},
		{"sqlite3 -init /dev/stdin :memory: 'select 1' <<< '.system rm -rf victim'",
			"sqlite3 -init /dev/stdin :memory: 'select 1' <<< '.system touch PWNED'"},
	})
}

// TestRound12SqliteEditFunction: the sqlite3 shell defines the SQL
// function edit(TEXT, EDITOR), which writes TEXT to a temporary file and
// runs system("EDITOR \"tmpfile\""): its second argument is a shell
// command. It is SQL, not a dot command, so round 11's check (an argument
// starting with '.') does not see it, as an operand or behind -cmd.
func TestRound12SqliteEditFunction(t *testing.T) {
	round12Check(t, []struct{ line, demo string }{
		{`sqlite3 :memory: "select edit('x','rm -rf victim;')"`, `sqlite3 :memory: "select edit('x','touch PWNED;')"`},
		{`sqlite3 -cmd "select edit('x','rm -rf victim;')" :memory: 'select 1'`,
			`sqlite3 -cmd "select edit('x','./pwn')" :memory: 'select 1'`},
	})
}

// TestRound12SftpScpDirectServer: round 11 refuses the short options o,
// S, F and J of scp and sftp, but -D SFTP_SERVER_PATH ("connect directly
// to a local sftp server", no ssh at all) names a program both run: sftp
// -D PROG runs PROG, and OpenSSH 9's scp (SFTP mode by default) takes -D
// too and runs PROG (with "--" as its argument).
func TestRound12SftpScpDirectServer(t *testing.T) {
	round12Check(t, []struct{ line, demo string }{
		{"sftp -D rm host", "sftp -D ./pwn host"},
		{"scp -D rm x host:y", "scp -D ./pwn x host:y"},
	})
}

// TestRound12ZipUnzipCommandAttached: round 11 refuses zip's -TT only as
// the exact word "-TT" (and --unzip-command by abbreviation), but zip's
// option parser also takes a short option's value attached, -TT=CMD and
// -TTCMD: with -T, each runs CMD through the shell to test the archive.
func TestRound12ZipUnzipCommandAttached(t *testing.T) {
	round12Check(t, []struct{ line, demo string }{
		{"zip -T -TT='rm -rf victim' o.zip x", "zip -T -TT='touch PWNED' o.zip x"},
		{"zip -T -TT'rm -rf victim' o.zip x", "zip -T -TT'touch PWNED' o.zip x"},
		{"zip -T -TTrm o.zip x", "zip -T -TT./pwn o.zip x"},
	})
}
