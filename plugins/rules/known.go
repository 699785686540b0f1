package rules

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Built-in knowledge of the programs people allow most: the options with
// which they write files or run other programs. A permissive rule never
// matches a command that uses one (the verdict says which), whatever the
// rule says.

// danger returns why the resolved argv writes or executes through its own
// options, or "". Every argument is read, after a "--" too: a "--" may be
// an option's argument (sort -T -- -o F), and an option may take several
// words (tree -LP 1 -- -o F), so no "--" surely ends the options of a
// program whose whole grammar the engine does not hold; a file named like
// an option after one costs a false decline.
func danger(argv []string) string {
	switch path.Base(argv[0]) {
	case "make", "gmake":
		// make reads an operand NAME=VALUE (:=, ::=, +=, ?=, !=) as an
		// assignment and expands it at once, $(shell …) included, under
		// -n too (review, round 9); so it does --eval's text, and a
		// makefile read from stdin or a device (-f -: the line's
		// here-document) (round 10).
		for k, a := range argv[1:] {
			if !strings.HasPrefix(a, "-") && strings.Contains(a, "=") {
				return "make " + a + ": an operand with = is a variable assignment, whose value make expands ($(shell …) runs)"
			}
			if longAbbrev(a, "--eval") || strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "E") {
				return "make " + a + ": --eval's text is make code ($(shell …) runs)"
			}
			for _, file := range makefileArgs(argv, k+1) {
				if why := stdinMakefile(file); why != "" {
					return "make " + a + " " + file + ": " + why
				}
				// make changes into each -C directory before it opens a
				// relative makefile (-C /dev/fd -f 0 is stdin: round 14).
				for j := range argv[1:] {
					for _, dir := range optionArgs(argv, j+1, 'C', "--directory") {
						if why := stdinMakefile(path.Join(dir, file)); why != "" && !path.IsAbs(file) {
							return "make " + argv[j+1] + " " + dir + " " + a + " " + file + ": " + why
						}
					}
				}
			}
		}
	case "npm":
		// npm exec (x) runs its arguments as a program, explore a shell
		// command, init/create a package's bin, edit the --editor. npm's
		// options take their value as the next word (npm --prefix . exec)
		// and its commands may be abbreviated (exe): any word that may be
		// one of them is refused (review, rounds 9 and 10).
		if why := npmPrograms(argv); why != "" {
			return why
		}
		for _, a := range argv[1:] {
			if strings.HasPrefix(a, "-") {
				continue
			}
			switch {
			case a == "x", a == "init", a == "innit", a == "create":
				return "npm " + a + " runs a program (a package's bin, or its arguments)"
			case len(a) >= 2 && (strings.HasPrefix("exec", a) || strings.HasPrefix("explore", a) || strings.HasPrefix("edit", a)):
				return "npm " + a + " may be exec, explore or edit, which run a program"
			}
		}
	case "pnpm", "yarn", "bun":
		if path.Base(argv[0]) == "pnpm" {
			if why := pnpmCommand(argv); why != "" {
				return why
			}
		}
		// npm's siblings run a program the line names (pnpm exec, yarn
		// exec, pnpm and yarn dlx, bun x) or a create-NAME package's bin
		// (create). Their options take values as the next word (pnpm
		// --filter web exec): any word that is one of these is refused
		// (round 24).
		for _, a := range argv[1:] {
			switch a {
			case "exec", "dlx", "x", "create":
				return path.Base(argv[0]) + " " + a + " runs a program (its arguments, or a package's bin)"
			}
		}
	case "uv", "pipx", "poetry", "pipenv", "pdm", "hatch", "conda", "mamba", "micromamba", "mise", "rtx", "asdf", "direnv", "volta",
		"nix", "gem", "pixi", "rye", "devbox", "flox", "fnm", "hermit", "tox", "dotnet", "pyenv", "rbenv", "nodenv", "bundle", "bundler",
		"nvm", "goenv", "jenv", "plenv", "phpenv", "luaenv", "swiftenv", "scalaenv", "sbtenv":
		// The environment managers and their kin (round 28).
		if why := runnerDanger(argv); why != "" {
			return why
		}
	case "go":
		// Options that name a program go runs (-toolexec, -vettool, -exec
		// of go run and go test; the external linker -ldflags may name),
		// and go env -w, which makes GOFLAGS name one for every later go
		// command (review, round 10). Go's flags take one dash or two
		// (--toolexec), a bool flag =value (-w=true), and go's own -C DIR
		// comes before the subcommand (round 13).
		sub := 1
		if len(argv) > 1 {
			if n, _, eq := strings.Cut(goFlagName(argv[1]), "="); n == "C" && strings.HasPrefix(argv[1], "-") {
				sub = 3
				if eq {
					sub = 2
				}
			}
		}
		for k := 1; k < len(argv); k++ {
			a := argv[k]
			if !strings.HasPrefix(a, "-") {
				if k == sub && a == "generate" {
					return "go generate runs the programs its directives name"
				}
				// go tool's tools run programs (test2json its operand,
				// pprof -tools DIR's) and write files (pprof -output,
				// pack, buildid -w, cgo -objdir, fix) (round 25).
				if k == sub && a == "tool" {
					return "go tool runs a toolchain tool, whose options run programs (test2json, pprof -tools) or write files (pprof -output, pack, buildid -w)"
				}
				continue
			}
			name, value, hasValue := strings.Cut(goFlagName(a), "=")
			switch name {
			case "toolexec", "vettool", "exec", "fixtool":
				// go 1.26's go fix -fixtool, as -vettool (round 25).
				return "go " + a + " runs a program of its own"
			case "w", "u":
				if k > sub && sub < len(argv) && argv[sub] == "env" {
					return "go env " + a + " writes the go command's configuration (GOFLAGS may name a program for every later go command)"
				}
			case "o", "coverprofile", "cpuprofile", "memprofile", "blockprofile", "mutexprofile", "trace",
				"outputdir", "modfile", "pkgdir", "json", "fuzzcachedir", "test.coverprofile", "test.cpuprofile",
				"test.memprofile", "test.blockprofile", "test.mutexprofile", "test.trace", "test.outputdir":
				// -o and the profiles write where they say (round 18);
				// -modfile reads another go.mod, -json is harmless but
				// costs nothing to refuse with them.
				if name != "json" {
					return "go " + a + " writes a file where it says"
				}
			}
			if strings.HasPrefix(name, "debug-") || name == "gocoverdir" ||
				strings.HasPrefix(name, "test.") && !safeTestFlags[strings.TrimPrefix(name, "test.")] {
				return "go " + a + " may write a file where it says (debug and test flags)"
			}
			if name == "gcflags" || name == "asmflags" || name == "ldflags" || name == "gccgoflags" {
				if !hasValue && k+1 < len(argv) {
					value = argv[k+1]
				}
				if f := toolWriteFlag(value); f != "" {
					return "go " + a + " " + value + ": the compiler or linker's " + f + " writes a file where it says"
				}
			}
		}
	case "split":
		// --filter=COMMAND runs a shell command per piece (round 11).
		for _, a := range argv[1:] {
			if longAbbrev(a, "--filter") {
				return "split " + a + " runs a shell command"
			}
		}
	case "zip":
		// -TT/--unzip-command names the program -T runs (round 11).
		for _, a := range argv[1:] {
			if strings.HasPrefix(a, "-TT") || longAbbrev(a, "--unzip-command") {
				return "zip " + a + " names a program zip runs"
			}
		}

	case "scp", "sftp":
		// -o ProxyCommand=… and -F (a config with one) run a shell
		// command, -S the program run in place of ssh, -D a local sftp
		// server (rounds 11 and 12).
		for _, a := range argv[1:] {
			if len(a) >= 2 && a[0] == '-' && a[1] != '-' && strings.ContainsAny(a[1:], "oSFJD") {
				return path.Base(argv[0]) + " " + a + " may name a program it runs (ssh options, -S)"
			}
			// sftp -b FILE reads its commands from FILE (- is stdin), and
			// a batch's !COMMAND runs COMMAND in a local shell, its lcd
			// and get write where they say (round 27).
			if path.Base(argv[0]) == "sftp" && len(a) >= 2 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a, 'b') >= 0 {
				return "sftp " + a + ": a batch file, whose !COMMAND runs a local shell command"
			}
		}
		if path.Base(argv[0]) == "sftp" && !sftpFetches(argv) {
			return "sftp reads its commands from stdin (a here-string, a pipe) unless it fetches host:PATH into a local path, and !COMMAND runs a local shell command"
		}
	case "ip":
		// ip netns exec NAME COMMAND and ip vrf exec NAME COMMAND run
		// COMMAND; -batch FILE (any prefix of it, one dash or two: -b,
		// --ba) reads ip commands, exec among them, from FILE or stdin
		// (round 27).
		for _, a := range argv[1:] {
			name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
			if a == "exec" || strings.HasPrefix(a, "-") && name != "" && strings.HasPrefix("batch", name) {
				return "ip " + a + " runs the command it names (netns exec, vrf exec) or the ip commands of a file (-batch)"
			}
		}
	case "nc", "netcat", "nc.traditional", "nc.openbsd", "ncat":
		// netcat-traditional's -e PROGRAM and -c COMMAND run a program
		// on the connection (so do ncat's -e/--exec, -c/--sh-exec and
		// --lua-exec), and -o FILE (ncat's --output, -x/--hex-dump)
		// writes the session into FILE; short options group (-vc)
		// (round 27).
		for _, a := range argv[1:] {
			for _, o := range []string{"--exec", "--sh-exec", "--lua-exec", "--output", "--append-output", "--hex-dump"} {
				if longAbbrev(a, o) {
					return path.Base(argv[0]) + " " + a + " runs a program on the connection or writes a file"
				}
			}
			letters := "eco"
			if path.Base(argv[0]) == "ncat" {
				letters = "ecox"
			}
			if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsAny(a, letters) {
				return path.Base(argv[0]) + " " + a + " runs a program on the connection (-e, -c) or writes a file (-o)"
			}
		}
	case "gpg", "gpg2":
		// gpg starts the agent and dirmngr its options name when an
		// operation needs them (--card-status, --recv-keys, a
		// passphrase), runs the photo viewer, reads an options file that
		// may name them (--options, and a --homedir's gpg.conf, whose
		// gpg-agent.conf names the pinentry), and takes any unambiguous
		// abbreviation (--agent-prog) (round 27).
		for _, a := range argv[1:] {
			for _, o := range []string{"--agent-program", "--dirmngr-program", "--photo-viewer", "--exec-path", "--homedir", "--options"} {
				if longAbbrev(a, o) {
					return path.Base(argv[0]) + " " + a + " names a program gpg runs, or a configuration that names one"
				}
			}
		}
	case "rustup":
		// rustup run TOOLCHAIN COMMAND runs COMMAND; rustup toolchain
		// link NAME DIR makes DIR a toolchain whose bin/cargo (cargo
		// +NAME) runs later; +DIR runs the rustup of a toolchain path, as
		// cargo +DIR (round 27).
		for k, a := range argv[1:] {
			if k == 0 && strings.HasPrefix(a, "+") && (strings.ContainsAny(a, "/\\") || strings.HasPrefix(a, "+.")) {
				return "rustup " + a + ": a toolchain path"
			}
			if a == "run" || a == "link" {
				return "rustup " + a + " runs the command it names (run) or makes a directory a toolchain whose programs later commands run (toolchain link)"
			}
		}
	case "bat", "batcat":
		// bat --pager names the program it pipes its output to, on a
		// terminal or with --paging=always (round 27).
		for _, a := range argv[1:] {
			if longAbbrev(a, "--pager") {
				return path.Base(argv[0]) + " " + a + " runs the pager it names"
			}
		}
	case "fd", "fdfind":
		// fd -x/--exec runs a command per match, -X/--exec-batch one for
		// all; clap groups short flags (-Hx CMD) (round 27).
		for _, a := range argv[1:] {
			if longAbbrev(a, "--exec") || longAbbrev(a, "--exec-batch") || len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsAny(a, "xX") {
				return path.Base(argv[0]) + " " + a + " runs a command for the files it finds"
			}
		}
	case "openssl":
		// -engine loads an engine, and an engine id that is a path is a
		// shared library openssl loads (its code runs: a constructor,
		// before the engine's checks fail); -provider loads a provider
		// module, from -provider-path's directory; -config names a
		// configuration whose sections load both; openssl engine -pre
		// loads one too (round 27). openssl takes -opt=value and --opt.
		if len(argv) > 1 && argv[1] == "engine" {
			return "openssl engine loads the engines (shared libraries) it names"
		}
		for _, a := range argv[1:] {
			if !strings.HasPrefix(a, "-") {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
			if strings.Contains(name, "engine") || strings.HasPrefix(name, "provider") || name == "config" {
				return "openssl " + a + " loads a shared library (an engine or a provider, or a configuration that names one), whose code runs in openssl"
			}
		}
	case "rsync":
		// -e/--rsh names the program rsync runs to reach a host (a local
		// program: rsync -e ./pwn x h:y runs ./pwn h rsync --server …),
		// --rsync-path the command the remote shell runs there, as ssh
		// would (round 27); --daemon starts a server whose --config names
		// programs (pre-xfer exec).
		for _, a := range argv[1:] {
			if longAbbrev(a, "--rsh") || longAbbrev(a, "--rsync-path") || longAbbrev(a, "--daemon") || longAbbrev(a, "--config") ||
				len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a, 'e') >= 0 {
				return "rsync " + a + " names a program rsync runs (-e/--rsh, here or on the host: --rsync-path) or starts its daemon"
			}
		}
	case "wget", "wget2":
		for _, a := range argv[1:] {
			if longAbbrev(a, "--use-askpass") {
				return "wget " + a + " runs a program"
			}
			// wget2 loads a plugin, a shared library whose code runs in
			// it, from a path (--local-plugin) or by name from the
			// directories --plugin-dirs names (round 27).
			if longAbbrev(a, "--local-plugin") || longAbbrev(a, "--plugin") || longAbbrev(a, "--plugin-dirs") {
				return "wget2 " + a + " loads a plugin (a shared library, whose code runs in wget2)"
			}
			// -e/--execute runs a wgetrc command (use_askpass = PROGRAM),
			// --config reads a wgetrc that may hold one; short options
			// group (-qe CMD) (round 25).
			if longAbbrev(a, "--execute") || longAbbrev(a, "--config") || len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a, 'e') >= 0 {
				return "wget " + a + ": a wgetrc command (-e) or file (--config), whose use_askpass names a program wget runs"
			}
		}
	case "cargo":
		// rustup's proxy reads +TOOLCHAIN first, and takes an absolute
		// path there: cargo +/DIR runs /DIR/bin/cargo (round 25).
		if len(argv) > 1 && strings.HasPrefix(argv[1], "+") && (strings.ContainsAny(argv[1], "/\\") || strings.HasPrefix(argv[1], "+.")) {
			return "cargo " + argv[1] + ": a toolchain path, whose cargo rustup runs"
		}
		if why := cargoSubcommand(argv); why != "" {
			return why
		}
		// cargo rustc and cargo rustdoc pass the words after -- to rustc
		// and rustdoc (round 29).
		if k := slices.Index(argv, "--"); k > 0 && (slices.Contains(argv[1:k], "rustc") || slices.Contains(argv[1:k], "rustdoc")) {
			if why := rustcDanger(argv, k+1); why != "" {
				return "cargo: " + why
			}
		}
		// --config sets any configuration key, build.rustc-wrapper (a
		// program) among them (review, round 10).
		for _, a := range argv[1:] {
			if a == "--config" || strings.HasPrefix(a, "--config=") {
				return "cargo --config may name a program (build.rustc-wrapper)"
			}
		}
	case "git":
		sub, reason := gitSubcommand(argv, true)
		if reason != "" {
			return reason
		}
		if sub < len(argv) && !gitBuiltins[argv[sub]] {
			return fmt.Sprintf("git %s is not one of git's builtin commands (git would run an alias or git-%s from its exec path or PATH)", argv[sub], argv[sub])
		}
		if why := gitDanger(argv, sub); why != "" {
			return why
		}
		if why := gitRunsByName(argv, sub); why != "" {
			return why
		}
		return gitEditor(argv, sub)
	case "tar":
		return tarDanger(argv)
	case "find":
		for _, a := range argv[1:] {
			switch a {
			case "-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls":
				return "find " + a + " executes or writes"
			}
		}
	case "sed":
		return sedDanger(argv)
	case "rg":
		for _, a := range argv[1:] {
			if longAbbrev(a, "--pre") || a == "--pre" || longAbbrev(a, "--search-zip") || longAbbrev(a, "--hostname-bin") ||
				len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a, 'z') >= 0 {
				return "rg " + a + " runs other programs"
			}
		}
	case "file":
		for _, a := range argv[1:] {
			if longAbbrev(a, "--compile") || a == "--compile" || len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a, 'C') >= 0 {
				return "file " + a + " writes a file"
			}
			if longAbbrev(a, "--uncompress") || longAbbrev(a, "--uncompress-noreport") || len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsAny(a, "zZ") {
				return "file " + a + " runs decompressors"
			}
		}
	case "tree":
		// tree groups short options (-ao is -a -o); -R with -H writes
		// 00Tree.html in every directory.
		for _, a := range argv[1:] {
			if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsAny(a, "oR") || longAbbrev(a, "--output") {
				return "tree " + a + " writes a file"
			}
		}
	case "uniq":
		// uniq [OPTION]... [INPUT [OUTPUT]]: a second operand is written.
		operands, opts := 0, true
		for i := 1; i < len(argv); i++ {
			switch a := argv[i]; {
			case opts && a == "--":
				opts = false
			case opts && (a == "-f" || a == "-s" || a == "-w"):
				i++
			case opts && len(a) > 1 && a[0] == '-':
			default:
				operands++
			}
		}
		if operands > 1 {
			return "uniq writes its second operand"
		}
	case "xxd":
		// xxd [options] [infile [outfile]] writes its second operand.
		// Its options end at the first operand or "--"; -c, -g, -l, -n,
		// -o, -s, -R (and -cols, -len, …) take the next word when nothing
		// is attached. A word the engine does not skip counts as an
		// operand, so a doubt costs a false decline (round 24).
		operands := 0
		opts := true
		for i := 1; i < len(argv); i++ {
			switch a := argv[i]; {
			case opts && a == "--":
				opts = false
			case opts && xxdValued[a]:
				i++
			case opts && len(a) > 1 && a[0] == '-':
			default:
				opts = false
				operands++
			}
		}
		if operands > 1 {
			return "xxd writes its second operand"
		}
	case "diff":
		// -l (--paginate) pipes the output through pr.
		for _, a := range argv[1:] {
			if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a, 'l') >= 0 || longAbbrev(a, "--paginate") {
				return "diff " + a + " runs pr"
			}
		}
	case "diff3", "sdiff":
		// --diff-program names the program they run in diff's place;
		// sdiff -o writes the merged file (its e command runs the
		// editor) (round 20).
		for _, a := range argv[1:] {
			if longAbbrev(a, "--diff-program") {
				return path.Base(argv[0]) + " " + a + " runs the program it names"
			}
			if path.Base(argv[0]) == "sdiff" && (len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a, 'o') >= 0 || longAbbrev(a, "--output")) {
				return "sdiff " + a + " writes a file (and runs the editor)"
			}
		}
	case "awk", "gawk", "mawk", "nawk", "busybox-awk":
		// awk's program runs commands (system, print | cmd, cmd | getline)
		// and writes files (print > f); -f reads a program from a file,
		// -i/-l/-E include code (round 18). The program text is the first
		// operand unless -f gives one.
		program := true
		for k := 1; k < len(argv); k++ {
			a := argv[k]
			if strings.HasPrefix(a, "-") && a != "-" {
				switch {
				case a == "--":
					continue
				case a == "-v" || a == "-F":
					k++ // a value
					continue
				case strings.HasPrefix(a, "-v") || strings.HasPrefix(a, "-F"):
					continue
				}
				return "awk " + a + ": an option that reads a program or a library, or that the engine does not know"
			}
			if program {
				if strings.Contains(a, "system") || strings.ContainsAny(a, "|>") || strings.Contains(a, "getline") {
					return "awk's program may run a command or write a file (system, |, >, getline)"
				}
				// gawk's @include reads program text from a file, @load
				// loads a library, and @f() calls the function (a builtin
				// too: f = "sys" "tem") a string names (round 20); blanks and
				// a backslash-newline may follow the @ (@ f(), @\<NL>include).
				// An @ before anything but a name is a typed regexp (@/x/)
				// or text (/@/, "@"), which run nothing (round 21).
				if awkAtName(a) {
					return "awk's program has gawk's @ (@include, @load, an indirect call @f()), which may run a command"
				}
				program = false
			}
		}
	case "curl":
		// curl writes files (-o, -O, -D, -c, --trace …) and reads a
		// config file that may say so (-K) (round 18).
		for k, a := range argv[1:] {
			// curl 8.3 reads --expand-OPTION as --OPTION whose value
			// expands {{variables}} (set from text, a file, the
			// environment, through functions such as 64dec): a format
			// built so holds what its words do not spell (round 21).
			if strings.HasPrefix(a, "--expand-") {
				a = "--" + strings.TrimPrefix(a, "--expand-")
				if longAbbrev(a, "--write-out") {
					return "curl --expand-write-out: a format its {{variables}} make (from a file, the environment, 64dec) may hold %output{FILE}, which writes a file"
				}
			}
			// -w's %output{FILE} writes FILE (curl 8.3), and -w @FILE
			// reads a format that may hold one (round 20).
			if strings.Contains(a, "%output") {
				return "curl " + a + ": %output{FILE} of -w writes a file"
			}
			if f, ok := optionValue(argv, k+1, 'w', "--write-out"); ok && strings.HasPrefix(f, "@") {
				return "curl " + a + ": -w @FILE reads a format, whose %output{FILE} writes a file"
			}
			if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsAny(a[1:], "oODcKT") {
				return "curl " + a + " writes a file or reads a config (-T to a file:// address writes it)"
			}
			for _, o := range []string{"--output", "--output-dir", "--remote-name", "--remote-name-all", "--dump-header", "--cookie-jar",
				"--trace", "--trace-ascii", "--libcurl", "--config", "--etag-save", "--hsts", "--alt-svc", "--stderr", "--create-dirs",
				"--upload-file", "--engine"} {
				if longAbbrev(a, o) {
					return "curl " + a + " writes a file or reads a config"
				}
			}
			// --ssl-sessions FILE (curl 8.12) saves the TLS session cache
			// into FILE at the end of the run (round 25); --ssl and
			// --ssl-reqd are other options.
			if longAbbrev(a, "--ssl-sessions") && strings.HasPrefix(a, "--ssl-s") {
				return "curl " + a + " writes the TLS session tickets into the file it names"
			}
		}
	case "yq":
		// yq -i rewrites its file (round 18); the Go yq's -s/--split-exp
		// writes each result into a file its expression names (round 25;
		// the Python yq's -s is jq's --slurp, a false decline).
		for _, a := range argv[1:] {
			if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsRune(a, 'i') || longAbbrev(a, "--inplace") || longAbbrev(a, "--in-place") {
				return "yq " + a + " rewrites its file"
			}
			if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsRune(a, 's') || strings.HasPrefix(a, "--split") {
				return "yq " + a + ": -s/--split-exp writes each result into a file the expression names"
			}
		}
	case "kubectl":
		// A kubeconfig names credential plugins kubectl runs (users[].user
		// .exec), and kubectl NAME runs kubectl-NAME from PATH (round 18).
		for k, a := range argv[1:] {
			// kubectl reads _ in a flag's name as - (--profile_output is
			// --profile-output: cliflag.WordSepNormalizeFunc) (round 25).
			if name, value, eq := strings.Cut(a, "="); strings.HasPrefix(name, "--") {
				a = strings.ReplaceAll(name, "_", "-")
				if eq {
					a += "=" + value
				}
			}
			if longAbbrev(a, "--profile-output") || longAbbrev(a, "--log-file") || longAbbrev(a, "--log-dir") {
				return "kubectl " + a + " writes a file where it says"
			}
			if longAbbrev(a, "--kubeconfig") || longAbbrev(a, "--cache-dir") {
				return "kubectl " + a + " names a kubeconfig, whose credential plugins kubectl runs"
			}
			// kubectl 1.33's --kuberc names a preferences file, whose
			// defaults give options their values (kustomize's
			// --helm-command) (round 25).
			if longAbbrev(a, "--kuberc") {
				return "kubectl " + a + " names a preferences file, whose defaults may name a program kubectl runs (kustomize's --helm-command)"
			}
			// kubectl kustomize runs the helm --helm-command names (with
			// --enable-helm), and the exec and container functions a
			// generator's annotation names (--enable-alpha-plugins,
			// --enable-exec) (round 25).
			for _, o := range []string{"--enable-helm", "--helm-command", "--enable-alpha-plugins", "--enable-exec"} {
				if longAbbrev(a, o) {
					return "kubectl " + a + ": kustomize runs the program it names (helm, a plugin or function of the kustomization)"
				}
			}
			if k == 0 && !strings.HasPrefix(a, "-") && !kubectlCommands[a] {
				return "kubectl " + a + " may be a plugin (kubectl-" + a + " on PATH)"
			}
		}
		if why := kubectlEditor(argv); why != "" {
			return why
		}
		// kubectl config set-credentials --exec-command and config set
		// users.NAME.exec.command (or an auth-provider's cmd-path) write
		// a credential plugin into the kubeconfig, which the next kubectl
		// runs (round 20).
		if slices.Contains(argv[1:], "config") && slices.ContainsFunc(argv[1:], func(a string) bool { return a == "set" || a == "set-credentials" }) {
			for _, a := range argv[1:] {
				if low := strings.ToLower(a); strings.Contains(low, "exec") || strings.Contains(low, "auth-provider") {
					return "kubectl config " + a + " writes a credential plugin (a program the next kubectl runs) into the kubeconfig"
				}
			}
		}
	case "less", "more":
		// A lesskey file (-k, --lesskey-file, --lesskey-src, or the text of
		// --lesskey-content) sets less's variables in its #env section:
		// LESSOPEN="|CMD %s" runs CMD for each file, also when less only
		// copies to a pipe. -o/-O (--log-file, --LOG-FILE) write a piped
		// input into a file. An initial command (+cmd, ++cmd) is typed
		// into less: !, |, s and v run a program or write a file; only a
		// line number, G and a search are vouched. more is less on macOS
		// (round 24).
		for _, a := range argv[1:] {
			low := strings.ToLower(a)
			if longAbbrev(low, "--lesskey-file") || longAbbrev(low, "--lesskey-src") || longAbbrev(low, "--lesskey-content") || longAbbrev(low, "--log-file") {
				return path.Base(argv[0]) + " " + a + ": a lesskey file (whose LESSOPEN runs a program) or a log file less writes"
			}
			if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsAny(a, "koO") {
				return path.Base(argv[0]) + " " + a + ": -k reads a lesskey file (whose LESSOPEN runs a program), -o/-O write a log file"
			}
			if cmd, ok := strings.CutPrefix(a, "+"); ok && !lessSafeCommand.MatchString(strings.TrimPrefix(cmd, "+")) {
				return path.Base(argv[0]) + " " + a + ": an initial command less runs as typed (!, |, s and v run a program or write a file)"
			}
		}
	case "man":
		// man-db runs the pager -P/--pager names (on a terminal, as
		// codex's commands have one), the browser of -H/--html, gxditview
		// for -X, reads a man_db.conf naming its programs with
		// -C/--config-file, and puts -r/--prompt's text into $LESS,
		// whose options (-k, -o) the pager reads. Short options group
		// (-aP CMD) (round 24).
		for _, a := range argv[1:] {
			for _, o := range []string{"--pager", "--html", "--gxditview", "--config-file", "--prompt"} {
				if longAbbrev(a, o) {
					return "man " + a + " runs a program or names one (pager, browser, configuration)"
				}
			}
			if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsAny(a, "PHXCr") {
				return "man " + a + " runs a program or names one (-P pager, -H browser, -X, -C configuration, -r prompt)"
			}
		}
	case "sort":
		for _, a := range argv[1:] {
			if a == "-o" || strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "o") || longAbbrev(a, "--output") || longAbbrev(a, "--compress-program") {
				return "sort " + a + " writes or executes"
			}
		}
	default:
		return toolDanger(argv)
	}
	return ""
}

// toolDanger is danger for the command-line tools people allow by
// prefix whose commands run a program the line names, a plugin, an alias
// or an extension (round 29); a function of its own, as danger's switch
// is near the branch limit of the plugin's wasm build.
func toolDanger(argv []string) string {
	switch path.Base(argv[0]) {
	case "helm":
		return helmDanger(argv)
	case "gh":
		return ghDanger(argv)
	case "composer":
		// composer exec runs a vendor binary (as npm exec); Symfony's
		// console takes a command's unambiguous prefix (round 29).
		for _, a := range argv[1:] {
			if len(a) >= 3 && strings.HasPrefix("exec", a) {
				return "composer " + a + " is composer exec, which runs a vendor binary (as npm exec)"
			}
		}
	case "bazel", "bazelisk":
		// --run_under runs tests and bazel run's target under a program
		// (as go test -exec), --script_path writes a script,
		// --server_javabase and --host_jvm_args run a JVM or load an
		// agent library, --bazelrc reads options that may hold any of
		// them (round 29).
		for _, a := range argv[1:] {
			name, _, _ := strings.Cut(a, "=")
			switch name {
			case "--run_under", "--script_path", "--server_javabase", "--host_jvm_args", "--bazelrc":
				return path.Base(argv[0]) + " " + a + " runs a program or loads a library the line names, or writes a script where it says"
			}
		}
	case "mvn", "mvnw":
		// exec:exec runs the program -Dexec.executable names (round 29).
		for _, a := range argv[1:] {
			if strings.HasPrefix(a, "exec:") || strings.Contains(a, "exec-maven-plugin") || strings.HasPrefix(a, "-Dexec.executable") {
				return "mvn " + a + ": the exec plugin runs the program -Dexec.executable names"
			}
		}
	case "unzip":
		// -: keeps the members' ../ components (round 29).
		for _, a := range argv[1:] {
			if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a, ':') >= 0 {
				return "unzip " + a + " keeps the members' ../ components: extracting writes wherever the archive says"
			}
		}
	case "cpio":
		return cpioDanger(argv)
	case "ssh-keygen":
		// -D loads a PKCS#11 library, -w a security key provider (its
		// code runs); short options group (-qD LIB) (round 29).
		for _, a := range argv[1:] {
			if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsAny(a, "Dw") {
				return "ssh-keygen " + a + " loads the library it names (a PKCS#11 or security key provider), whose code runs"
			}
		}
	}
	switch base := path.Base(argv[0]); {
	case compilerName.MatchString(base):
		return compilerDanger(argv)
	case base == "rustc" || base == "rustdoc":
		return rustcDanger(argv, 1)
	case base == "mypy" || base == "pyright" || base == "basedpyright" || base == "virtualenv":
		return namedInterpreter(argv)
	case base == "pylint":
		// --init-hook's Python code runs before pylint reads its files;
		// --output writes the report where it says (round 29).
		for _, a := range argv[1:] {
			if longAbbrev(a, "--init-hook") {
				return "pylint " + a + ": Python code pylint runs"
			}
			if longAbbrev(a, "--output") {
				return "pylint " + a + " writes its report where it says"
			}
		}
	case versioned(base, "pip"):
		return pipDanger(argv)
	case versioned(base, "python"):
		// python -m pip ARGS is pip ARGS.
		for k := 1; k < len(argv); k++ {
			a := argv[k]
			switch {
			case strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.HasSuffix(a, "m") && k+1 < len(argv) && argv[k+1] == "pip":
				// -m pip, and -m closing a cluster of flags (-Im pip).
				return pipDanger(argv[k+1:])
			case strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.HasSuffix(a, "mpip"):
				return pipDanger(append([]string{"pip"}, argv[k+1:]...))
			case a == "-X" || a == "-W":
				k++
			case !strings.HasPrefix(a, "-") || strings.HasPrefix(a, "-m") || strings.HasPrefix(a, "-c") || a == "--":
				return ""
			}
		}
	}
	return ""
}

// compilerName matches the C compiler drivers (gcc, cc, g++, c++, clang,
// clang++, cpp), versioned or with a target prefix (gcc-12,
// x86_64-linux-gnu-gcc-12).
var compilerName = regexp.MustCompile(`^([A-Za-z0-9_.]+-)*(gcc|g\+\+|cc|c\+\+|clang|clang\+\+|cpp)(-[0-9.]+)?$`)

// compilerDanger returns why a C compiler driver runs a program or loads
// a library the line names, or "": -wrapper runs every subprocess under
// a program, -B (--prefix) takes cc1, as and ld from a directory, -specs
// rewrites the commands gcc runs, -fplugin (and any plugin option, the
// linker's -plugin through -Wl, or -Xlinker, clang's -load through
// -Xclang) loads a library, clang's --ld-path and a -fuse-ld path name
// the linker, and @FILE reads more options from a file (round 29).
func compilerDanger(argv []string) string {
	for _, a := range argv[1:] {
		switch {
		case a == "-wrapper", strings.HasPrefix(a, "-B"), longAbbrev(a, "--prefix"):
			return path.Base(argv[0]) + " " + a + " runs the programs it names (a wrapper, or cc1, as and ld from a directory)"
		case strings.HasPrefix(a, "-specs") || strings.HasPrefix(a, "--specs"):
			return path.Base(argv[0]) + " " + a + ": a specs file, which rewrites the commands the compiler runs"
		case strings.HasPrefix(a, "-") && strings.Contains(a, "plugin") || a == "-load" || strings.HasPrefix(a, "--ld-path") ||
			strings.HasPrefix(a, "-fuse-ld=") && strings.ContainsAny(a, "/\\"):
			return path.Base(argv[0]) + " " + a + " loads a library or runs a linker the line names"
		case strings.HasPrefix(a, "@"):
			return path.Base(argv[0]) + " " + a + " reads more options from a file"
		}
	}
	return ""
}

// rustcDanger returns why rustc or rustdoc, given the options
// argv[from:], runs a program or loads a library the line names, or "":
// -C linker= and link-arg(s) name the linker or its options (-B DIR), -C
// llvm-args and -Z (llvm-plugins) load libraries, rustdoc's --runtool
// and --test-builder run programs, and @FILE reads options from a file
// (round 29).
func rustcDanger(argv []string, from int) string {
	for k := from; k < len(argv); k++ {
		a := argv[k]
		value := ""
		switch {
		case a == "-C" || a == "--codegen" || a == "-Z":
			if k+1 < len(argv) {
				value = argv[k+1]
			}
		case strings.HasPrefix(a, "--codegen="):
			value = strings.TrimPrefix(a, "--codegen=")
		case strings.HasPrefix(a, "-C"):
			value = a[2:]
		}
		switch {
		case strings.HasPrefix(a, "-Z"):
			return path.Base(argv[0]) + " " + a + " " + value + ": an unstable option (-Z llvm-plugins loads a library)"
		case strings.HasPrefix(value, "link") || strings.HasPrefix(value, "llvm-args"):
			return path.Base(argv[0]) + " " + a + " " + value + " names the linker, its options or LLVM's, which run a program or load a library"
		case strings.Contains(a, "runtool") || strings.Contains(a, "test-builder"):
			return path.Base(argv[0]) + " " + a + " runs the program it names"
		case strings.HasPrefix(a, "@"):
			return path.Base(argv[0]) + " " + a + " reads more options from a file"
		}
	}
	return ""
}

// managerPlugins returns why an environment manager installs a plugin
// whose code its later commands run, or "": poetry self (add, install,
// update: packages of poetry's own environment, whose plugins poetry
// loads), pdm self and pdm plugin add, asdf plugin add/update (and
// plugin-add), mise plugins install/link/update (plugin, p) (round 29).
func managerPlugins(argv []string) string {
	base := path.Base(argv[0])
	for k, a := range argv[1:] {
		next := ""
		if k+2 < len(argv) {
			next = argv[k+2]
		}
		switch {
		case base == "poetry" && a == "self" && next != "show",
			base == "pdm" && (a == "self" && next != "list" || a == "plugin" && next == "add"),
			base == "asdf" && (a == "plugin-add" || a == "plugin-update" || a == "plugin" && (next == "add" || next == "update")),
			(base == "mise" || base == "rtx") && (a == "plugins" || a == "plugin" || a == "p") && (next == "install" || next == "i" || next == "link" || next == "ln" || next == "update" || next == "up" || next == "add" || next == "a"):
			return base + " " + a + " " + next + " installs a plugin (code) that later " + base + " commands run"
		}
	}
	return ""
}

// namedInterpreter returns why a Python tool runs an interpreter the
// line names, or writes where it says, or "": mypy --python-executable
// and pyright's --pythonpath run it to learn its paths, virtualenv's,
// pipx's and uv's -p/--python (a path: a version or a name is looked up
// among the interpreters installed) to build an environment with it or
// to query it, poetry env use PATH too; mypy's reports and --junit-xml
// write, --install-types runs pip (round 29).
func namedInterpreter(argv []string) string {
	base := path.Base(argv[0])
	var short byte
	long, always := "--python", false
	switch base {
	case "uv", "virtualenv":
		short = 'p'
	case "pipx":
	case "mypy":
		long, always = "--python-executable", true
		for _, a := range argv[1:] {
			name, _, _ := strings.Cut(a, "=")
			if strings.HasPrefix(name, "--") && (strings.HasSuffix(name, "-report") || longAbbrev(a, "--junit-xml") || longAbbrev(a, "--install-types")) {
				return "mypy " + a + " writes a report where it says, or runs pip (--install-types)"
			}
		}
	case "pyright", "basedpyright":
		long, always = "--pythonpath", true
	case "poetry":
		if k := slices.Index(argv, "use"); k > 1 && argv[k-1] == "env" && k+1 < len(argv) && pathLike(argv[k+1]) {
			return "poetry env use " + argv[k+1] + " runs the interpreter it names (any program) to make the environment"
		}
		return ""
	default:
		return ""
	}
	for k := 1; k < len(argv); k++ {
		for _, v := range optionArgs(argv, k, short, long) {
			if always || pathLike(v) {
				return base + " " + argv[k] + " " + v + ": runs the interpreter it names (any program) to query it or to make an environment"
			}
		}
	}
	return ""
}

// pathLike reports whether an interpreter request is a path (a version
// or a bare name is looked up among the installed interpreters).
func pathLike(v string) bool {
	return strings.ContainsAny(v, "/\\") || strings.HasPrefix(v, ".") || strings.HasPrefix(v, "~")
}

// versioned reports whether base is name or name followed by a version
// (pip3, pip3.12, python3.12).
func versioned(base, name string) bool {
	v, ok := strings.CutPrefix(base, name)
	return ok && strings.Trim(v, "0123456789.") == ""
}

// pipDanger returns why pip runs a program other than itself or writes
// where the line says, or "": --python (pip 22.3, any unambiguous
// abbreviation) runs the interpreter it names, any program, in pip's
// place, pip config set writes a configuration whose global.python makes
// every later pip run a program (config edit runs the editor), and --log
// writes its log where it says (round 29).
func pipDanger(argv []string) string {
	config := false
	for _, a := range argv[1:] {
		if longAbbrev(a, "--python") {
			return "pip " + a + " runs the interpreter it names (any program) in pip's place"
		}
		if longAbbrev(a, "--log") || longAbbrev(a, "--log-file") || longAbbrev(a, "--local-log") {
			return "pip " + a + " writes its log into the file it names"
		}
		if a == "config" {
			config = true
		}
		if config && (a == "set" || a == "edit") {
			return "pip config " + a + " writes pip's configuration (whose global.python names a program every later pip runs) or runs the editor"
		}
	}
	return ""
}

// ghDanger returns why gh runs a program other than itself, or "": gh
// NAME, where NAME is none of gh's commands, runs the alias NAME (a shell
// command, with --shell or a leading !) or the extension gh-NAME; gh
// extension exec runs one, install, upgrade, create and browse make them,
// gh alias set and import make aliases, gh config set names the editor,
// pager and browser gh runs, and gh repo clone, repo fork and gist clone
// pass the words after -- to git clone, codespace ssh and cp to ssh
// (round 29). gh has no global options: its first word is the command.
func ghDanger(argv []string) string {
	if len(argv) < 2 {
		return ""
	}
	cmd := argv[1]
	if cmd == "--version" || cmd == "--help" || cmd == "-h" {
		return ""
	}
	if !ghCommands[cmd] {
		return "gh " + cmd + " is none of gh's commands: gh runs the alias " + cmd + " (a shell command) or the extension gh-" + cmd
	}
	sub := ""
	for _, a := range argv[2:] {
		if !strings.HasPrefix(a, "-") {
			sub = a
			break
		}
	}
	switch {
	case cmd == "alias" && (sub == "set" || sub == "import"):
		return "gh alias " + sub + " makes an alias, which may be a shell command gh runs (--shell, a value starting with !)"
	case (cmd == "extension" || cmd == "extensions" || cmd == "ext") && sub != "list" && sub != "ls" && sub != "remove" && sub != "search" && sub != "":
		return "gh " + cmd + " " + sub + " runs an extension (a program gh-NAME) or installs or makes one that gh NAME runs"
	case cmd == "config" && sub == "set":
		return "gh config set names the programs gh runs (editor, pager, browser)"
	case (cmd == "release" || cmd == "run") && sub == "download":
		// -O/--output and -D/--dir write where they say, as curl -o.
		for _, a := range argv[3:] {
			if longAbbrev(a, "--output") || longAbbrev(a, "--dir") || len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsAny(a, "OD") {
				return "gh " + cmd + " download " + a + " writes the download where it says"
			}
		}
	case (cmd == "repo" && (sub == "clone" || sub == "fork") || cmd == "gist" && sub == "clone" ||
		(cmd == "codespace" || cmd == "cs") && (sub == "ssh" || sub == "cp")) && slices.Contains(argv[2:], "--"):
		return "gh " + cmd + " " + sub + " passes the words after -- to git clone or ssh, whose options run programs (--template's hooks, -c, -o LocalCommand)"
	}
	return ""
}

// ghCommands are gh 2's commands, their aliases and its help topics (gh
// help TOPIC).
var ghCommands = map[string]bool{
	"accessibility": true, "agent-task": true, "alias": true, "api": true, "attestation": true, "at": true, "auth": true,
	"browse": true, "cache": true, "codespace": true, "cs": true, "completion": true, "config": true, "extension": true,
	"extensions": true, "ext": true, "gist": true, "gpg-key": true, "help": true, "issue": true, "label": true, "org": true,
	"pr": true, "preview": true, "project": true, "release": true, "repo": true, "ruleset": true, "rs": true, "run": true,
	"search": true, "secret": true, "ssh-key": true, "status": true, "variable": true, "workflow": true, "version": true,
	"actions": true, "environment": true, "exit-codes": true, "formatting": true, "mintty": true, "reference": true,
}

// kubectlEditor returns why kubectl runs the editor ($KUBE_EDITOR,
// $EDITOR), or "": kubectl edit, kubectl create --edit and kubectl apply
// edit-last-applied open the object in it, as git commit without a
// message opens git's (round 29).
func kubectlEditor(argv []string) string {
	for _, a := range argv[1:] {
		if a == "edit" || a == "edit-last-applied" || a == "--edit" || strings.HasPrefix(a, "--edit=") {
			return "kubectl " + a + " runs the editor ($KUBE_EDITOR, $EDITOR) on the object"
		}
	}
	return ""
}

// npmPrograms returns why npm runs a program its options name, or "":
// --script-shell is the shell npm runs scripts with, --git the git it
// clones a git dependency with; nopt takes any unambiguous abbreviation
// (--script-sh) (round 29).
func npmPrograms(argv []string) string {
	for _, a := range argv[1:] {
		if longAbbrev(a, "--script-shell") && len(strings.SplitN(a, "=", 2)[0]) > len("--s") || longAbbrev(a, "--git") && strings.HasPrefix(a, "--git") {
			return "npm " + a + " names the program npm runs scripts with (--script-shell) or clones git dependencies with (--git)"
		}
	}
	return ""
}

// cpioDanger returns why GNU cpio writes where the archive says or runs
// rsh, or "": copy-in (-i, --extract) keeps absolute member names unless
// --no-absolute-filenames is given, and -F/--file HOST:FILE and
// --rsh-command run rsh (round 29).
func cpioDanger(argv []string) string {
	extract, relative, list := false, false, false
	for k, a := range argv[1:] {
		if longAbbrev(a, "--rsh-command") {
			return "cpio " + a + " runs the program it names"
		}
		for _, v := range append(optionArgs(argv, k+1, 'F', "--file"), optionArgs(argv, k+1, 'O', "")...) {
			if scpLike(v) {
				return "cpio " + a + " " + v + ": HOST:FILE is a remote archive (cpio would run rsh)"
			}
		}
		switch {
		case longAbbrev(a, "--no-absolute-filenames"):
			relative = true
		case longAbbrev(a, "--extract"):
			extract = true
		case longAbbrev(a, "--list"):
			list = true
		case len(a) > 1 && a[0] == '-' && a[1] != '-':
			// -i (-t lists only) in a cluster, before any letter taking a
			// value.
			for _, c := range a[1:] {
				extract = extract || c == 'i'
				list = list || c == 't'
				if strings.ContainsRune("FOIEHMRC", c) {
					break
				}
			}
		}
	}
	if extract && !relative && !list {
		return "cpio -i keeps the members' absolute names (without --no-absolute-filenames): extracting writes wherever the archive says"
	}
	return ""
}

// helmDanger returns why helm runs a program other than itself, or "":
// --post-renderer names the program (Helm 4: the plugin) helm pipes the
// rendered manifests through, helm NAME runs the plugin NAME (its
// plugin.yaml's command, a shell command), helm plugin install and update
// run the plugin's hooks, and --kubeconfig names a kubeconfig whose
// credential plugins helm runs, as kubectl's (round 29). The command is
// the first word after helm's global options, which take their value as
// the next word (helm -n ns NAME); pflag takes no abbreviation.
func helmDanger(argv []string) string {
	for _, a := range argv[1:] {
		name, _, _ := strings.Cut(a, "=")
		if strings.HasPrefix(name, "--post-renderer") {
			return "helm " + a + " names a program (a plugin in Helm 4) that helm runs on the rendered manifests"
		}
		if name == "--kubeconfig" {
			return "helm " + a + " names a kubeconfig, whose credential plugins helm runs"
		}
	}
	for k := 1; k < len(argv); k++ {
		a := argv[k]
		name, _, eq := strings.Cut(a, "=")
		switch {
		case helmValued[name]:
			if !eq {
				k++
			}
			continue
		case helmFlags[a], strings.HasPrefix(a, "-n") && len(a) > 2 && !strings.HasPrefix(a, "--"):
			continue
		case strings.HasPrefix(a, "-"):
			return "helm " + a + " before the command is none of helm's options the engine knows: it may take the next word as its value, and helm runs a command NAME that is none of its own as the plugin NAME"
		case !helmCommands[a]:
			return "helm " + a + " is none of helm's commands: helm runs the plugin " + a + " (its plugin.yaml's command)"
		case a == "plugin":
			for _, b := range argv[k+1:] {
				if b == "install" || b == "add" || b == "update" || b == "up" {
					return "helm plugin " + b + " runs the plugin's hooks (shell commands), and later helm commands run the plugin"
				}
			}
		}
		return ""
	}
	return ""
}

// helmCommands are Helm 3's and 4's commands and their aliases;
// helmValued the global options that take a value, helmFlags those that
// take none.
var helmCommands = map[string]bool{
	"completion": true, "create": true, "dependency": true, "dep": true, "dependencies": true, "env": true, "get": true,
	"help": true, "history": true, "hist": true, "install": true, "lint": true, "list": true, "ls": true, "package": true,
	"plugin": true, "pull": true, "fetch": true, "push": true, "registry": true, "repo": true, "rollback": true,
	"search": true, "show": true, "inspect": true, "status": true, "template": true, "test": true, "uninstall": true,
	"un": true, "del": true, "delete": true, "upgrade": true, "verify": true, "version": true,
}
var helmValued = map[string]bool{
	"--burst-limit": true, "--kube-apiserver": true, "--kube-as-group": true, "--kube-as-user": true, "--kube-ca-file": true,
	"--kube-context": true, "--kube-tls-server-name": true, "--kube-token": true, "-n": true, "--namespace": true, "--qps": true,
	"--registry-config": true, "--repository-cache": true, "--repository-config": true, "--content-cache": true, "--color": true, "--colour": true,
}
var helmFlags = map[string]bool{"--debug": true, "-h": true, "--help": true, "--kube-insecure-skip-tls-verify": true}

// sftpFetches reports whether sftp's argv surely fetches a file and
// exits: its operands are exactly host:PATH (or sftp://host/PATH) and a
// local path. sftp reads its commands from stdin otherwise, also for
// host:DIR with no second operand (sftp.c, interactive_loop) (round 29).
// OpenSSH's getopt stops at the first operand.
func sftpFetches(argv []string) bool {
	k := 1
	for ; k < len(argv); k++ {
		a := argv[k]
		if a == "--" {
			k++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		for i := 1; i < len(a); i++ {
			if strings.IndexByte("cDilosSbBFJPRX", a[i]) >= 0 {
				if i == len(a)-1 {
					k++
				}
				break
			}
		}
	}
	if len(argv)-k != 2 {
		return false
	}
	src := argv[k]
	if rest, ok := strings.CutPrefix(src, "sftp://"); ok {
		i := strings.IndexByte(rest, '/')
		return i >= 0 && i+1 < len(rest)
	}
	// scp's colon(): a [bracketed] host (after user@ too), then ':'; a '/'
	// before any ':' makes the word a local path.
	if i := strings.IndexByte(src, '['); i == 0 || i > 0 && src[i-1] == '@' {
		j := strings.IndexByte(src, ']')
		return j > i && strings.HasPrefix(src[j+1:], ":")
	}
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case ':':
			return i > 0
		case '/':
			return false
		}
	}
	return false
}

// cargoSubcommand returns why cargo may run a program of its own name
// other than itself, or "": cargo NAME, where NAME is none of cargo's
// commands, runs cargo-NAME from ~/.cargo/bin or PATH (an external
// subcommand, as kubectl-NAME and git-NAME are), or an alias of the
// configuration; cargo help NAME runs cargo-NAME --help (round 27).
// The command is the first word after cargo's options (and a "--"):
// --color, --explain, --config, -C and -Z take a value, the next word
// unless it is attached. clippy, fmt and miri are rustup's components.
func cargoSubcommand(argv []string) string {
	k := 1
	if k < len(argv) && strings.HasPrefix(argv[k], "+") {
		k++
	}
	for ; k < len(argv); k++ {
		a := argv[k]
		switch {
		case a == "--":
			continue
		case strings.HasPrefix(a, "--"):
			if cargoValued[a] {
				k++
			}
			continue
		case strings.HasPrefix(a, "-") && a != "-":
			if i := strings.IndexAny(a, "CZ"); i == len(a)-1 {
				k++
			}
			continue
		}
		if !cargoCommands[a] {
			return "cargo " + a + " is not one of cargo's commands: cargo would run cargo-" + a + " from ~/.cargo/bin or PATH (an external subcommand), or an alias of its configuration"
		}
		if a == "help" {
			// Options may come between (cargo help -q NAME, help -- NAME).
			for _, b := range argv[k+1:] {
				if !strings.HasPrefix(b, "-") && !cargoCommands[b] {
					return "cargo help " + b + ": cargo would run cargo-" + b + " --help (an external subcommand)"
				}
			}
		}
		return ""
	}
	return ""
}

// cargoCommands are cargo's built-in commands and aliases (cargo 1.95),
// and the subcommands of rustup's components (clippy, fmt, miri).
var cargoCommands = map[string]bool{
	"add": true, "b": true, "bench": true, "build": true, "c": true, "check": true, "clean": true,
	"clippy": true, "config": true, "d": true, "doc": true, "fetch": true, "fix": true, "fmt": true,
	"generate-lockfile": true, "help": true, "info": true, "init": true, "install": true,
	"locate-project": true, "login": true, "logout": true, "metadata": true, "miri": true, "new": true,
	"owner": true, "package": true, "pkgid": true, "publish": true, "r": true, "read-manifest": true,
	"remove": true, "report": true, "rm": true, "run": true, "rustc": true, "rustdoc": true, "search": true,
	"t": true, "test": true, "tree": true, "uninstall": true, "update": true, "vendor": true,
	"verify-project": true, "version": true, "yank": true,
}

// cargoValued are cargo's long options before the command that take the
// next word as their value.
var cargoValued = map[string]bool{"--color": true, "--explain": true, "--config": true}

// pnpmCommand returns why pnpm may run a program the line names in
// place of its command, or "". pnpm NAME, where NAME is none of pnpm's
// commands, runs the package's script NAME or, when it has none, NAME
// itself as pnpm exec does: pnpm touch x runs touch, pnpm ./pwn runs
// ./pwn (round 27; pnpm run NAME, and a recursive run, -r or --filter,
// only run scripts). pnpm finds its command after its options, and an
// option that takes a value (--loglevel, -C) takes the next word, which
// the fallback then runs (pnpm --loglevel install touch x runs install):
// an option the engine does not know before the command is refused. A
// first word pnpm passes to npm (edit, docs, view, …) is read as npm's.
func pnpmCommand(argv []string) string {
	if len(argv) > 1 && pnpmToNpm[argv[1]] {
		if why := danger(append([]string{"npm"}, argv[1:]...)); why != "" {
			return "pnpm " + argv[1] + " is npm's: " + why
		}
		return ""
	}
	recursive := false
	for k := 1; k < len(argv); k++ {
		a := argv[k]
		name, _, eq := strings.Cut(a, "=")
		switch {
		case a == "--":
		case strings.HasPrefix(a, "-") && a != "-":
			switch {
			case pnpmValued[name] && eq && strings.HasPrefix(a, "--"):
			case pnpmValued[a] && !eq:
				k++
			case pnpmFlags[a]:
			default:
				return "pnpm " + a + " before the command: an option the engine does not know may take the next word as its value, and pnpm would run the word after it as a program (its fallback to pnpm exec)"
			}
			if name == "-r" || name == "--recursive" || name == "-F" || name == "--filter" || name == "--filter-prod" {
				recursive = true
			}
		case pnpmRecursive[a]:
			recursive = true
		case pnpmCommands[a]:
			return ""
		case recursive:
			// pnpm -r NAME runs the script NAME of each package that has
			// one, and nothing else.
			return ""
		default:
			return "pnpm " + a + " is not one of pnpm's commands: pnpm runs the package's script " + a + " or, without one, the program " + a + " (as pnpm exec); write pnpm run " + a
		}
	}
	return ""
}

// pnpmCommands are pnpm 9's commands (and their aliases), "start" (pnpm
// start runs the start script or server.js, never a program of that
// name) and "help". pnpmToNpm are the first words pnpm passes to npm.
var pnpmCommands = map[string]bool{
	"env": true, "cache": true, "audit": true, "completion": true, "config": true, "c": true, "get": true,
	"set": true, "doctor": true, "rebuild": true, "rb": true, "add": true, "ci": true, "clean-install": true,
	"ic": true, "install-clean": true, "install": true, "i": true, "dedupe": true, "fetch": true, "link": true,
	"ln": true, "prune": true, "remove": true, "uninstall": true, "rm": true, "un": true, "uni": true,
	"unlink": true, "dislink": true, "update": true, "up": true, "upgrade": true, "import": true,
	"deploy": true, "self-update": true, "list": true, "ls": true, "ll": true, "la": true, "why": true,
	"licenses": true, "outdated": true, "publish": true, "pack": true, "patch": true, "patch-commit": true,
	"patch-remove": true, "dlx": true, "create": true, "run": true, "run-script": true, "exec": true,
	"restart": true, "test": true, "t": true, "tst": true, "server": true, "setup": true, "store": true,
	"cat-index": true, "cat-file": true, "find-hash": true, "init": true, "bin": true, "install-test": true,
	"it": true, "root": true, "help": true, "start": true,
}

var pnpmToNpm = map[string]bool{
	"access": true, "adduser": true, "bugs": true, "deprecate": true, "dist-tag": true, "docs": true,
	"edit": true, "find": true, "home": true, "info": true, "issues": true, "login": true, "logout": true,
	"owner": true, "ping": true, "prefix": true, "profile": true, "pkg": true, "repo": true, "s": true,
	"se": true, "search": true, "set-script": true, "show": true, "star": true, "stars": true, "team": true,
	"token": true, "unpublish": true, "unstar": true, "v": true, "version": true, "view": true,
	"whoami": true, "xmas": true,
}

// pnpmRecursive are pnpm's recursive commands: the next word is the
// command, run in each package.
var pnpmRecursive = map[string]bool{"recursive": true, "multi": true, "m": true}

// pnpmValued are the options pnpm reads before its command with a value
// (the next word, or =VALUE); pnpmFlags those it reads without one.
var pnpmValued = map[string]bool{
	"-C": true, "--dir": true, "-F": true, "--filter": true, "--filter-prod": true, "--loglevel": true,
	"--reporter": true,
}

var pnpmFlags = map[string]bool{
	"-r": true, "--recursive": true, "-w": true, "--workspace-root": true, "--stream": true,
	"--aggregate-output": true, "--color": true, "--no-color": true, "--offline": true,
	"--prefer-offline": true, "--frozen-lockfile": true, "--help": true,
}

// lessSafeCommand is an initial command of less (after + or ++) that
// runs nothing and writes nothing: a line number, G or g, or a search
// (/ or ?) on one line.
var lessSafeCommand = regexp.MustCompile(`^([0-9]*[Gg]?|[/?][^\n\r]*)$`)

// xxdValued are xxd's options that take the next word as their value.
var xxdValued = map[string]bool{
	"-c": true, "-cols": true, "-g": true, "-groupsize": true, "-l": true, "-len": true, "-n": true, "-name": true,
	"-o": true, "-offset": true, "-s": true, "-seek": true, "-R": true,
}

// optionLike reports whether w is an option that may take the next word
// as its argument: a program reads "--" after it as that argument, not as
// the end of its options (sort -T -- -o FILE sorts into FILE, with "--"
// as its temporary directory). Without each program's option list, any
// option but --long=value may.
func optionLike(w string) bool {
	return len(w) > 1 && w[0] == '-' && !strings.Contains(w, "=")
}

// longAbbrev reports whether arg is the long option opt, with a value
// (--opt=v) or abbreviated as getopt_long and git accept: any prefix
// that no other option shares (sort --o is --output). Without each
// program's whole option list, every prefix counts: an ambiguous one is
// an error to the program, so declining it costs nothing.
// safeTestFlags are the test binary's flags (-test.NAME, or after -args)
// that write nothing.
var safeTestFlags = map[string]bool{
	"v": true, "run": true, "count": true, "short": true, "timeout": true, "bench": true, "benchtime": true,
	"benchmem": true, "cpu": true, "parallel": true, "failfast": true, "shuffle": true, "skip": true,
	"list": true, "fullpath": true, "fuzz": true, "fuzztime": true, "fuzzminimizetime": true,
}

// toolWriteFlags are the compiler's and the linker's flags that write a
// file (or run a program: the external linker).
var toolWriteFlags = map[string]bool{
	"o": true, "bench": true, "json": true, "asmhdr": true, "linkobj": true, "cpuprofile": true,
	"memprofile": true, "blockprofile": true, "mutexprofile": true, "trace": true, "traceprofile": true,
	"extld": true, "extldflags": true, "extar": true, "linkmode": true, "tmpdir": true,
	"capturehostobjs": true, "benchprofile": true,
}

// toolWriteFlag returns the first flag of a -gcflags/-ldflags/-asmflags
// value (each word, after a PATTERN= prefix) that writes a file, or "".
func toolWriteFlag(value string) string {
	for _, w := range strings.Fields(value) {
		if i := strings.Index(w, "=-"); i >= 0 && !strings.HasPrefix(w, "-") {
			w = w[i+1:] // all=-N: the flag after the package pattern
		}
		if !strings.HasPrefix(w, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(w, "-"), "=")
		if toolWriteFlags[name] || strings.Contains(w, "extld") || strings.Contains(w, "extar") || strings.Contains(w, "linkmode") ||
			strings.Contains(w, "profile") || strings.Contains(w, "file:") {
			return w
		}
	}
	return ""
}

// runnerDanger is danger for the project and tool environment managers
// and their kin (round 28), which run a program the line names (uv run,
// bundle exec) or TOOL-NAME from PATH (pyenv NAME); a function of its
// own, as danger's switch is near the branch limit of the plugin's wasm
// build.
func runnerDanger(argv []string) string {
	switch path.Base(argv[0]) {
	case "uv", "pipx", "poetry", "pipenv", "pdm", "hatch", "conda", "mamba", "micromamba", "mise", "rtx", "asdf", "direnv", "volta",
		"nix", "gem", "pixi", "rye", "devbox", "flox", "fnm", "hermit", "tox",
		"nvm", "goenv", "jenv", "plenv", "phpenv", "luaenv", "swiftenv", "scalaenv", "sbtenv":
		// The project and tool environment managers run a program the
		// line names in their environment (uv run CMD, uv tool run,
		// poetry run CMD, conda run -n ENV CMD, mise exec TOOL -- CMD,
		// direnv exec DIR CMD), as npm exec does, or a shell (poetry
		// shell); their options take values as the next word (uv
		// --directory d run), so any word that is one of these is
		// refused (review, round 28).
		base := path.Base(argv[0])
		if why := namedInterpreter(argv); why != "" {
			return why
		}
		if why := managerPlugins(argv); why != "" {
			return why
		}
		words := envRunners[base]
		if base == "rtx" {
			words = envRunners["mise"]
		}
		for _, a := range argv[1:] {
			if why := words[a]; why != "" {
				return base + " " + a + " " + why
			}
			// RubyGems takes an unambiguous prefix of a command (gem ex).
			if base == "gem" && len(a) >= 2 && strings.HasPrefix("exec", a) {
				return "gem " + a + " is gem exec (RubyGems takes a command's prefix), which runs a gem's program (as npx)"
			}
		}
		// conda NAME, where NAME is none of conda's commands, runs
		// conda-NAME from PATH, as kubectl NAME runs kubectl-NAME.
		if base == "conda" {
			if why := externalCommand(argv, condaCommands, condaFlags); why != "" {
				return why
			}
		}
	case "dotnet":
		// dotnet tool run NAME (tool exec, .NET 10's npx) runs a local
		// tool's program, and dotnet NAME, where NAME is none of the SDK's
		// commands, runs dotnet-NAME from PATH (or a local tool of that
		// name), a path the app it names (round 28).
		if k := slices.Index(argv, "tool"); k > 0 && slices.ContainsFunc(argv[k+1:], func(a string) bool { return a == "run" || a == "exec" || a == "execute" }) {
			return "dotnet tool run runs a tool's program (as npx)"
		}
		for _, a := range argv[1:] {
			if a == "-d" || a == "--diagnostics" {
				continue
			}
			if a == "exec" || strings.Contains(a, "/") || strings.HasSuffix(a, ".dll") {
				return "dotnet " + a + " runs an app the line names (dotnet exec APP, dotnet APP)"
			}
			break
		}
		if why := externalCommand(argv, dotnetCommands, map[string]bool{"-d": true, "--diagnostics": true}); why != "" {
			return why
		}
	case "pyenv", "rbenv", "nodenv":
		// pyenv exec CMD runs CMD (the version's, or from PATH under the
		// system version), and pyenv NAME runs pyenv-NAME from PATH (its
		// plugins' bin first), any NAME, an option too (pyenv --foo runs
		// pyenv---foo); pyenv completions NAME runs pyenv-NAME --complete.
		// rbenv and nodenv are pyenv's model (round 28).
		cmds := rbenvCommands
		if path.Base(argv[0]) == "pyenv" {
			cmds = pyenvCommands
		}
		for _, a := range argv[1:] {
			if a == "--debug" {
				continue
			}
			if a == "exec" {
				return path.Base(argv[0]) + " exec runs its arguments as a program (the version's, or PATH's under the system version: as npm exec)"
			}
			if a == "completions" {
				return path.Base(argv[0]) + " completions NAME runs " + path.Base(argv[0]) + "-NAME from PATH"
			}
			break
		}
		if why := externalCommand(argv, cmds, map[string]bool{"--debug": true}); why != "" {
			return why
		}
	case "bundle", "bundler":
		// bundle exec (e, ex, exe, or any prefix: Bundler's Thor takes an
		// unambiguous prefix of a command) runs CMD, bundle console an
		// irb reading stdin, bundle open the $EDITOR, and bundle NAME,
		// where NAME is none of Bundler's commands, runs bundler-NAME
		// from PATH (round 28).
		name := ""
		for k := 1; k < len(argv); k++ {
			a := argv[k]
			switch {
			case a == "--retry" || a == "-r":
				k++
				continue
			case strings.HasPrefix(a, "-"):
				if !bundlerFlags[a] && !strings.HasPrefix(a, "--retry=") {
					return "bundle " + a + " before the command: an option the engine does not know may take the next word as its value, and Bundler runs an unknown command NAME as bundler-NAME from PATH"
				}
				continue
			}
			name = a
			break
		}
		if name != "" && !slices.ContainsFunc(bundlerCommands, func(c string) bool { return strings.HasPrefix(c, name) }) {
			return "bundle " + name + " is none of Bundler's commands: Bundler runs bundler-" + name + " from PATH"
		}
		for _, a := range argv[1:] {
			switch {
			case a == "":
			case strings.HasPrefix("exec", a):
				return "bundle " + a + " is bundle exec (Bundler takes a command's prefix), which runs its arguments as a program (as npm exec)"
			case len(a) > 2 && strings.HasPrefix("console", a):
				return "bundle " + a + " may be bundle console, an irb that runs the Ruby code of its stdin"
			case strings.HasPrefix("open", a):
				return "bundle " + a + " may be bundle open, which runs the $EDITOR"
			}
		}
	}
	return ""
}

// envRunners are, for each project or tool environment manager, the
// words with which it runs a program the line names, a shell, or an
// editor, or makes its configuration (code) run in later shells, and
// what each does (round 28).
var envRunners = map[string]map[string]string{
	"uv":         {"run": "runs its arguments as a program in the project's environment (uv run CMD, uv tool run CMD: as npm exec and uvx)", "uvx": "runs a package's program (as uvx)"},
	"pipx":       {"run": "runs a package's program (as npx)", "runpip": "runs pip with its arguments in the package's environment"},
	"poetry":     {"run": "runs its arguments as a program in the project's environment (as npm exec)", "shell": "spawns a shell in the project's environment"},
	"pipenv":     {"run": "runs the Pipfile's script or its arguments as a program (as npm exec)", "shell": "spawns a shell in the project's environment"},
	"pdm":        {"run": "runs the project's script or its arguments as a program (as npm exec)"},
	"hatch":      {"run": "runs the environment's script or its arguments as a program (as npm exec)", "shell": "spawns a shell in the project's environment"},
	"conda":      {"run": "runs its arguments as a program in an environment (as npm exec)"},
	"mamba":      {"run": "runs its arguments as a program in an environment (as npm exec)"},
	"micromamba": {"run": "runs its arguments as a program in an environment (as npm exec)"},
	"mise": {
		"exec": "runs its arguments as a program (mise exec TOOL@VERSION -- CMD: as npm exec)", "x": "is mise exec, which runs its arguments as a program (as npm exec)",
		"run": "runs tasks, which may be any command the line or the project's configuration gives (mise run, mise r)", "r": "is mise run, which runs tasks: commands the project's configuration gives",
		"watch": "runs tasks on each change (mise watch)", "w": "is mise watch, which runs tasks", "en": "spawns a shell in the tools' environment",
		"trust": "trusts the project's configuration, whose env, hooks and tasks later shells then run",
	},
	"asdf": {"exec": "runs its arguments as a program (as npm exec)", "env": "runs a program in a tool's environment (asdf env TOOL CMD)"},
	"direnv": {
		"exec": "runs its arguments as a program after loading a directory's .envrc (bash code)", "edit": "runs the $EDITOR",
		"allow": "trusts the .envrc, bash code that later shells then run", "permit": "trusts the .envrc (direnv allow), bash code that later shells then run",
		"grant": "trusts the .envrc (direnv allow), bash code that later shells then run",
	},
	"volta": {"run": "runs its arguments as a program (as npm exec)"},
	// Their siblings: nix run (a flake's program, as npx), nix shell and
	// nix develop (a shell, or -c CMD), gem exec (RubyGems 3.5's npx),
	// pixi run and exec, rye run, devbox run and shell, flox activate
	// (-- CMD, or a shell), fnm exec, hermit exec, tox exec (round 28).
	"nix": {
		"run": "runs a package's program (as npx)", "shell": "runs a shell, or its -c/--command CMD, with the packages it names",
		"develop": "runs a shell, or its -c/--command CMD, in the flake's development environment",
	},
	"gem":    {"exec": "runs a gem's program (as npx)"},
	"pixi":   {"run": "runs the project's task or its arguments as a program (as npm exec)", "exec": "runs a package's program (as npx)", "x": "is pixi exec, which runs a package's program (as npx)", "shell": "spawns a shell in the project's environment"},
	"rye":    {"run": "runs the project's script or its arguments as a program (as npm exec)", "shell": "spawns a shell in the project's environment"},
	"devbox": {"run": "runs the project's script or its arguments as a program (as npm exec)", "shell": "spawns a shell in the project's environment"},
	"flox":   {"activate": "runs its arguments as a program (flox activate -- CMD), or a shell"},
	"fnm":    {"exec": "runs its arguments as a program (as npm exec)"},
	"hermit": {"exec": "runs its arguments as a program (as npm exec)"},
	"tox":    {"exec": "runs its arguments as a program in the tox environment (tox exec -- CMD: as npm exec)"},
	// nvm exec VERSION CMD runs CMD, nvm run VERSION ARGS node; rbenv's
	// siblings for Go, Java, Perl, PHP, Lua, Swift, Scala and sbt run
	// their arguments with exec, as rbenv exec (round 29).
	"nvm":      {"exec": "runs its arguments as a program (nvm exec VERSION CMD: as npm exec)", "run": "runs node with its arguments (nvm run VERSION ARGS)"},
	"goenv":    rbenvExec("goenv"),
	"jenv":     rbenvExec("jenv"),
	"plenv":    rbenvExec("plenv"),
	"phpenv":   rbenvExec("phpenv"),
	"luaenv":   rbenvExec("luaenv"),
	"swiftenv": rbenvExec("swiftenv"),
	"scalaenv": rbenvExec("scalaenv"),
	"sbtenv":   rbenvExec("sbtenv"),
}

// rbenvExec is the envRunners entry of one of rbenv's siblings: exec
// runs its arguments, completions NAME runs TOOL-NAME.
func rbenvExec(tool string) map[string]string {
	return map[string]string{
		"exec":        "runs its arguments as a program (as rbenv exec and npm exec)",
		"completions": "NAME runs " + tool + "-NAME from PATH",
	}
}

// externalCommand returns why the program of argv may run an external
// command in place of its own (PROGRAM-NAME from PATH), or "": its first
// word that is no option (flags are those it may skip) must be one of
// cmds; any other option comes before the command in its place. pyenv,
// rbenv, nodenv and conda (round 28).
func externalCommand(argv []string, cmds, flags map[string]bool) string {
	base := path.Base(argv[0])
	for _, a := range argv[1:] {
		if flags[a] {
			continue
		}
		if cmds[a] {
			return ""
		}
		if strings.HasPrefix(a, "-") {
			return base + " " + a + " is none of its options the engine knows, and " + base + " runs an unknown command NAME as " + base + "-NAME from PATH"
		}
		return base + " " + a + " is none of " + base + "'s commands: " + base + " runs " + base + "-" + a + " from PATH (a plugin, or any program of that name)"
	}
	return ""
}

// pyenvCommands are pyenv 2.6's own commands and python-build's, which
// pyenv bundles (install, uninstall), and its version options;
// rbenvCommands rbenv's and nodenv's, whose install and uninstall come
// from a plugin (ruby-build, node-build) and so may be any program of
// that name on PATH. exec and completions, which run programs, are in
// neither (round 28).
var pyenvCommands = map[string]bool{
	"commands": true, "global": true, "help": true, "hooks": true, "init": true, "install": true, "latest": true,
	"local": true, "prefix": true, "rehash": true, "root": true, "shell": true, "shims": true, "uninstall": true,
	"version": true, "version-file": true, "version-file-read": true, "version-file-write": true, "version-name": true,
	"version-origin": true, "versions": true, "whence": true, "which": true, "--version": true, "-v": true, "--help": true, "-h": true,
}
var rbenvCommands = map[string]bool{
	"commands": true, "global": true, "help": true, "hooks": true, "init": true,
	"local": true, "prefix": true, "rehash": true, "root": true, "shell": true, "shims": true,
	"version": true, "version-file": true, "version-file-read": true, "version-file-write": true, "version-name": true,
	"version-origin": true, "versions": true, "whence": true, "which": true, "--version": true, "-v": true, "--help": true, "-h": true,
}

// dotnetCommands are the .NET SDK 9's commands and the muxer's options
// (dotnet NAME runs dotnet-NAME, dotnet PATH the app at PATH).
var dotnetCommands = map[string]bool{
	"add": true, "build": true, "build-server": true, "clean": true, "format": true, "help": true, "list": true, "msbuild": true,
	"new": true, "nuget": true, "pack": true, "package": true, "publish": true, "reference": true, "remove": true, "restore": true,
	"run": true, "sdk": true, "sln": true, "solution": true, "store": true, "test": true, "tool": true, "vstest": true, "watch": true,
	"workload": true, "dev-certs": true, "fsi": true, "user-secrets": true, "--info": true, "--version": true, "--list-sdks": true,
	"--list-runtimes": true, "-h": true, "--help": true, "-?": true,
}

// condaCommands are conda's own commands (conda 24; conda build is the
// external conda-build); condaFlags the options it reads before one.
var condaCommands = map[string]bool{
	"activate": true, "clean": true, "commands": true, "compare": true, "config": true, "create": true, "deactivate": true,
	"doctor": true, "env": true, "export": true, "info": true, "init": true, "install": true, "list": true, "notices": true,
	"package": true, "remove": true, "uninstall": true, "rename": true, "run": true, "search": true, "update": true,
	"upgrade": true, "--version": true, "-V": true, "--help": true, "-h": true,
}
var condaFlags = map[string]bool{"-v": true, "-vv": true, "-vvv": true, "--verbose": true, "-q": true, "--quiet": true, "--json": true, "--no-plugins": true, "--debug": true}

// bundlerCommands are Bundler 2.5's commands and aliases (a word that
// is a prefix of one is that command, or an ambiguity Bundler reports);
// bundlerFlags the options it reads before one (-r/--retry takes a
// value).
var bundlerCommands = []string{
	"install", "update", "cache", "package", "pack", "exec", "config", "help", "add", "binstubs", "check", "show",
	"list", "ls", "outdated", "fund", "console", "open", "lock", "init", "gem", "platform", "clean", "doctor",
	"remove", "pristine", "info", "issue", "licenses", "version", "env", "plugin", "cli_help",
}
var bundlerFlags = map[string]bool{"--no-color": true, "--verbose": true, "-V": true, "--version": true, "-v": true, "--help": true, "-h": true}

// kubectlCommands are kubectl's own subcommands; any other first word may
// be a plugin.
var kubectlCommands = map[string]bool{
	"get": true, "describe": true, "logs": true, "explain": true, "version": true, "api-resources": true,
	"api-versions": true, "cluster-info": true, "top": true, "config": true, "auth": true, "diff": true,
	"events": true, "wait": true, "apply": true, "create": true, "delete": true, "edit": true, "exec": true,
	"port-forward": true, "proxy": true, "cp": true, "run": true, "expose": true, "set": true, "label": true,
	"annotate": true, "scale": true, "rollout": true, "patch": true, "replace": true, "attach": true,
	"debug": true, "drain": true, "cordon": true, "uncordon": true, "taint": true, "certificate": true,
	"completion": true, "kustomize": true, "plugin": true, "options": true, "autoscale": true,
}

// goFlagName is a go flag without its one or two dashes (Go's flag
// package takes both).
func goFlagName(a string) string {
	return strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
}

// makefileArgs returns the makefiles argv[k] names, if it is a -f option:
// -f FILE, -fFILE, a cluster ending in f (-sf FILE) or holding it (-kf-),
// and --file/--makefile and their abbreviations, with =FILE or FILE.
func makefileArgs(argv []string, k int) []string {
	return append(optionArgs(argv, k, 'f', "--file"), optionArgs(argv, k, 0, "--makefile")...)
}

// optionArgs returns the value argv[k] gives the option with the short
// letter short (0: none) or the long name long (or an abbreviation), if it
// is that option: -xVALUE, -x VALUE, a cluster holding x (-sx VALUE,
// -kxVALUE), --long=VALUE, --long VALUE.
func optionArgs(argv []string, k int, short byte, long string) []string {
	a := argv[k]
	next := ""
	if k+1 < len(argv) {
		next = argv[k+1]
	}
	switch {
	case strings.HasPrefix(a, "--"):
		if longAbbrev(a, long) {
			if _, v, ok := strings.Cut(a, "="); ok {
				return []string{v}
			}
			return []string{next}
		}
	case short != 0 && len(a) > 1 && a[0] == '-':
		if i := strings.IndexByte(a, short); i > 0 {
			if rest := a[i+1:]; rest != "" {
				return []string{rest}
			}
			return []string{next}
		}
	}
	return nil
}

// awkAtName reports whether gawk may read an @ of the awk program prog
// as @include, @load, @namespace or an indirect call @f(): an @ that
// blanks or backslash-newlines may separate from a name (a letter or _),
// or from a backslash gawk may read otherwise.
func awkAtName(prog string) bool {
	for i := 0; i < len(prog); i++ {
		if prog[i] != '@' {
			continue
		}
		j := i + 1
		for j < len(prog) {
			if strings.IndexByte(" \t\r\v\f", prog[j]) >= 0 {
				j++
			} else if prog[j] == '\\' && j+1 < len(prog) && prog[j+1] == '\n' {
				j += 2
			} else if prog[j] == '\\' && j+2 < len(prog) && prog[j+1] == '\r' && prog[j+2] == '\n' {
				j += 3
			} else {
				break
			}
		}
		if j < len(prog) && (prog[j] == '_' || prog[j] == '\\' || prog[j] >= 'a' && prog[j] <= 'z' || prog[j] >= 'A' && prog[j] <= 'Z' || prog[j] >= 0x80) {
			return true
		}
	}
	return false
}

// optionValue returns the value argv[k] gives the option with the short
// letter short or the long name long (or an abbreviation), if it is that
// option (as optionArgs).
func optionValue(argv []string, k int, short byte, long string) (string, bool) {
	if v := optionArgs(argv, k, short, long); len(v) > 0 {
		return v[0], true
	}
	return "", false
}

// stdinMakefile returns why a makefile path is the line's own make code
// (stdin, a device, a file descriptor) or may lead there, or "".
func stdinMakefile(file string) string {
	c := path.Clean(file)
	switch {
	case file == "-":
		return "a makefile from stdin is the line's own make code (its here-document)"
	case strings.HasPrefix(c, "/dev/") || strings.HasPrefix(c, "/proc/") || c == "/dev" || c == "/proc" ||
		strings.Contains(c, "/fd/") || strings.Contains(c, "stdin"):
		return "a makefile from a device or a descriptor is the line's own make code"
	case c == ".." || strings.HasPrefix(c, "../"):
		return "a makefile outside the working directory may be a device (../../dev/stdin)"
	}
	return ""
}

func longAbbrev(arg, opt string) bool {
	name, _, _ := strings.Cut(arg, "=")
	return len(name) > 2 && strings.HasPrefix(name, "--") && strings.HasPrefix(opt, name)
}

// globDanger returns why the glob patterns of argv (their indices) may
// change what a program the engine knows does, or "". A pattern becomes
// as many words as it matches, and each is any name an agent can create
// in the workspace: the engine already refuses a pattern that could
// expand to an option (one without a literal prefix, before "--"), but
// some programs give a meaning to an operand's position.
func globDanger(argv []string, patterns []int) string {
	if len(patterns) == 0 {
		return ""
	}
	first := patterns[0]
	switch path.Base(argv[0]) {
	case "make", "gmake":
		return "make reads a name with = that a glob pattern (" + argv[first] + ") may expand to as a variable assignment, which may run $(shell …)"
	case "uniq":
		return "uniq writes its second operand, and a glob pattern (" + argv[first] + ") may expand to two names"
	case "sed":
		_, words, _ := sedArgs(argv)
		for _, i := range words {
			if slices.Contains(patterns, i) {
				return "sed would read the first name a glob pattern (" + argv[i] + ") expands to as its script"
			}
		}
	case "tree":
		// tree has its own option parser (-LP 1 takes two words).
		for _, p := range patterns {
			if !prefixedPattern(argv[p]) {
				return "tree may read a name a glob pattern (" + argv[p] + ") expands to as an option"
			}
		}
	case "find":
		// find reads every word from the first one that starts with
		// '-', '(' or '!' as its expression, "--" or not.
		if dd := slices.Index(argv, "--"); dd >= 0 && patterns[len(patterns)-1] > dd {
			return "find reads names after -- as its expression (-delete, -exec …), so a glob pattern may expand to one"
		}
	case "git":
		sub, _ := gitSubcommand(argv, false)
		if first <= sub {
			return "a glob pattern (" + argv[first] + ") before git's subcommand may expand to another subcommand"
		}
		if gitRemotes[argv[sub]] || gitTakesStrategy[argv[sub]] {
			// A name in the workspace may be an address (evil::x, HOST:PATH)
			// or a merge strategy: git would run what it names.
			return "git " + argv[sub] + " may read a name a glob pattern (" + argv[first] + ") expands to as an address or a merge strategy, and run a program it names"
		}
	case "tar":
		// The old style's first word is a cluster of options (s* may
		// expand to sItf: -I), and an archive name may be HOST:FILE (a
		// remote archive).
		for _, p := range patterns {
			prev := ""
			if p > 1 {
				prev = argv[p-1]
			}
			if p == 1 || prev == "--file" || strings.HasPrefix(prev, "-") && !strings.HasPrefix(prev, "--") && strings.HasSuffix(prev, "f") ||
				p == 2 && !strings.HasPrefix(argv[1], "-") && strings.Contains(argv[1], "f") {
				return "tar may read a name a glob pattern (" + argv[p] + ") expands to as options or as a remote archive HOST:FILE"
			}
		}
	}
	return ""
}

// gitGlobalHarmless are the git options before the subcommand that
// change nothing a rule cares about; gitGlobalArg those of them that take
// the next argument.
var gitGlobalHarmless = map[string]bool{
	"--no-pager": true, "-P": true, "--no-optional-locks": true, "--literal-pathspecs": true,
	"--glob-pathspecs": true, "--noglob-pathspecs": true, "--icase-pathspecs": true,
	"--no-replace-objects": true, "--no-lazy-fetch": true, "--no-advice": true,
	// Not --bare: it is --git-dir=. (the cwd, whose files the agent
	// writes, read as the repository: its config runs programs).
}

// gitGlobalArg are git's global options that take the next argument; a
// strict reading allows only -C.
var gitGlobalArg = map[string]bool{
	"-C": true, "-c": true, "--git-dir": true, "--work-tree": true, "--namespace": true,
	"--config-env": true, "--exec-path": false, "--super-prefix": true, "--list-cmds": false,
	"--attr-source": true,
}

// gitSubcommand returns the index of git's subcommand in argv, skipping
// the global options. Strictly, only harmless global options (-C DIR,
// --no-pager, …) may be there and anything else is a reason; loosely,
// every option is skipped.
func gitSubcommand(argv []string, strict bool) (int, string) {
	i := 1
	for ; i < len(argv); i++ {
		a := argv[i]
		if !strings.HasPrefix(a, "-") {
			return i, ""
		}
		switch {
		case gitGlobalHarmless[a]:
		case a == "-C":
			i++
		case strict:
			return i, fmt.Sprintf("git option %s", a)
		case gitGlobalArg[a]:
			i++
		}
	}
	return i, ""
}

// gitBuiltins are the git subcommands built into the git program: any
// other subcommand is an alias from the repository's config (which may
// run a shell command) or a git-NAME program found on the exec path or
// PATH. Built-ins that run other programs by design (difftool,
// mergetool, help, submodule, filter-branch, bisect, …), and config and
// bundle (the configuration names programs; bundle writes a file) are
// not among them.
var gitBuiltins = map[string]bool{
	"add": true, "am": true, "annotate": true, "apply": true, "archive": true,
	"blame": true, "branch": true, "cat-file": true, "check-attr": true,
	"check-ignore": true, "check-mailmap": true, "check-ref-format": true, "checkout": true,
	"cherry": true, "cherry-pick": true, "clean": true, "clone": true, "column": true,
	"commit": true, "commit-graph": true, "commit-tree": true, "count-objects": true, "describe": true, "diff": true, "diff-files": true,
	"diff-index": true, "diff-tree": true, "fetch": true, "for-each-ref": true,
	"format-patch": true, "fsck": true, "gc": true, "grep": true, "hash-object": true,
	"init": true, "log": true, "ls-files": true, "ls-remote": true, "ls-tree": true,
	"merge": true, "merge-base": true, "mv": true, "name-rev": true, "notes": true,
	"pull": true, "push": true, "range-diff": true, "rebase": true, "reflog": true,
	"remote": true, "reset": true, "restore": true, "rev-list": true, "rev-parse": true,
	"revert": true, "rm": true, "shortlog": true, "show": true, "show-branch": true,
	"show-ref": true, "sparse-checkout": true, "stash": true, "status": true, "switch": true,
	"symbolic-ref": true, "tag": true, "update-index": true, "update-ref": true, "var": true,
	"verify-commit": true, "verify-tag": true, "version": true, "whatchanged": true,
	"worktree": true, "write-tree": true,
}

// gitLongDanger are git options that write files or run programs.
var gitLongDanger = []string{
	"--output", "--ext-diff", "--textconv", "--exec", "--upload-pack", "--receive-pack",
	"--open-files-in-pager", "--config-env", "--paginate", "--run", "--command", "--tool",
	"--extcmd", "--gpg-program", "--sequence-editor", "--editor", "--help",
	"--config", "--edit-description", "--template", "--separate-git-dir",
	"--output-directory", "--show-signature",
	// git apply --build-fake-ancestor=FILE writes an index at FILE, with
	// --check too (review, round 8).
	"--build-fake-ancestor",
	// Signing runs gpg.program (or gpg.ssh.program).
	"--gpg-sign",
}

// gitSubLongDanger are long options that run gpg.program in one
// subcommand only: elsewhere another option may have their prefix (git
// rev-parse --verify is no abbreviation of --verify-signatures).
var gitSubLongDanger = map[string][]string{
	"merge": {"--verify-signatures"}, "pull": {"--verify-signatures"},
	"tag":  {"--sign", "--local-user", "--verify"},
	"push": {"--signed"},
	// cat-file --filters runs the file's smudge filter (a program the
	// repository's configuration names), as --textconv does.
	"cat-file": {"--filters"},
}

// gitShortDanger are the short options, per subcommand, that run a
// program or set a configuration (which may name one): clone -c and -u
// (--upload-pack), ls-remote -u, rebase -x (--exec). They count in any
// cluster of short options.
var gitShortDanger = map[string]string{
	"clone": "cu", "ls-remote": "u", "rebase": "xS", "format-patch": "o", "archive": "o",
	// -S (--gpg-sign), tag -s, -u (sign) and -v (verify) run gpg.program.
	"commit": "S", "merge": "S", "cherry-pick": "S", "revert": "S", "commit-tree": "S",
	"am": "S", "pull": "S", "tag": "suv",
}

// gitVerifies are the subcommands that verify signatures: they run
// gpg.program (or gpg.ssh.program).
var gitVerifies = map[string]bool{"verify-commit": true, "verify-tag": true}

// gitSignaturePlaceholder finds a format's signature placeholders (%G?,
// %GG, %GS, %GK, …, with a +, - or blank modifier after the %, which git
// allows: %+GG), and for-each-ref's %(signature…) and %(*signature…).
var gitSignaturePlaceholder = regexp.MustCompile(`%[-+ ]?G|%\(\*?signature`)

func gitDanger(argv []string, sub int) string {
	if sub >= len(argv) {
		return ""
	}
	if gitVerifies[argv[sub]] {
		return "git " + argv[sub] + " runs gpg.program to verify signatures"
	}
	for _, a := range argv[sub+1:] {
		if gitSignaturePlaceholder.MatchString(a) {
			// A format's signature placeholders (%G?, %GG, %GS, %GK, …,
			// for-each-ref's %(signature)) verify it with gpg.program.
			return "git " + argv[sub] + " " + a + ": signature placeholders run gpg.program"
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		for _, list := range [2][]string{gitLongDanger, gitSubLongDanger[argv[sub]]} {
			for _, d := range list {
				if a == d || longAbbrev(a, d) {
					return "git " + a + " writes or executes"
				}
			}
		}
		if argv[sub] == "grep" && !strings.HasPrefix(a, "--") && strings.Contains(a, "O") {
			return "git grep " + a + " runs a pager"
		}
		if short := gitShortDanger[argv[sub]]; short != "" && !strings.HasPrefix(a, "--") && strings.ContainsAny(a[1:], short) {
			return "git " + argv[sub] + " " + a + " runs a program or sets the configuration"
		}
	}
	return ""
}

// sedDanger returns why a sed command line may write files or run
// programs: -i, a script file, or a script with w/W/e commands or s///w,e
// flags, or a script the engine does not fully read.
func sedDanger(argv []string) string {
	scripts, _, reason := sedArgs(argv)
	if reason != "" {
		return reason
	}
	for _, s := range scripts {
		if r := sedScriptDanger(s); r != "" {
			return r
		}
	}
	return ""
}

// sedArgs reads sed's arguments as GNU sed does: options anywhere, -e
// and -l (and --expression, --line-length) taking a value, in the rest
// of a cluster or the next word. It returns the scripts (each -e value,
// and the first operand when no -e came before it), the indices in argv
// of the words sed reads as a script or an option's value (where a glob
// pattern would become one), and why the line is refused if it has an
// option the engine does not know.
func sedArgs(argv []string) (scripts []string, words []int, reason string) {
	explicit := false
	value := func(i int) (string, int, bool) { // the next word, an option's value
		if i+1 >= len(argv) {
			return "", i, false
		}
		words = append(words, i+1)
		return argv[i+1], i + 1, true
	}
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "--":
			// The first operand after it is the script, if no -e gave one.
			if !explicit && len(scripts) == 0 && i+1 < len(argv) {
				scripts = append(scripts, argv[i+1])
				words = append(words, i+1)
			}
			return scripts, words, ""
		case !strings.HasPrefix(a, "-") || a == "-":
			if !explicit && len(scripts) == 0 {
				scripts = append(scripts, a)
				words = append(words, i)
			}
			continue
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a, "=")
			switch {
			case longAbbrev(name, "--expression"):
				explicit = true
				if !hasVal {
					var ok bool
					if val, i, ok = value(i); !ok {
						return nil, nil, "sed --expression without a script"
					}
				}
				scripts = append(scripts, val)
			case longAbbrev(name, "--line-length"):
				if !hasVal {
					_, i, _ = value(i)
				}
			case name == "--quiet", name == "--silent", name == "--regexp-extended", name == "--separate",
				name == "--unbuffered", name == "--null-data", name == "--posix", name == "--debug",
				name == "--sandbox", name == "--follow-symlinks":
			default:
				return nil, nil, "sed option " + a
			}
			continue
		}
		// A cluster of short options.
		for j := 1; j < len(a); j++ {
			switch a[j] {
			case 'n', 'E', 'r', 's', 'u', 'z':
			case 'e', 'l':
				val := a[j+1:]
				if val == "" {
					var ok bool
					if val, i, ok = value(i); !ok {
						return nil, nil, "sed -" + string(a[j]) + " without its argument"
					}
				}
				if a[j] == 'e' {
					explicit = true
					scripts = append(scripts, val)
				}
				j = len(a)
			default:
				return nil, nil, "sed option -" + string(a[j]) + " (in " + a + ")"
			}
		}
	}
	return scripts, words, ""
}

// sedScriptDanger reads a sed script and returns why it may write files
// or run programs, or "".
func sedScriptDanger(s string) string {
	i := 0
	skipSpace := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	// delimited skips a part delimited by d, honouring backslashes; false
	// if it does not end.
	delimited := func(d byte) bool {
		for ; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 < len(s) && s[i+1] == 'c' {
					return false // \cX: X is part of the escape (GNU sed's match_slash)
				}
				i++
			case '\n':
				return false
			case d:
				i++
				return true
			}
		}
		return false
	}
	// regex skips a regular expression delimited by d: as delimited, but
	// GNU sed reads a bracket expression whole ([/] holds a slash, []/]
	// and [^]/] a bracket and a slash, [[:alpha:]/] a class), where a
	// backslash is no escape. A bracket with a backslash is refused
	// (false), as one that does not end on its line.
	regex := func(d byte) bool {
		for ; i < len(s); i++ {
			switch c := s[i]; {
			case c == '\\':
				if i+1 < len(s) && s[i+1] == 'c' {
					return false // \cX: X is part of the escape (GNU sed's match_slash)
				}
				i++
			case c == '\n':
				return false
			case c == d:
				i++
				return true
			case c == '[':
				j := i + 1
				if j < len(s) && s[j] == '^' {
					j++
				}
				if j < len(s) && s[j] == ']' {
					j++
				}
				// GNU sed's snarf_char_class: state 0 outside a class,
				// 1 after its [, 2 inside [: :] (or [. .], [= =]), 3
				// after the closing : waiting for ].
				state, delim := 0, byte(0)
			bracket:
				for ; ; j++ {
					if j >= len(s) || s[j] == '\n' || s[j] == '\\' {
						return false
					}
					switch c := s[j]; c {
					case '.', ':', '=':
						if state == 1 {
							state, delim = 2, c
							continue
						}
						if state == 2 && c == delim {
							state = 3
							continue
						}
					case '[':
						if state == 0 {
							state = 1
						}
						continue
					case ']':
						if state <= 1 {
							break bracket
						}
						if state == 3 {
							state = 0
						}
					}
					state &^= 1
				}
				i = j // the closing ]
			}
		}
		return false
	}
	toEOL := func() {
		for i < len(s) && s[i] != '\n' {
			i++
		}
	}
	address := func() bool {
		switch {
		case i < len(s) && s[i] >= '0' && s[i] <= '9':
			for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '~') {
				i++
			}
		case i < len(s) && s[i] == '$':
			i++
		case i < len(s) && s[i] == '/':
			i++
			if !regex('/') {
				return false
			}
			for i < len(s) && (s[i] == 'I' || s[i] == 'M') {
				i++
			}
		case i+1 < len(s) && s[i] == '\\':
			d := s[i+1]
			i += 2
			if !regex(d) {
				return false
			}
		}
		return true
	}
	for {
		for i < len(s) && strings.IndexByte(" \t\n;", s[i]) >= 0 {
			i++
		}
		if i >= len(s) {
			return ""
		}
		if !address() {
			return "sed script: unterminated address"
		}
		skipSpace()
		if i < len(s) && s[i] == ',' {
			i++
			skipSpace()
			if i < len(s) && (s[i] == '+' || s[i] == '~') {
				i++
			}
			if !address() {
				return "sed script: unterminated address"
			}
			skipSpace()
		}
		for i < len(s) && s[i] == '!' {
			i++
			skipSpace()
		}
		if i >= len(s) {
			return "sed script: missing command"
		}
		c := s[i]
		i++
		switch c {
		case '{', '}', '=', 'd', 'D', 'g', 'G', 'h', 'H', 'n', 'N', 'p', 'P', 'x', 'z', 'F':
		case 'l', 'q', 'Q', 'L':
			skipSpace()
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
		case '#', ':', 'a', 'i', 'c', 'b', 't', 'T', 'v':
			if c == 'a' || c == 'i' || c == 'c' {
				// Text up to an unescaped newline.
				for i < len(s) && s[i] != '\n' {
					if s[i] == '\\' {
						i++
					}
					i++
				}
				continue
			}
			if c == '#' {
				toEOL()
				continue
			}
			// GNU sed's read_label: a label (and v's version) ends at a
			// blank, a newline or ';', and the next command may follow
			// on the same line (:a;e id, b a w FILE).
			skipSpace()
			for i < len(s) && strings.IndexByte(" \t\n\v\f\r;", s[i]) < 0 {
				i++
			}
		case 'r', 'R':
			toEOL() // reads a file, as cat would
		case 'y':
			if i >= len(s) {
				return "sed script: y without its delimiter"
			}
			d := s[i]
			i++
			// Two delimited parts: the pattern, then the replacement
			// (or the target set).
			if !delimited(d) {
				return "sed script: unterminated y"
			}
			if !delimited(d) {
				return "sed script: unterminated y"
			}
		case 's':
			if i >= len(s) || s[i] == '\n' || s[i] == '\\' {
				return "sed script: s without its delimiter"
			}
			d := s[i]
			i++
			// The pattern, then the replacement.
			if !regex(d) {
				return "sed script: unterminated s (or a bracket expression with a backslash)"
			}
			if !delimited(d) {
				return "sed script: unterminated s"
			}
			// GNU sed skips blanks between the flags (s/a/b/ i e is
			// s/a/b/ie; review, round 20); they end at a newline, ';',
			// '}' or '#'.
			for i < len(s) && strings.IndexByte("\n;}#", s[i]) < 0 {
				switch f := s[i]; {
				case f == ' ', f == '\t':
				case f == 'g', f == 'p', f == 'i', f == 'I', f == 'm', f == 'M', f >= '0' && f <= '9':
				case f == 'e':
					return "sed s///e executes"
				case f == 'w':
					return "sed s///w writes a file"
				default:
					return fmt.Sprintf("sed script: s flag %q", f)
				}
				i++
			}
		case 'e':
			return "sed e executes"
		case 'w', 'W':
			return "sed " + string(c) + " writes a file"
		default:
			return fmt.Sprintf("sed script: command %q", c)
		}
	}
}

// gitMergeStrategies are the merge strategies built into git: any other
// name makes git run git-merge-NAME, from its exec path or PATH.
var gitMergeStrategies = map[string]bool{"ort": true, "recursive": true, "resolve": true, "octopus": true, "ours": true, "subtree": true}

// gitTakesStrategy are the subcommands that take a merge strategy.
var gitTakesStrategy = map[string]bool{"merge": true, "rebase": true, "pull": true, "cherry-pick": true, "revert": true}

// gitRemotes are the subcommands that take a repository address.
var gitRemotes = map[string]bool{"fetch": true, "pull": true, "push": true, "ls-remote": true, "clone": true, "remote": true, "archive": true}

// gitRunsByName returns why git would run a program named by an argument:
// a merge strategy that is not built in (git-merge-NAME), a remote helper
// (NAME::address runs git-remote-NAME), or ssh (ssh://, host:path), all
// from PATH.
func gitRunsByName(argv []string, sub int) string {
	name := argv[sub]
	args := argv[sub+1:]
	if gitTakesStrategy[name] {
		for i, a := range args {
			v, ok := "", false
			switch {
			case a == "--strategy" || longAbbrev(a, "--strategy") && !strings.Contains(a, "="):
				if i+1 < len(args) {
					v, ok = args[i+1], true
				} else {
					v, ok = "", true
				}
			case longAbbrev(a, "--strategy"):
				_, v, _ = strings.Cut(a, "=")
				ok = true
			case (name == "merge" || name == "rebase" || name == "pull") && len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a, 's') >= 0:
				switch {
				case a == "-s" && i+1 < len(args):
					v, ok = args[i+1], true
				case strings.HasPrefix(a, "-s") && len(a) > 2:
					v, ok = a[2:], true
				default:
					return "git " + name + " " + a + ": -s names a merge strategy, which the engine cannot read here"
				}
			}
			if ok && !gitMergeStrategies[v] {
				return fmt.Sprintf("git %s: merge strategy %q is not built into git (git would run git-merge-%s from PATH)", name, v, v)
			}
		}
	}
	if !gitRemotes[name] {
		return ""
	}
	for _, a := range args {
		v, opt := a, strings.HasPrefix(a, "-")
		if opt {
			var ok bool
			if _, v, ok = strings.Cut(a, "="); !ok {
				continue // an option's value in the next word is checked as a word
			}
		}
		low := strings.ToLower(v)
		scheme, _, url := strings.Cut(low, "://")
		switch {
		case strings.Contains(v, "::"):
			return fmt.Sprintf("git %s %s: NAME::address runs the remote helper git-remote-NAME from PATH", name, a)
		case strings.Contains(low, "ssh://") || strings.Contains(low, "ssh+") || strings.Contains(low, "+ssh"):
			return fmt.Sprintf("git %s %s: an ssh address runs ssh", name, a)
		case url && !gitSchemes[scheme]:
			return fmt.Sprintf("git %s %s: the scheme %s:// runs the remote helper git-remote-%s from PATH", name, a, scheme, scheme)
		case scpLike(v):
			return fmt.Sprintf("git %s %s: HOST:PATH is an ssh address to git (it would run ssh); a refspec with a colon cannot be told from one here", name, a)
		}
	}
	return ""
}

// gitSchemes are the URL schemes git serves itself (or with its own
// helpers); any other NAME:// runs git-remote-NAME from PATH, and ssh
// runs ssh.
var gitSchemes = map[string]bool{"http": true, "https": true, "ftp": true, "ftps": true, "file": true, "git": true}

// scpLike reports whether git may read v as the scp-like ssh address
// [user@]host:path: a colon before any slash, in a word that is no URL.
func scpLike(v string) bool {
	i := strings.IndexByte(v, ':')
	return i > 0 && !strings.Contains(v[:i], "/") && !strings.Contains(v, "://")
}

// gitEditor returns why the git command may open an editor: the program
// core.editor, $GIT_EDITOR, $VISUAL or $EDITOR names (else editor or vi),
// which the engine does not vouch for. A commit, an annotated tag or a
// note without a message, -e/--edit, an interactive rebase, a revert
// without --no-edit.
func gitEditor(argv []string, sub int) string {
	name := argv[sub]
	args := argv[sub+1:]
	// short reports whether a cluster of short options has one of cs,
	// up to an option whose value is the rest of the cluster (-mfeature
	// is -m with "feature": its e is no -e). commit's -u takes its mode
	// attached (-unormal: the m of normal is no -m; review, round 20).
	valued := "mFCt"
	switch name {
	case "commit":
		valued += "u"
	case "merge", "pull":
		valued += "sX" // -sours, -Xrenormalize: a strategy and its option
	}
	short := func(cs string) bool {
		for _, a := range args {
			if len(a) < 2 || a[0] != '-' || a[1] == '-' {
				continue
			}
			for _, c := range a[1:] {
				if strings.ContainsRune(cs, c) {
					return true
				}
				if strings.ContainsRune(valued, c) {
					break
				}
			}
		}
		return false
	}
	long := func(opts ...string) bool {
		for _, a := range args {
			for _, o := range opts {
				if a == o || longAbbrev(a, o) {
					return true
				}
			}
		}
		return false
	}
	has := func(words ...string) bool {
		return slices.ContainsFunc(args, func(a string) bool { return slices.Contains(words, a) })
	}
	message := short("mFC") || long("--message", "--file", "--reuse-message")
	why := "git " + name + " may open an editor (core.editor, $GIT_EDITOR, $VISUAL or $EDITOR: a program the engine does not vouch for); give the message with -m"
	switch name {
	case "commit":
		// --fixup=amend:C and --fixup=reword:C edit the message.
		fixup := false
		for k, a := range args {
			if !longAbbrev(a, "--fixup") {
				continue
			}
			_, v, eq := strings.Cut(a, "=")
			if !eq && k+1 < len(args) {
				v = args[k+1] // --fixup amend:C, its own word (review, round 9)
			}
			if strings.HasPrefix(v, "amend:") || strings.HasPrefix(v, "reword:") {
				fixup = false
				break
			}
			fixup = true
		}
		if short("ecpi") || long("--edit", "--reedit-message", "--patch", "--interactive") || !message && !long("--no-edit") && !fixup {
			return why
		}
	case "tag":
		if short("e") || long("--edit") || (short("a") || long("--annotate")) && !short("mF") && !long("--message", "--file") {
			return why
		}
		// tag.gpgSign in the repository's config (the agent's to write)
		// makes git tag NAME a signed tag, whose message the editor is
		// asked for (review, round 23): a tag made without -m, -F or
		// --no-sign is refused; listing (no operand, -l, --contains, …)
		// and -d are not making one.
		if !short("mFldn") && !long("--message", "--file", "--no-sign", "--list", "--delete", "--contains", "--no-contains",
			"--merged", "--no-merged", "--points-at", "--column", "--sort", "--format") &&
			slices.ContainsFunc(args, func(a string) bool { return a == "" || a[0] != '-' }) {
			return why + " (tag.gpgSign signs it), or --no-sign"
		}
	case "notes":
		if has("edit") || short("c") || long("--reedit-message") || has("add", "append") && !message {
			return why
		}
	case "rebase":
		// --continue after a conflict edits the commit's message.
		// --autosquash (git 2.44 without -i too) makes a squash! commit
		// a squash, whose message the editor is asked for (round 24).
		if short("i") || long("--interactive", "--edit-todo", "--continue", "--autosquash") {
			return why
		}
	case "pull":
		// --rebase=interactive (=i, -ri) rebases interactively.
		if short("e") || long("--edit") || slices.ContainsFunc(args, func(a string) bool {
			_, v, ok := strings.Cut(a, "=")
			return ok && longAbbrev(a, "--rebase") && strings.HasPrefix(v, "i") ||
				len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.Contains(a, "ri")
		}) {
			return why
		}
		// A pull that merges makes a merge commit, whose message a
		// terminal edits (review, round 20); without --rebase or
		// --no-rebase, pull.rebase in the repository's config (the
		// agent's to write) decides, interactive included.
		if noEdit, rebases := gitMergeScan(name, args); !rebases && !noEdit {
			return why + ", --no-edit, --ff-only or --rebase"
		}
	case "merge":
		// --continue after a conflict commits without a message; a merge
		// commit's message is edited when the terminal is one (codex
		// runs commands on a pty when asked; review, round 20).
		if short("e") || long("--edit", "--continue") {
			return why
		}
		if noEdit, _ := gitMergeScan(name, args); !noEdit {
			return why + ", --no-edit or --ff-only"
		}
	case "am":
		if short("i") || long("--interactive") {
			return why
		}
	case "add":
		// Patch mode (-p, -i) opens the editor for the answer e, which
		// stdin may give (git add -p <<< e; review, round 8).
		if short("epi") || long("--edit", "--patch", "--interactive") {
			return why
		}
	case "checkout", "restore", "stash", "reset":
		if short("p") || long("--patch") {
			return why
		}
	case "cherry-pick":
		// --continue after a conflict commits the picked change, whose
		// message a terminal edits unless --no-edit (round 24).
		if short("e") || long("--edit") || long("--continue") && !long("--no-edit") {
			return why
		}
	case "revert":
		if short("e") || long("--edit") || !long("--no-edit") && !short("n") && !long("--no-commit") {
			return why
		}
	}
	return ""
}

// gitMergeScan reads the options of a merge (or a pull) as git's
// parse-options does, in order: the last of an option and its negation
// counts (--squash --no-squash merges; review, round 21), a value given
// as the next word is no option (--into-name --no-edit, pull -o --rebase),
// and -- or --end-of-options ends them. It reports whether the command
// makes no merge commit whose message an editor would be asked for
// (noEdit: a message, --no-edit, --ff-only not undone by a later --ff or
// --no-ff (or --no-f), --squash or --no-commit, or --abort or --quit
// alone) and, for a pull, whether it rebases non-interactively (its last
// --rebase, -r or --no-rebase is one of the first two, with no value or
// true or merges).
func gitMergeScan(name string, args []string) (noEdit, rebases bool) {
	valuedShort, valuedLong := "smXF", []string{"--cleanup", "--strategy", "--strategy-option", "--message", "--file", "--into-name"}
	if name == "pull" {
		valuedShort = "sXo"
		valuedLong = []string{"--cleanup", "--strategy", "--strategy-option", "--upload-pack", "--depth", "--deepen",
			"--shallow-since", "--shallow-exclude", "--refmap", "--server-option", "--negotiation-tip"}
	}
	message, ffOnly, squash, noCommit, noEditOpt := false, false, false, false, false
	for k := 0; k < len(args); k++ {
		a := args[k]
		if a == "--" || a == "--end-of-options" {
			break
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		if a[1] != '-' {
			for j := 1; j < len(a); j++ {
				c := a[j]
				if c == 'm' && name == "merge" || c == 'F' && name == "merge" {
					message = true
				}
				if strings.IndexByte(valuedShort, c) >= 0 {
					if j == len(a)-1 {
						k++
					}
					break
				}
				if c == 'r' && name == "pull" {
					v := a[j+1:]
					rebases = v == "" || v == "true" || v == "merges"
					break
				}
				if c == 'S' || c == 'j' {
					break // an optional value, attached
				}
			}
			continue
		}
		opt, v, eq := strings.Cut(a, "=")
		if slices.ContainsFunc(valuedLong, func(o string) bool { return longAbbrev(opt, o) }) {
			if longAbbrev(opt, "--message") || longAbbrev(opt, "--file") {
				message = name == "merge"
			}
			if !eq {
				k++
			}
			continue
		}
		// Each option the word may abbreviate counts (--no-f is --no-ff
		// or --no-file): one that undoes what vouches always does.
		no := strings.HasPrefix(opt, "--no-") && len(opt) > len("--no-")
		if longAbbrev(opt, "--no-message") || longAbbrev(opt, "--no-file") {
			message = false
		}
		if longAbbrev(opt, "--ff-only") || no && longAbbrev(opt, "--no-ff") {
			ffOnly = len(opt) > len("--ff") && longAbbrev(opt, "--ff-only")
		}
		if longAbbrev(opt, "--squash") {
			squash = true
		}
		if no && longAbbrev(opt, "--no-squash") {
			squash = false
		}
		if longAbbrev(opt, "--commit") {
			noCommit = false
		} else if len(opt) >= len("--no-comm") && longAbbrev(opt, "--no-commit") { // not --no-compact-summary
			noCommit = true
		}
		if no && longAbbrev(opt, "--no-edit") {
			noEditOpt = true
		}
		if no && longAbbrev(opt, "--no-rebase") {
			rebases = false
		} else if name == "pull" && longAbbrev(opt, "--rebase") && len(opt) > len("--re") {
			rebases = !eq || v == "true" || v == "merges"
		}
	}
	alone := len(args) == 1 && (args[0] == "--abort" || args[0] == "--quit")
	return message || ffOnly || squash || noCommit || noEditOpt || alone, rebases
}

// tarDanger returns why a tar command line runs other programs through
// its own options: --to-command, --checkpoint-action, a compression
// program (-I), volume scripts (-F), a remote archive (-f HOST:FILE runs
// rsh or ssh).
func tarDanger(argv []string) string {
	for i, a := range argv[1:] {
		for _, o := range []string{"--to-command", "--checkpoint-action", "--use-compress-program", "--info-script", "--new-volume-script", "--rsh-command", "--rmt-command"} {
			if a == o || longAbbrev(a, o) {
				return "tar " + a + " runs a program"
			}
		}
		// Files tar writes whatever it does, listing included (review,
		// round 8).
		for _, o := range []string{"--index-file", "--volno-file", "--listed-incremental", "--snapshot"} {
			if a == o || longAbbrev(a, o) {
				return "tar " + a + " writes a file"
			}
		}
		// The old style: a first word without a dash is a cluster too
		// (tar xIf PROG a.tar).
		if (len(a) > 1 && a[0] == '-' && a[1] != '-' || i == 0 && !strings.HasPrefix(a, "-")) && strings.ContainsAny(a, "IF") {
			return "tar " + a + " runs a program (-I, -F)"
		}
		if (len(a) > 1 && a[0] == '-' && a[1] != '-' || i == 0 && !strings.HasPrefix(a, "-")) && strings.ContainsRune(a, 'g') {
			return "tar " + a + " writes a snapshot file (-g)"
		}
		// -P/--absolute-names extracts members to the absolute paths (and
		// through the .. components) the archive gives: anywhere, where
		// tar would strip the leading / and skip .. (round 29).
		if (len(a) > 1 && a[0] == '-' && a[1] != '-' || i == 0 && !strings.HasPrefix(a, "-")) && strings.ContainsRune(a, 'P') || longAbbrev(a, "--absolute-names") {
			return "tar " + a + " keeps the members' absolute paths and .. components: extracting writes wherever the archive says"
		}
		// The archive, -f FILE or --file=FILE (also f in the first word
		// of the old style, tar cf FILE): HOST:FILE is a remote archive.
		if name, _, _ := strings.Cut(a, "="); name == "--file" || longAbbrev(a, "--file") && !longAbbrev(a, "--files-from") {
			v := ""
			if _, after, ok := strings.Cut(a, "="); ok {
				v = after
			} else if i+2 < len(argv) {
				v = argv[i+2]
			}
			if scpLike(v) {
				return "tar " + a + " " + v + ": HOST:FILE is a remote archive (tar would run rsh or ssh)"
			}
		}
	}
	for _, a := range argv[1:] {
		if !strings.HasPrefix(a, "--") && scpLike(a) {
			return "tar: " + a + " may be a remote archive HOST:FILE (tar would run rsh or ssh)"
		}
	}
	return ""
}
