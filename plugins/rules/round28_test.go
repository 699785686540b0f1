package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Review round 28 (the gap round 27 found): the project and tool
// environment managers, which run their arguments as a program as npm
// exec and npx do.

// TestRound28EnvironmentManagersRunTheirArguments: uv run CMD and uv tool
// run CMD (uvx's long form), pipx run, poetry run, pipenv run, pdm run,
// hatch run, conda run [-n ENV] (mamba's and micromamba's too), mise exec
// [TOOL@VERSION...] -- CMD (mise x), asdf exec, direnv exec DIR CMD and
// volta run run CMD, any program the line names, in the project's or the
// tool's environment, as npm exec does (pdm, pipenv and hatch run the
// project's script of that name first, the program without one); poetry,
// pipenv and hatch shell and mise en spawn a shell, pipx runpip runs pip
// with the line's arguments, asdf env TOOL CMD runs CMD, mise run and
// watch run tasks (any command the configuration or the line gives),
// direnv edit runs the $EDITOR, and direnv allow and mise trust make the
// project's .envrc or mise.toml, code, run in later shells. A rule with
// no command condition vouched for all of them as their own argv ("uv"
// "run" "bash" "-c" "touch PWNED"), although bash runs touch; otherWrappers
// refused uvx but not uv tool run. Their options take values as the next
// word (uv --directory d run), so the word is refused anywhere. None of
// these tools is installed here; each runs its arguments as its
// documentation says.
func TestRound28EnvironmentManagersRunTheirArguments(t *testing.T) {
	p := anythingInWork(t, false)
	for _, line := range []string{
		"uv run bash -c 'touch PWNED'", "uv run touch PWNED", "uv tool run cowsay", "uv --directory d run ./pwn", "uv -q run --with x touch PWNED",
		"uv tool uvx cowsay", "timeout 60 uv run touch PWNED", "pipx run cowsay", "pipx runpip black install ./pwn",
		"poetry run touch PWNED", "poetry -C sub run touch PWNED", "poetry shell", "pipenv run touch PWNED", "pipenv shell",
		"pdm run touch PWNED", "hatch run touch PWNED", "hatch run test:cov", "hatch env run -- touch PWNED", "hatch shell",
		"conda run -n base touch PWNED", "conda run --no-capture-output -p ./env touch PWNED", "mamba run -n x touch PWNED", "micromamba run -n x touch PWNED",
		"mise exec node@20 -- touch PWNED", "mise x -- touch PWNED", "mise x python@3.12 -- python -c 'import os'", "mise run build", "mise r lint",
		"mise watch build", "mise en", "mise trust", "asdf exec touch PWNED", "asdf env nodejs touch PWNED",
		"direnv exec . touch PWNED", "direnv exec /tmp touch PWNED", "direnv edit .", "direnv allow", "direnv allow .", "direnv permit", "direnv grant",
		"volta run touch PWNED", "volta run --node 20 node x.js",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; it runs a program the line names, a shell, or the project's code in later shells", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "the managers' own commands run no program the line names",
		"uv pip list", "uv pip install -r requirements.txt", "uv lock", "uv sync", "uv tree", "uv venv", "uv python list", "uv tool list", "uv --version", "uv add requests",
		"pipx list", "pipx install black", "poetry show", "poetry install", "poetry lock", "poetry check", "pipenv install", "pipenv graph",
		"pdm list", "pdm install", "hatch env show", "hatch version", "conda list", "conda info --envs", "conda install -y numpy", "conda env list", "conda --json list",
		"mise ls", "mise install", "mise use node@20", "asdf list", "asdf install nodejs 20.0.0", "asdf current", "direnv status", "direnv version",
		"volta list", "volta install node@20")
}

// TestRound28EnvironmentManagersUnderNamedRules: a rule that names the
// manager (program = "uv") or the whole command (argv_prefix = ["uv",
// "run", "pytest"]) does not vouch for uv run either: the engine holds
// these to npx's and npm exec's convention, which every accept rule
// refuses, a rule naming them too (argv_prefix = ["npm", "exec"]): what
// uv run runs is a program the engine does not read as one (its options,
// --with, --script, and what it may write or run are not checked), and
// the same rule would vouch for uv run pytest -p pwn or a pytest of the
// project's environment. A line that does not run the program (uv lock)
// stays accepted by the rule naming the manager.
func TestRound28EnvironmentManagersUnderNamedRules(t *testing.T) {
	p := mustParse(t, round18Prefixes([]string{"uv", "run", "pytest"}, []string{"poetry", "run", "pytest"}, []string{"bundle", "exec", "rspec"},
		[]string{"conda", "run"}, []string{"mise", "exec"}, []string{"npm", "exec"})+`
[[rule]]
name = "managers"
decision = "accept"
[rule.match]
program = ["uv", "poetry", "bundle", "pyenv", "conda", "mise", "pipx", "direnv"]
`)
	for _, line := range []string{"uv run pytest", "uv run pytest -x tests", "poetry run pytest", "bundle exec rspec", "conda run -n x pytest",
		"mise exec -- pytest", "npm exec prettier", "uv run bash -c 'touch PWNED'", "pipx run black .", "pyenv exec python -V", "direnv exec . make"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; it runs its arguments as a program, as npm exec does", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "the managers' own commands", "uv lock", "poetry show --tree", "bundle install", "pyenv versions", "conda list", "mise ls", "pipx list", "direnv status")
}

// TestRound28PyenvExecAndPlugins: pyenv exec CMD runs CMD, the selected
// version's program, or, under the system version (PYENV_VERSION=system,
// pyenv shell system, a .python-version the agent writes), the one on
// PATH: pyenv exec touch PWNED runs touch. pyenv NAME, where NAME is none
// of pyenv's commands, runs pyenv-NAME found on PATH (after its plugins'
// bin directories), as git NAME runs git-NAME and kubectl NAME
// kubectl-NAME, an option too (pyenv --foo runs pyenv---foo), and pyenv
// completions NAME runs pyenv-NAME --complete when the file says it
// provides completions. rbenv and nodenv are pyenv's model: the same
// exec, the same lookup; their install comes from a plugin (ruby-build,
// node-build), so it is refused with the other unknown names, where
// pyenv bundles python-build. Demonstrated with pyenv 2.6 where it is
// installed (the run changes nothing of pyenv's: exec under the system
// version and a pyenv-pwn of the test's own).
func TestRound28PyenvExecAndPlugins(t *testing.T) {
	if pyenv, err := exec.LookPath("pyenv"); err == nil {
		work := t.TempDir()
		bin := filepath.Join(work, "bin")
		if err := os.Mkdir(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		pwn := "#!/bin/sh\necho \"$@\" >> " + filepath.Join(work, "PWNED") + "\n"
		if err := os.WriteFile(filepath.Join(bin, "pyenv-pwn"), []byte(pwn), 0o755); err != nil {
			t.Fatal(err)
		}
		env := []string{"PATH=" + bin + ":" + filepath.Dir(pyenv) + ":/usr/bin:/bin", "HOME=" + os.Getenv("HOME"), "LANG=C", "PYENV_VERSION=system"}
		if v := os.Getenv("PYENV_ROOT"); v != "" {
			env = append(env, "PYENV_ROOT="+v)
		}
		out := bashIn(t, "pyenv exec touch EXECED; pyenv pwn a; pyenv --debug pwn b 2>/dev/null", work, env)
		if _, err := os.Stat(filepath.Join(work, "EXECED")); err != nil {
			t.Errorf("pyenv exec touch EXECED made no EXECED (output %q): the demonstration failed", out)
		}
		if got, _ := os.ReadFile(filepath.Join(work, "PWNED")); string(got) != "a\nb\n" {
			t.Errorf("pyenv-pwn ran with %q, want two runs (output %q): the demonstration failed", got, out)
		}
	} else {
		t.Log("pyenv is not installed: no demonstration")
	}
	p := anythingInWork(t, false)
	for _, line := range []string{"pyenv exec touch PWNED", "pyenv exec python -c 'import os'", "pyenv pwn", "pyenv --debug pwn", "pyenv --foo", "pyenv completions pwn", "pyenv --debug exec touch PWNED",
		"pyenv virtualenv-pwn x", "rbenv exec touch PWNED", "rbenv pwn", "rbenv install 3.3.0", "nodenv exec touch PWNED", "nodenv pwn", "nodenv install 20.0.0",
		"PYENV_VERSION=system pyenv exec touch PWNED", "env PYENV_VERSION=system pyenv exec rm -rf x"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; pyenv runs the program", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "pyenv's own commands", "pyenv versions", "pyenv version", "pyenv which python", "pyenv install 3.12.1", "pyenv install --list",
		"pyenv local 3.11.7", "pyenv root", "pyenv --version", "pyenv --debug version", "pyenv help exec", "pyenv", "pyenv latest 3.12", "pyenv prefix",
		"rbenv versions", "rbenv local 3.3.0", "nodenv versions", "nodenv which node", "rbenv --version")
}

// TestRound28CondaAndBundlerExternalCommands: conda NAME, where NAME is
// none of conda's commands, runs conda-NAME from PATH (conda build runs
// conda-build, any program of that name); bundle NAME, where NAME is no
// prefix of Bundler's commands (Thor takes an unambiguous prefix: bundle
// e is exec, bundle inst install), runs bundler-NAME from PATH
// (Bundler::CLI.handle_no_command_error); bundle exec (e, ex, exe, and
// after --verbose or --retry N) runs its arguments, bundle console an irb
// that reads Ruby from its stdin (the line's here-document), bundle open
// GEM the $EDITOR. An option either does not know before the command
// may take the next word as its value, so it is refused too. Neither
// tool is installed here.
func TestRound28CondaAndBundlerExternalCommands(t *testing.T) {
	p := anythingInWork(t, false)
	for _, line := range []string{"conda pwn", "conda build .", "conda --foo list", "conda -v pwn",
		"bundle pwn", "bundle exec touch PWNED", "bundle e touch PWNED", "bundle ex touch PWNED", "bundle exe touch PWNED", "bundle --verbose exec touch PWNED",
		"bundle --retry 3 exec touch PWNED", "bundle -r 3 e touch PWNED", "bundle console <<'EOF'\nsystem('touch PWNED')\nEOF", "bundle cons", "bundle open rake",
		"bundle --foo install", "bundler exec touch PWNED", "timeout 60 bundle exec rspec"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; it runs a program the line names", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "conda's and Bundler's own commands", "conda list", "conda env list", "conda create -n x python=3.12", "conda --version", "conda -V",
		"bundle", "bundle install", "bundle i", "bundle inst", "bundle update rails", "bundle --retry 3 install", "bundle --verbose install", "bundle check",
		"bundle outdated", "bundle lock --update", "bundle config set path vendor", "bundle -v", "bundle list", "bundle info rake", "bundler install")
}

// TestRound28MoreEnvironmentRunners: the same family beyond the managers
// the review named: nix run runs a flake's program (as npx), nix shell
// and nix develop a shell (reading stdin: the line's here-document) or
// their -c/--command CMD, and nix-shell a shell or its --run/--command
// COMMAND; gem exec (RubyGems 3.5's npx; RubyGems takes an unambiguous
// prefix, gem ex), pixi run and exec, rye run, devbox run, flox activate
// -- CMD, fnm exec, hermit exec, tox exec -- CMD and rtx (mise's former
// name) exec run the program the line names. A rule with no command
// condition vouched for each. None of these is installed here; each runs
// its arguments as its documentation says.
func TestRound28MoreEnvironmentRunners(t *testing.T) {
	p := anythingInWork(t, false)
	for _, line := range []string{"nix run nixpkgs#hello", "nix shell nixpkgs#hello -c touch PWNED", "nix develop -c touch PWNED", "nix develop --command touch PWNED",
		"nix develop", "nix-shell --run 'touch PWNED'", "nix-shell -p hello --command 'touch PWNED'", "nix-shell",
		"gem exec touch PWNED", "gem ex touch PWNED", "gem exe touch PWNED", "pixi run touch PWNED", "pixi exec cowsay", "pixi shell",
		"rye run touch PWNED", "devbox run touch PWNED", "devbox shell", "flox activate -- touch PWNED", "fnm exec --using 20 touch PWNED",
		"hermit exec touch PWNED", "tox exec -e py312 -- touch PWNED", "rtx exec -- touch PWNED", "rtx x -- touch PWNED"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; it runs a program the line names, or a shell", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "their own commands", "nix build", "nix flake show", "nix-build", "gem install rake", "gem list", "gem env", "pixi install", "pixi list",
		"rye sync", "devbox add hello", "flox install hello", "fnm install 20", "fnm list", "tox -e py312", "rtx ls")
}

// TestRound28DotnetToolsAndExternalCommands: dotnet tool run NAME (and
// .NET 10's dotnet tool exec and dnx, its npx) runs a tool package's
// program; dotnet NAME, where NAME is none of the SDK's commands, runs
// dotnet-NAME found on PATH (the .NET CLI's PATH-based extensibility, as
// git NAME), and dotnet exec APP and dotnet APP.dll run the app the line
// names. dotnet run, test and build run the project's code, as cargo run
// does, and stay accepted. dotnet is not installed here; each runs as
// its documentation says.
func TestRound28DotnetToolsAndExternalCommands(t *testing.T) {
	p := anythingInWork(t, false)
	for _, line := range []string{"dotnet tool run pwn", "dotnet tool exec pwn", "dnx pwn", "dotnet pwn", "dotnet -d pwn", "dotnet exec ./x.dll", "dotnet ./x.dll",
		"dotnet bin/app.dll", "dotnet --pwn"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; dotnet runs a program the line names", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "the SDK's own commands", "dotnet build", "dotnet test --no-build", "dotnet run --project src/app", "dotnet --info", "dotnet --version",
		"dotnet tool list", "dotnet tool install -g dotnet-ef", "dotnet -d build", "dotnet restore", "dotnet format --verify-no-changes", "dotnet new console")
}
