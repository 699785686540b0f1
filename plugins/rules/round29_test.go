package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Review round 29: the command-line tools people allow by prefix (helm,
// gh, pip, sftp) that run a program the line names, a plugin, an alias or
// an extension, or read commands from stdin.

// round29Env is the environment of the demonstrations: PATH's system
// directories (and the directory of the tool under test, where it is
// installed elsewhere), HOME and the tools' configuration in work.
func round29Env(t *testing.T, work, tool string) []string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		return nil
	}
	return []string{"PATH=" + filepath.Dir(p) + ":/usr/bin:/bin", "HOME=" + work, "LANG=C", "XDG_CONFIG_HOME=" + filepath.Join(work, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(work, ".data"), "XDG_CACHE_HOME=" + filepath.Join(work, ".cache")}
}

// round29Made reports whether the demonstration made work/name, and
// removes it.
func round29Made(t *testing.T, work, name string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(work, name))
	_ = os.Remove(filepath.Join(work, name))
	return err == nil
}

// TestRound29HelmRunsPrograms: helm template (install, upgrade) pipes the
// rendered manifests through the program --post-renderer names (a plugin
// of that name in Helm 4), helm NAME runs the plugin NAME (its
// plugin.yaml's command, a shell command), helm plugin install (and
// update) runs the plugin's install hook at once, and --kubeconfig names
// a kubeconfig whose credential plugins helm runs, as kubectl's does.
// known.go knew nothing of helm: a rule with argv_prefix = ["helm",
// "template"], which people allow to render a chart, vouched for "helm
// template x ./ch --post-renderer ./pwn", although helm runs ./pwn.
// Helm's global options before the command take values as the next word
// (helm -n ns pwn runs the plugin pwn). Demonstrated with helm 3.21 (built
// from its module; not installed here: the runs are logged as missing
// where it is not).
func TestRound29HelmRunsPrograms(t *testing.T) {
	if _, err := exec.LookPath("helm"); err == nil {
		work := t.TempDir()
		env := append(round29Env(t, work, "helm"), "HELM_CONFIG_HOME="+filepath.Join(work, "hc"), "HELM_DATA_HOME="+filepath.Join(work, "hd"), "HELM_CACHE_HOME="+filepath.Join(work, "hk"))
		files := map[string]string{
			"pr":               "#!/bin/sh\ntouch PWNED_RENDER\ncat\n",
			"plug/plugin.yaml": "name: pwn\nversion: 0.1.0\nusage: x\ndescription: x\ncommand: \"touch PWNED_PLUGIN\"\nhooks:\n  install: \"touch PWNED_HOOK\"\n",
		}
		for name, body := range files {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(work, name)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(work, name), []byte(body), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		bashIn(t, "helm create ch", work, env)
		for _, c := range []struct{ line, made string }{
			{"helm template x ./ch --post-renderer ./pr", "PWNED_RENDER"},
			{"helm plugin install ./plug", "PWNED_HOOK"},
			{"helm -n default pwn", "PWNED_PLUGIN"},
		} {
			if out := bashIn(t, c.line, work, env); !round29Made(t, work, c.made) {
				t.Errorf("%q made no %s (output %q): the demonstration failed", c.line, c.made, out)
			}
		}
	} else {
		t.Log("helm is not installed: no demonstration")
	}
	p := mustParse(t, round18Prefixes([]string{"helm", "template"}, []string{"helm", "install"}, []string{"helm", "plugin"}, []string{"helm", "list"})+`
[[rule]]
name = "helm"
decision = "accept"
[rule.match]
program = "helm"
`)
	for _, line := range []string{
		"helm template x ./ch --post-renderer ./pwn", "helm template x ./ch --post-renderer=./pwn", "helm install x ./ch --post-renderer ./pwn --post-renderer-args a",
		"helm upgrade --install x ./ch --post-renderer=./pwn", "helm plugin install ./plug", "helm plugin install https://example.com/p", "helm plugin update p",
		"helm pwn", "helm -n default pwn", "helm --namespace=x pwn", "helm --kube-context c pwn", "helm --debug pwn", "helm --foo list",
		"helm list --kubeconfig ./kc", "helm --kubeconfig=./kc list", "helm template x ./ch --kubeconfig ./kc --validate",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; helm runs a program the line names, a plugin or a credential plugin", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "helm's own commands run no program the line names",
		"helm template x ./ch", "helm template x ./ch -f values.yaml --set a=b", "helm lint ./ch", "helm list -A", "helm ls", "helm -n kube-system list",
		"helm --kube-context prod status x", "helm dependency update ./ch", "helm dep build ./ch", "helm show values ./ch", "helm inspect chart x/y",
		"helm plugin list", "helm plugin uninstall p", "helm repo add x https://example.com/charts", "helm version", "helm --help", "helm help template",
		"helm get values x", "helm history x", "helm uninstall x", "helm pull x/y --untar", "helm fetch x/y", "helm env", "helm search repo x")
}

// TestRound29GhAliasesAndExtensions: gh NAME, where NAME is none of gh's
// commands, runs the alias NAME (gh alias set --shell NAME 'touch PWNED',
// or a value starting with !, is a shell command gh runs through sh) or
// the extension gh-NAME (gh extension install . installs the program of
// a directory named gh-NAME); gh extension exec runs one, gh alias set
// and import make aliases, gh config set names the editor, the pager and
// the browser gh runs, and gh repo clone, gh repo fork and gh gist clone
// pass the words after -- to git clone (--template's hooks, -c, -u run
// programs), gh codespace ssh and cp to ssh (-o LocalCommand). known.go
// knew nothing of gh: a rule with program = "gh", which people allow to
// read issues and pull requests, vouched for all of them. The first word
// is gh's command: gh has no global options. Demonstrated with gh 2.23
// (Debian's package) where it is installed.
func TestRound29GhAliasesAndExtensions(t *testing.T) {
	if _, err := exec.LookPath("gh"); err == nil {
		work := t.TempDir()
		env := append(round29Env(t, work, "gh"), "GH_CONFIG_DIR="+filepath.Join(work, "ghc"), "GH_NO_UPDATE_NOTIFIER=1", "GH_TOKEN=dummy")
		if err := os.MkdirAll(filepath.Join(work, "gh-pwn"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, "gh-pwn", "gh-pwn"), []byte("#!/bin/sh\ntouch PWNED_EXT\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ line, made string }{
			{"gh alias set --shell x 'touch PWNED_ALIAS' && gh x", "PWNED_ALIAS"},
			{"gh alias set y '!touch PWNED_BANG' && gh y", "PWNED_BANG"},
			{"cd gh-pwn && gh extension install . && cd .. && gh pwn", "PWNED_EXT"},
		} {
			if out := bashIn(t, c.line, work, env); !round29Made(t, work, c.made) {
				t.Errorf("%q made no %s (output %q): the demonstration failed", c.line, c.made, out)
			}
		}
	} else {
		t.Log("gh is not installed: no demonstration")
	}
	p := mustParse(t, round18Prefixes([]string{"gh", "alias"}, []string{"gh", "repo"}, []string{"gh", "extension"})+`
[[rule]]
name = "gh"
decision = "accept"
[rule.match]
program = "gh"
`)
	for _, line := range []string{
		"gh x", "gh pwn", "gh co 12", "gh --foo pr list", "gh -- pwn", "gh alias set --shell x 'touch PWNED'", "gh alias set y '!touch PWNED'",
		"gh alias import aliases.yml", "gh alias import -", "gh extension install .", "gh ext install owner/gh-x", "gh extensions exec pwn",
		"gh extension upgrade --all", "gh extension create pwn", "gh ext browse", "gh config set pager ./pwn", "gh config set -h github.com editor ./pwn",
		"gh repo clone o/r -- --template=./tpl", "gh repo clone o/r d -- -c core.hooksPath=h", "gh repo fork o/r --clone -- --upload-pack=./pwn",
		"gh gist clone 123 -- --template=./tpl", "gh codespace ssh -c x -- -o LocalCommand=./pwn", "gh cs cp -e -- a b",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; gh runs an alias's shell command, an extension, or a program its configuration or git names", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "gh's own commands run no program the line names",
		"gh pr list", "gh pr view 12 --json title", "gh pr checks", "gh pr diff 12", "gh issue list --state open", "gh issue view 3",
		"gh run list", "gh run view 1 --log", "gh api repos/o/r/pulls", "gh repo view", "gh repo clone o/r", "gh repo clone o/r dir",
		"gh alias list", "gh alias delete x", "gh extension list", "gh ext search x", "gh config get editor", "gh config list",
		"gh auth status", "gh release list", "gh search issues x", "gh workflow list", "gh --version", "gh help pr", "gh status", "gh label list")
}

// TestRound29PipPython: pip --python PYTHON (pip 22.3, any unambiguous
// abbreviation: --pyt) runs PYTHON, any program, with pip's arguments in
// pip's place, and pip config set global.python PROGRAM writes a
// configuration that makes every later pip run PROGRAM (pip config edit
// runs the editor); --log writes its log where it says. known.go knew
// nothing of pip: a rule with program = "pip", or argv_prefix =
// ["python3", "-m", "pip"], vouched for "pip --python ./pwn list".
// Demonstrated with pip 23.2 (a virtual environment's, for config
// --site).
func TestRound29PipPython(t *testing.T) {
	if _, err := exec.LookPath("python3"); err == nil {
		work := t.TempDir()
		env := round29Env(t, work, "python3")
		if err := os.WriteFile(filepath.Join(work, "pwn"), []byte("#!/bin/sh\ntouch \"$(dirname \"$0\")/PWNED\"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if out := bashIn(t, "python3 -m venv venv", work, env); out != "" || !fileExists(filepath.Join(work, "venv", "bin", "pip")) {
			t.Logf("python3 -m venv failed (%q): no demonstration", out)
		} else {
			for _, line := range []string{"venv/bin/pip --python ./pwn list", "venv/bin/pip --pyt ./pwn list", "python3 -m pip --python=./pwn list",
				"venv/bin/pip config --site set global.python " + filepath.Join(work, "pwn") + " >/dev/null && venv/bin/pip list"} {
				if out := bashIn(t, line, work, env); !round29Made(t, work, "PWNED") {
					t.Errorf("%q ran no ./pwn (output %q): the demonstration failed", line, out)
				}
			}
		}
	} else {
		t.Log("python3 is not installed: no demonstration")
	}
	p := mustParse(t, round18Prefixes([]string{"python3", "-m", "pip"}, []string{"pip", "config"})+`
[[rule]]
name = "pip"
decision = "accept"
[rule.match]
program = ["pip", "pip3", "pip3.12", "python3"]
`)
	for _, line := range []string{
		"pip --python ./pwn list", "pip --python=./pwn list", "pip --pyt ./pwn list", "pip -q --py ./pwn freeze", "pip3 --python ./pwn show x",
		"pip3.12 --python ./pwn list", "python3 -m pip --python ./pwn list", "python3 -Im pip --python ./pwn list", "python3 -Impip --python ./pwn list", "pip config set global.python ./pwn", "pip config --site set global.python ./pwn",
		"pip config edit --editor ./pwn", "pip list --log ./notes", "pip --log=./notes list", "pip show x --log-file ./notes",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; pip runs the program --python names (or a later pip, the one of its configuration), or writes a log", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "pip's own commands run no program the line names",
		"pip list", "pip list --outdated", "pip show requests", "pip freeze", "pip3 install -r requirements.txt", "pip install --pre x",
		"pip download x --python-version 3.11 --only-binary=:all: -d wheels", "python3 -m pip list", "python3 -m pip install -e .",
		"pip config list", "pip config get global.index-url", "pip --version", "pip -q list")
}

// fileExists reports whether name exists.
func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// TestRound29SftpReadsCommandsFromStdin: sftp without -b reads its
// commands from stdin too, and !COMMAND runs COMMAND in a local shell:
// "sftp host <<<'!touch PWNED'" and "echo '!touch PWNED' | sftp host"
// run touch once ssh has connected. Round 27 refused -b only, and kept
// "sftp host:notes.txt" and "sftp -r host:dir" as fetches: sftp fetches
// host:PATH and exits only when PATH is not a directory or a second
// operand names where to put it; a directory with no second operand is
// sftp's cwd, and sftp then reads commands (sftp.c, interactive_loop). A
// rule that accepts sftp to fetch files vouched for all of them; now only
// the form that always fetches and exits (host:PATH LOCAL) is vouched. The
// demonstration connects to a local sftp-server with -D (which the engine
// refuses for its own reason) where it is installed; with a host the
// commands run the same once ssh has connected.
func TestRound29SftpReadsCommandsFromStdin(t *testing.T) {
	server := "/usr/lib/openssh/sftp-server"
	if _, err := os.Stat(server); err == nil {
		work := t.TempDir()
		env := []string{"PATH=/usr/bin:/bin", "HOME=" + work, "LANG=C"}
		for _, line := range []string{"sftp -D " + server + " <<<'!touch PWNED'", "echo '!touch PWNED' | sftp -q -D " + server} {
			if out := bashIn(t, line, work, env); !round29Made(t, work, "PWNED") {
				t.Errorf("%q ran no !touch PWNED (output %q): the demonstration failed", line, out)
			}
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
	for _, line := range []string{
		"sftp host <<<'!touch PWNED'", "echo '!touch PWNED' | sftp host", "sftp host < cmds", "sftp host:dir <<<'!touch PWNED'",
		"sftp -r host:dir", "sftp host:notes.txt", "sftp host", "sftp -P 22 user@host", "sftp host local", "sftp '[::1]' local",
		"sftp host:dir a b", "sftp -q host:", "sftp sftp://host", "sftp sftp://host b", "sftp sftp://host/ b", "sftp -- host", "sftp ./h:a b",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; sftp may read its commands from stdin, whose !COMMAND runs a local shell command", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "sftp fetching a file into a local path, then exiting",
		"sftp -P 2222 -q user@host:dir/file.txt .", "sftp host:notes.txt notes.txt", "sftp -r host:dir local", "sftp -qP 22 host:a b",
		"sftp -i key host:a b", "sftp '[::1]:a' b", "sftp 'u@[::1]:a' b", "sftp sftp://host/a b", "sftp -- host:a b")
}

// TestRound29SchedulersEditorsAndVersionManagers: at and batch read
// commands from stdin (or -f FILE) and atd runs them later, crontab FILE
// (or -: stdin) installs a table whose commands cron runs, and crontab -e
// runs the editor; none was in otherWrappers, so a rule with no command
// condition vouched for "at now <<<'touch PWNED'". kubectl edit (kubectl
// create --edit, kubectl apply edit-last-applied) runs the editor
// ($KUBE_EDITOR, $EDITOR) on the object, as git commit without a message
// runs git's, which the engine refuses. nvm exec VERSION CMD runs CMD (nvm
// run VERSION ARGS runs node), and goenv, jenv, plenv, phpenv, luaenv,
// swiftenv, scalaenv and sbtenv exec run their arguments, as rbenv exec.
// From their documentation (at, crontab and kubectl are installed here,
// but atd, cron and a cluster are not: nothing is run).
func TestRound29SchedulersEditorsAndVersionManagers(t *testing.T) {
	p := mustParse(t, round18Prefixes([]string{"kubectl", "edit"}, []string{"nvm", "exec"})+`
[[rule]]
name = "tools"
decision = "accept"
[rule.match]
program = ["kubectl", "nvm", "goenv", "jenv", "plenv", "phpenv", "luaenv", "swiftenv", "scalaenv", "sbtenv"]
`)
	any := anythingInWork(t, false)
	for _, line := range []string{
		"at now <<<'touch PWNED'", "at -f job now", "echo 'touch PWNED' | batch", "crontab tab", "crontab - <<<'* * * * * touch PWNED'", "crontab -e",
	} {
		if v, ok := acceptedBy(t, any, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; atd or cron runs the commands it schedules", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	for _, line := range []string{
		"kubectl edit deploy web", "kubectl -n x edit cm/y", "kubectl create -f cm.yaml --edit", "kubectl create secret generic s --edit=true",
		"kubectl apply edit-last-applied deploy/web", "nvm exec 20 touch PWNED", "nvm run 20 x.js", "goenv exec go version", "jenv exec java -version",
		"plenv exec perl x", "phpenv exec php x", "luaenv exec lua x", "swiftenv exec swift x", "scalaenv exec scala", "sbtenv exec sbt",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; it runs the editor or the program its arguments name", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, any, "at's and crontab's readers schedule nothing", "atq", "echo hi")
	wantAccepted(t, p, "the tools' own commands run no program the line names",
		"kubectl get pods", "kubectl apply -f x.yaml", "kubectl create -f x.yaml", "kubectl describe deploy web", "nvm ls", "nvm use 20", "nvm install 20",
		"goenv versions", "jenv versions", "plenv version")
}

// TestRound29PythonToolsRunNamedInterpreters: the Python checkers and
// environment tools run the interpreter a line names to learn its paths
// or to build an environment with it: mypy --python-executable ./pwn runs
// ./pwn pyinfo.py, pyright (basedpyright) --pythonpath ./pwn likewise,
// virtualenv -p ./pwn, pipx install --python ./pwn, uv's -p/--python with
// a path (uv queries every interpreter it is given) and poetry env use
// ./pwn run ./pwn; pylint --init-hook CODE (any abbreviation: --init-h)
// runs Python code the line gives, and mypy's reports and --junit-xml
// write where they say, --install-types runs pip. known.go knew nothing
// of them: a rule with program = "mypy" or "pylint", which people allow
// as read-only checkers, vouched for these lines. Demonstrated with
// Debian's mypy 1.0, pylint 2.16, virtualenv 20.17 and pipx 1.1 where
// they are installed (uv, pyright and poetry from their documentation).
func TestRound29PythonToolsRunNamedInterpreters(t *testing.T) {
	work := t.TempDir()
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + work, "LANG=C", "PIPX_HOME=" + filepath.Join(work, "ph"), "PIPX_BIN_DIR=" + filepath.Join(work, "pb")}
	for name, body := range map[string]string{"pwn": "#!/bin/sh\ntouch \"$(dirname \"$0\")/PWNED\"\nexit 1\n", "a.py": "x = 1\n"} {
		if err := os.WriteFile(filepath.Join(work, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, line := range []string{
		"/usr/bin/mypy --python-executable ./pwn a.py", `/usr/bin/pylint --init-h='import os; os.system("touch PWNED")' a.py`,
		"/usr/bin/virtualenv -p ./pwn v", "/usr/bin/pipx install --python ./pwn black",
	} {
		if prog := strings.Fields(line)[0]; !fileExists(prog) {
			t.Logf("%s is not installed: no demonstration of %q", prog, line)
			continue
		}
		if out := bashIn(t, line, work, env); !round29Made(t, work, "PWNED") {
			t.Errorf("%q ran no ./pwn (output %.200q): the demonstration failed", line, out)
		}
	}
	p := mustParse(t, `
[[rule]]
name = "python-tools"
decision = "accept"
[rule.match]
program = ["mypy", "pylint", "pyright", "basedpyright", "virtualenv", "pipx", "uv", "poetry"]
`)
	for _, line := range []string{
		"mypy --python-executable ./pwn .", "mypy --python-executable=./pwn .", "mypy . --junit-xml /home/u/.bashrc", "mypy --html-report out .",
		"mypy --txt-report=r .", "mypy --install-types --non-interactive .", "pylint --init-hook='import os' a.py", "pylint --init-h=x a.py",
		"pyright --pythonpath ./pwn", "basedpyright --pythonpath=./pwn", "virtualenv -p ./pwn v", "virtualenv --python=/tmp/pwn v", "virtualenv -p./pwn v",
		"pipx install --python ./pwn black", "pipx reinstall-all --python=./pwn", "uv pip list --python ./pwn", "uv venv -p ./pwn", "uv --python=./pwn sync",
		"uv lock -p ./pwn", "uv pip install -p../pwn x", "poetry env use ./pwn", "poetry env use /tmp/pwn",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; the tool runs the interpreter or the code the line names, or writes where it says", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "the tools run the interpreters they find, not one the line names",
		"mypy .", "mypy --strict src", "mypy --python-version 3.11 .", "pylint src", "pylint --disable=C a.py", "pyright", "pyright src",
		"virtualenv -p python3.11 v", "virtualenv v", "pipx install black", "pipx install --python python3.12 black", "uv venv -p 3.12",
		"uv pip list --python 3.11", "uv sync --python=pypy3", "uv lock", "poetry env use python3.11", "poetry env use 3.12", "poetry env list")
}

// TestRound29CompilersRunNamedPrograms: a compiler driver runs the
// programs its options name: gcc -wrapper PROG runs every subprocess
// under PROG, -B DIR takes cc1, as and ld from DIR (-B ./b/ runs ./b/as),
// -fplugin (clang's too) loads a shared library, whose code runs, -specs
// names a file that rewrites the commands gcc runs, @FILE reads more
// options from a file, -Wl,-plugin a linker plugin, clang's --ld-path
// and -fuse-ld=PATH the linker; rustc -C linker=PROG (link-arg, and @FILE
// holding one) runs PROG to link, -Z llvm-plugins loads a library,
// rustdoc --runtool and --test-builder run programs, and cargo rustc and
// cargo rustdoc pass the words after -- to them. A compiler compiles
// without running the project's code; known.go, which refuses go's
// -toolexec, knew nothing of these: a rule with program = ["gcc", "cc"]
// or argv_prefix = ["cargo", "rustc"] vouched for them. Demonstrated with
// gcc 12 and rustc 1.95 where they are installed.
func TestRound29CompilersRunNamedPrograms(t *testing.T) {
	work := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "LANG=C"}
	files := map[string]string{
		"w":    "#!/bin/sh\ntouch PWNED\nexec \"$@\"\n",
		"b/as": "#!/bin/sh\ntouch PWNED\nexec as \"$@\"\n",
		"lk":   "#!/bin/sh\ntouch PWNED\nexec cc \"$@\"\n",
		"x.c":  "int main(void) { return 0; }\n",
		"m.rs": "fn main() {}\n",
		"args": "-Clinker=./lk\n",
	}
	for name, body := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(work, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, line := range []string{"gcc -wrapper ./w x.c -o x", "gcc -B ./b/ x.c -o x", "rustc -C linker=./lk m.rs -o m", "rustc @args m.rs -o m"} {
		if _, err := exec.LookPath(strings.Fields(line)[0]); err != nil {
			t.Logf("%s is not installed: no demonstration of %q", strings.Fields(line)[0], line)
			continue
		}
		if out := bashIn(t, line, work, env); !round29Made(t, work, "PWNED") {
			t.Errorf("%q ran no ./w, ./b/as or ./lk (output %.200q): the demonstration failed", line, out)
		}
	}
	p := mustParse(t, round18Prefixes([]string{"cargo", "rustc"}, []string{"cargo", "rustdoc"})+`
[[rule]]
name = "compilers"
decision = "accept"
[rule.match]
program = ["gcc", "cc", "g++", "c++", "clang", "clang++", "gcc-12", "x86_64-linux-gnu-gcc-12", "rustc", "rustdoc"]
`)
	for _, line := range []string{
		"gcc -wrapper ./w x.c", "cc -wrapper ./w,a x.c", "gcc -B ./b/ x.c", "gcc -B./b x.c", "gcc --prefix=./b x.c", "g++ -Bstatic x.cc",
		"gcc -fplugin=./p.so x.c", "clang -fplugin=./p.so x.c", "clang -fpass-plugin=./p.so x.c", "gcc -specs=./s x.c", "gcc --specs ./s x.c",
		"gcc @args x.c", "gcc -Wl,-plugin,./p.so x.c", "gcc -Xlinker -plugin -Xlinker ./p.so x.c", "clang --ld-path=./lk x.c", "clang -fuse-ld=./lk x.c",
		"clang -Xclang -load -Xclang ./p.so x.c", "gcc-12 -B ./b/ x.c", "x86_64-linux-gnu-gcc-12 -wrapper ./w x.c", "clang++ -fplugin=./p.so x.cc",
		"rustc -C linker=./lk m.rs", "rustc -Clinker=./lk m.rs", "rustc --codegen linker=./lk m.rs", "rustc -C link-arg=-B./b m.rs",
		"rustc -Z llvm-plugins=./p.so m.rs", "rustc @args m.rs", "rustdoc --test m.rs --runtool ./w", "rustdoc --test m.rs --test-builder ./w",
		"cargo rustc -- -C linker=./lk", "cargo rustc --release -- -Clinker=./lk", "cargo rustdoc -- --runtool ./w", "cargo rustc -- @args",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; the compiler runs the program or loads the library the line names", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "compiling runs the compiler's own programs",
		"gcc -O2 -Wall -c x.c -o x.o", "cc x.c -o x", "gcc -Wl,--as-needed x.c -lm", "clang -fuse-ld=lld x.c", "g++ -std=c++20 -Iinclude x.cc",
		"clang -Xclang -ast-dump -fsyntax-only x.c", "gcc -fsyntax-only x.c", "gcc -c plugin.c -o plugin.o", "rustc --edition 2021 m.rs", "rustc -C opt-level=3 m.rs", "rustdoc m.rs",
		"cargo rustc --release", "cargo rustc -- -C opt-level=3", "cargo rustdoc -- --document-private-items")
}

// TestRound29SshKeygenLoadsProviders: ssh-keygen -D PROVIDER loads a
// PKCS#11 library (its code runs in ssh-keygen: a constructor, once the
// library has C_GetFunctionList), and -w PROVIDER a security key
// provider library (through ssh-sk-helper). known.go knew nothing of
// ssh-keygen, which rules accept to show a key's fingerprint (ssh-keygen
// -lf) or to make a test key; short options group (-qD PROVIDER).
// Demonstrated with OpenSSH 9.2's ssh-keygen and a library built with cc
// where both are installed.
func TestRound29SshKeygenLoadsProviders(t *testing.T) {
	_, noKeygen := exec.LookPath("ssh-keygen")
	_, noCC := exec.LookPath("cc")
	if noKeygen == nil && noCC == nil {
		work := t.TempDir()
		src := "#include <stdlib.h>\n__attribute__((constructor)) static void c(void) { system(\"touch PWNED\"); }\nint C_GetFunctionList(void **p) { return 1; }\n"
		if err := os.WriteFile(filepath.Join(work, "p.c"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		env := []string{"PATH=/usr/bin:/bin", "HOME=" + work, "LANG=C"}
		bashIn(t, "cc -shared -fPIC -o libp.so p.c", work, env)
		if out := bashIn(t, "ssh-keygen -D ./libp.so", work, env); !round29Made(t, work, "PWNED") {
			t.Errorf("ssh-keygen -D ./libp.so ran no library code (output %q): the demonstration failed", out)
		}
	} else {
		t.Log("ssh-keygen or cc is not installed: no demonstration")
	}
	p := mustParse(t, `
[[rule]]
name = "keygen"
decision = "accept"
[rule.match]
program = "ssh-keygen"
`)
	for _, line := range []string{"ssh-keygen -D ./libp.so", "ssh-keygen -D./libp.so", "ssh-keygen -qD ./libp.so", "ssh-keygen -t ed25519-sk -w ./libp.so -f k -N ''",
		"ssh-keygen -K -w./libp.so"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; ssh-keygen loads the library it names", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "ssh-keygen's own keys load no library", "ssh-keygen -lf key.pub", "ssh-keygen -t ed25519 -f key -N ''", "ssh-keygen -y -f key",
		"ssh-keygen -F host", "ssh-keygen -R host", "ssh-keygen -E md5 -lf key.pub", "ssh-keygen -q -t rsa -b 4096 -C work -f k -N ''")
}

// TestRound29InterpretersWithShellEscapes: the database shells and the
// editors read commands from their arguments, files and stdin, and run
// shell commands: psql's \! (also \o |CMD, \g |CMD, \copy … program),
// mysql's and mariadb's system and \! (and pager), ed's, ex's and vim's
// ! (vim -c, ex -s reading a here-string), GNU dc's !, and emacs's
// --eval (shell-command). sqlite3, the same kind of program, is in
// otherWrappers since round 11; these were not, so a rule with no command
// condition (or one naming psql to query a database) vouched for "psql -c
// '\! touch PWNED'". Demonstrated with ed 1.19, vim 9.0 (ex) where they
// are installed; psql 15's \! was demonstrated by hand against a local
// server (as root the test cannot start one), mysql's and dc's from their
// documentation.
func TestRound29InterpretersWithShellEscapes(t *testing.T) {
	work := t.TempDir()
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + work, "LANG=C"}
	for _, line := range []string{"ed -s <<<'!touch PWNED'", "ex -s <<<'!touch PWNED'", "vim -es -c '!touch PWNED' -c q"} {
		if _, err := exec.LookPath(strings.Fields(line)[0]); err != nil {
			t.Logf("%s is not installed: no demonstration of %q", strings.Fields(line)[0], line)
			continue
		}
		if out := bashIn(t, line, work, env); !round29Made(t, work, "PWNED") {
			t.Errorf("%q ran no !touch PWNED (output %q): the demonstration failed", line, out)
		}
	}
	p := anythingInWork(t, false)
	named := mustParse(t, `
[[rule]]
name = "db"
decision = "accept"
[rule.match]
program = ["psql", "mysql", "mariadb"]
`)
	for _, line := range []string{
		`psql -c '\! touch PWNED'`, `psql <<<'\! touch PWNED'`, `psql -f q.sql`, `mysql -e 'system touch PWNED'`, `mariadb -e '\! touch PWNED'`,
		`mysql --pager='touch PWNED' -e 'select 1'`,
	} {
		for _, pol := range []*Policy{p, named} {
			if v, ok := acceptedBy(t, pol, line); ok {
				t.Errorf("%q: accepted by rule %q as %q; the database shell runs shell commands", line, v.Rule, commandsOf(v.Analysis))
			}
		}
	}
	for _, line := range []string{
		"ed -s x <<<'!touch PWNED'", "ex -s <<<'!touch PWNED'", "vi -es -c '!touch PWNED' -c q", "vim -c '!touch PWNED' -c q", "nvim --headless -c '!touch PWNED' -c q",
		"view -c '!touch PWNED'", "vimdiff -c '!touch PWNED' a b", "dc -e '!touch PWNED'", "emacs --batch --eval '(shell-command \"touch PWNED\")'",
		"emacsclient -e '(shell-command \"touch PWNED\")'",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; the editor runs shell commands", line, v.Rule, commandsOf(v.Analysis))
		}
	}
}

// TestRound29TarAbsoluteNames: tar -P (--absolute-names) keeps a member's
// leading / and its .. components, so extracting writes wherever the
// archive says (an archive the agent made: /home/u/.bashrc), where tar
// otherwise strips the / and skips a member with ..: a rule that accepts
// tar to unpack into the workspace vouched for "tar -xPf x.tar". The
// demonstration extracts a member named by its absolute path from a
// subdirectory: it lands at that path, not below the cwd.
func TestRound29TarAbsoluteNames(t *testing.T) {
	if _, err := exec.LookPath("tar"); err == nil {
		work := t.TempDir()
		env := []string{"PATH=/usr/bin:/bin", "HOME=" + work, "LANG=C"}
		out := bashIn(t, "mkdir sub && echo hi > f && tar -cPf x.tar \"$PWD/f\" --transform s,/f$,/OUT, && cd sub && tar -xPf ../x.tar", work, env)
		if !fileExists(filepath.Join(work, "OUT")) {
			t.Errorf("tar -xPf wrote no %s (output %q): the demonstration failed", filepath.Join(work, "OUT"), out)
		}
	}
	p := mustParse(t, round18Prefixes([]string{"tar", "-xf"}, []string{"tar", "xf"})+`
[[rule]]
name = "tar"
decision = "accept"
[rule.match]
program = "tar"
`)
	for _, line := range []string{"tar -xPf x.tar", "tar -xf x.tar -P", "tar xPf x.tar", "tar -xf x.tar --absolute-names", "tar --abs -xf x.tar", "tar -x -P -f x.tar"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; tar -P writes wherever the archive says", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "tar extracting below the cwd", "tar -xf x.tar", "tar xzf x.tgz", "tar -czf out.tgz src", "tar -tvf x.tar", "tar -xf x.tar -C dir")
}

// TestRound29ExtractorsKeepDotDot: unzip -: keeps a member's ../
// components (unzip otherwise skips them), and GNU cpio's copy-in mode
// (-i, --extract) keeps absolute member names unless
// --no-absolute-filenames is given: both write wherever the archive (one
// the agent made) says, as tar -P does. A rule that accepts unzip or cpio
// to unpack into the workspace vouched for them. cpio's -F HOST:FILE and
// --rsh-command run rsh, as tar's do. Demonstrated with unzip 6.0 and an
// archive Python's zipfile writes (cpio, not installed here, from its
// manual).
func TestRound29ExtractorsKeepDotDot(t *testing.T) {
	_, noUnzip := exec.LookPath("unzip")
	_, noPython := exec.LookPath("python3")
	if noUnzip == nil && noPython == nil {
		work := t.TempDir()
		env := []string{"PATH=/usr/bin:/bin", "HOME=" + work, "LANG=C"}
		out := bashIn(t, `mkdir sub && python3 -c "import zipfile; z = zipfile.ZipFile('z.zip', 'w'); z.writestr('../OUT', 'hi'); z.close()" && cd sub && unzip -q -: ../z.zip`, work, env)
		if !fileExists(filepath.Join(work, "OUT")) {
			t.Errorf("unzip -: wrote no ../OUT (output %q): the demonstration failed", out)
		}
	}
	p := mustParse(t, `
[[rule]]
name = "unpack"
decision = "accept"
[rule.match]
program = ["unzip", "cpio"]
`)
	for _, line := range []string{"unzip -: x.zip", "unzip -o -: x.zip", "unzip -qo: x.zip", "cpio -idm < x.cpio", "cpio -i < x.cpio", "cpio --extract -d < x.cpio",
		"cpio -ivd -F x.cpio", "cpio -i --no-absolute-filenames -F host:x.cpio", "cpio -o --rsh-command=./pwn -F h:x < list"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; the extractor writes wherever the archive says, or runs rsh", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "extracting below the cwd", "unzip x.zip", "unzip -o x.zip -d out", "unzip -l x.zip", "cpio -idm --no-absolute-filenames < x.cpio",
		"cpio -it < x.cpio", "cpio -o < list")
}

// TestRound29BuildToolsRunNamedPrograms: composer exec BIN (any prefix:
// Symfony's console takes composer exe) runs a vendor binary, as npm exec
// does; bazel's --run_under=PROG runs each test or bazel run's target
// under PROG (as go test -exec), --script_path writes a script where it
// says, and --server_javabase and --host_jvm_args (-agentpath:LIB) run a
// JVM or load a library the line names; Maven's exec:exec runs the
// program -Dexec.executable names. known.go knew nothing of them: a rule
// with argv_prefix = ["bazel", "test"] vouched for "bazel test //...
// --run_under=./pwn". From their documentation (none is installed here).
func TestRound29BuildToolsRunNamedPrograms(t *testing.T) {
	p := mustParse(t, round18Prefixes([]string{"bazel", "test"}, []string{"composer"}, []string{"mvn"})+`
[[rule]]
name = "bazel"
decision = "accept"
[rule.match]
program = "bazel"
`)
	for _, line := range []string{
		"composer exec pwn", "composer exe pwn", "composer global exec pwn", "composer -d sub exec pwn",
		"bazel test //... --run_under=./pwn", "bazel test --run_under ./pwn //x", "bazel test //x --script_path=/home/u/x.sh",
		"bazel --server_javabase=./jdk test //x", "bazel --host_jvm_args=-agentpath:./p.so test //x", "bazel --bazelrc=./rc test //x",
		"mvn exec:exec -Dexec.executable=./pwn", "mvn -q org.codehaus.mojo:exec-maven-plugin:3.1.0:exec -Dexec.executable=./pwn",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; the build tool runs a program the line names", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "the build tools' own commands", "composer install", "composer update --no-scripts", "composer show", "composer dump-autoload",
		"bazel test //...", "bazel test //x --test_output=errors", "mvn -q package", "mvn test -Dtest=FooTest", "mvn dependency:tree")
}

// TestRound29NpmScriptShell: npm runs a package's scripts with the shell
// --script-shell names (any abbreviation: --script-sh), a program the
// line names, as go test -exec does (which the engine refuses although go
// test runs the project's code too), and clones a git dependency with
// the git --git names (under --ignore-scripts too). A rule with
// argv_prefix = ["npm", "test"] vouched for "npm test --script-shell
// ./pwn". Demonstrated with npm 11.
func TestRound29NpmScriptShell(t *testing.T) {
	if _, err := exec.LookPath("npm"); err == nil {
		work := t.TempDir()
		files := map[string]string{"package.json": `{"name":"x","version":"1.0.0","scripts":{"test":"echo hi"}}`, "pwn": "#!/bin/sh\ntouch \"$(dirname \"$0\")/PWNED\"\n"}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(work, name), []byte(body), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		p, _ := exec.LookPath("npm")
		env := []string{"PATH=" + filepath.Dir(p) + ":/usr/bin:/bin", "HOME=" + work, "LANG=C", "npm_config_cache=" + filepath.Join(work, ".npm"), "npm_config_update_notifier=false"}
		for _, line := range []string{"npm test --script-shell ./pwn", "npm test --script-sh=./pwn"} {
			if out := bashIn(t, line, work, env); !round29Made(t, work, "PWNED") {
				t.Errorf("%q ran no ./pwn (output %q): the demonstration failed", line, out)
			}
		}
	} else {
		t.Log("npm is not installed: no demonstration")
	}
	p := mustParse(t, round18Prefixes([]string{"npm", "test"}, []string{"npm", "run", "lint"}, []string{"npm", "ci"}, []string{"npm", "install", "--ignore-scripts"}))
	for _, line := range []string{"npm test --script-shell ./pwn", "npm test --script-shell=./pwn", "npm test --script-sh=./pwn", "npm run lint --script-shell ./pwn",
		"npm ci --script-shell=./pwn", "npm install --ignore-scripts --git ./pwn github:a/b", "npm install --ignore-scripts --git=./pwn github:a/b"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; npm runs the shell or git the line names", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "npm's scripts under its own shell", "npm test", "npm test -- --watch=false", "npm run lint", "npm ci", "npm ci --silent",
		"npm install --ignore-scripts", "npm install --ignore-scripts --save-dev lodash", "npm install --ignore-scripts --global-style")
}

// TestRound29ManagersInstallTheirOwnPlugins: poetry self add (install,
// update, lock, remove: poetry self) installs packages into poetry's own
// environment, whose plugins every later poetry command loads (their code
// runs); pdm self add and pdm plugin add do so for pdm; asdf plugin add
// and mise plugins install or link take a plugin (a git repository or a
// local directory) whose bin/ scripts asdf and mise run for later
// commands, as direnv allow makes .envrc run in later shells, which the
// engine refuses. From their documentation (none is installed here).
func TestRound29ManagersInstallTheirOwnPlugins(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "managers"
decision = "accept"
[rule.match]
program = ["poetry", "pdm", "asdf", "mise"]
`)
	for _, line := range []string{"poetry self add ./pwn", "poetry self add poetry-plugin-x", "poetry self install", "pdm self add ./pwn", "pdm plugin add ./pwn",
		"asdf plugin add x ./dir", "asdf plugin-add x https://example.com/x.git", "asdf plugin update --all", "mise plugins install tool ./dir", "mise plugins link tool ./dir",
		"mise plugin install tool https://example.com/x.git", "mise p link tool ./dir"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; the manager installs a plugin whose code later commands run", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "the managers' own commands", "poetry install", "poetry show", "pdm install", "asdf plugin list", "asdf list", "mise plugins ls", "mise ls")
}

// TestRound29GhDownloadsWriteWhereTheySay: gh release download -O FILE
// (--output) and -D DIR (--dir), and gh run download -D DIR, write a
// release asset or an artifact (which the agent may have uploaded) where
// the line says, as curl -o does, which the engine refuses; without them
// gh writes into the cwd. From gh's manual (gh 2.23 is installed here,
// but downloading needs GitHub).
func TestRound29GhDownloadsWriteWhereTheySay(t *testing.T) {
	p := mustParse(t, "[[rule]]\nname = \"gh\"\ndecision = \"accept\"\n[rule.match]\nprogram = \"gh\"\n")
	for _, line := range []string{"gh release download v1 -p x -O /home/u/.bashrc", "gh release download v1 --output=../x", "gh release download v1 -D /home/u/.config",
		"gh release download v1 --dir ../x", "gh run download 1 -D ../x", "gh run download 1 --dir=/tmp/x", "gh release download v1 -O-"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; gh writes the download where the line says", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "gh downloading into the cwd", "gh release download v1 -p '*.tar.gz'", "gh run download 1 -n artifact", "gh release view v1", "gh run view 1")
}
