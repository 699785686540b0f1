package rules

import (
	"os/exec"
	"testing"
)

// Review round 25 (adversarial review of the worktree adv1, at 2b1271a):
// the less-known options of the programs known.go knows (and that
// round18ReadOnly names) that write a file or run a program.

// TestRound25YqSplitExpWrites: mikefarah's yq (the Go one, in most
// package managers and containers) writes each result into a file named
// by the expression of -s/--split-exp ("yq -s .a f.yml" makes a file per
// document, in the cwd or any directory the name holds). known.go knew
// only -i. The yq installed here is kislyuk's (a jq wrapper), whose -s is
// jq's --slurp: its refusal is a false decline, the price of one name
// for two programs. Not demonstrated: the Go yq is not installed here;
// the verdict is asserted from its documentation ("Split into multiple
// files").
func TestRound25YqSplitExpWrites(t *testing.T) {
	p := mustParse(t, round18ReadOnly)
	for _, line := range []string{
		"yq -s '\"../OUT\"' x.yml", "yq -s.a x.yml", "yq -Ps .a x.yml", "yq --split-exp .a x.yml", "yq --split-exp=.a x.yml",
		"yq e -s .a x.yml", "yq eval -s .a x.yml",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; yq writes a file per result", line, v.Rule)
		}
	}
	wantAccepted(t, p, "it writes nothing", "yq .a x.yml", "yq -y . x.yml", "yq -P .a x.yml", "yq -o json . x.yml", "yq e .a x.yml")
}

// TestRound25CurlSslSessionsWrites: curl 8.12's --ssl-sessions FILE
// loads TLS session tickets from FILE and, at the end of a successful
// run, saves the cache back to it, replacing its content (creating it if
// need be): a write where the line says, as --hsts and --alt-svc are,
// which known.go refuses. The curl here (7.88) predates it: the verdict
// is asserted from curl's documentation (docs/cmdline-opts/ssl-sessions.md).
func TestRound25CurlSslSessionsWrites(t *testing.T) {
	if _, err := exec.LookPath("curl"); err == nil {
		t.Logf("curl is installed; --ssl-sessions needs curl 8.12 with SSLS-EXPORT: not run")
	}
	p := mustParse(t, round18ReadOnly)
	for _, line := range []string{
		"curl --ssl-sessions ../OUT https://example.com", "curl --ssl-sessions=../OUT https://example.com",
		"curl --ssl-sess ../OUT https://example.com", "curl --expand-ssl-sessions ../OUT https://example.com",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; curl writes the session file", line, v.Rule)
		}
	}
	wantAccepted(t, p, "it writes nothing", "curl -sS https://example.com", "curl --ssl https://example.com",
		"curl --ssl-reqd https://example.com", "curl --ssl-no-revoke https://example.com")
}

// TestRound25KubectlKustomizeHelmCommand: kubectl kustomize builds a
// kustomization locally (no cluster), and with --enable-helm inflates
// its helmCharts with the program --helm-command names (it runs it first
// to read its version); --enable-alpha-plugins (and kustomize's
// --enable-exec) run the exec and container functions a generator's
// annotation names. known.go refused kubectl's --kubeconfig and plugins,
// not these. Demonstrated with kubectl 1.32 (kustomize 5.5) where it is
// installed.
func TestRound25KubectlKustomizeHelmCommand(t *testing.T) {
	round18Check(t, round18ReadOnly, []round18Case{
		{line: "kubectl kustomize --enable-helm --helm-command=../pwn k", made: "PWNED",
			files: round18With(map[string]string{"m/k/kustomization.yaml": "helmCharts:\n- name: x\n  repo: https://example.invalid\n  version: 1.0.0\n"})},
	})
	p := mustParse(t, round18ReadOnly)
	for _, line := range []string{
		"kubectl kustomize --enable-helm --helm-command ../pwn k", "kubectl kustomize --enable-helm k", "kubectl kustomize --helm-command=../pwn k",
		"kubectl kustomize --enable-alpha-plugins k", "kubectl kustomize --enable-alpha-plugins=true --enable-exec k",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; kustomize runs the program it names", line, v.Rule)
		}
	}
	wantAccepted(t, p, "it runs no program", "kubectl kustomize k", "kubectl kustomize --load-restrictor=LoadRestrictionsRootOnly k", "kubectl get pods")
}

// TestRound25KubectlFlagUnderscore: kubectl normalizes its flags' word
// separators (cliflag.WarnWordSepNormalizeFunc: --profile_output is
// --profile-output, with a warning), so each flag known.go refuses has a
// spelling with underscores: --helm_command names kustomize's helm,
// --cache_dir is where the discovery cache is written, --log_file (in
// kubectl's that still have klog's flags) the log. (--profile_output
// writes only with --profile, which known.go refuses as an abbreviation
// of --profile-output.) Demonstrated with kubectl 1.32 where it is
// installed.
func TestRound25KubectlFlagUnderscore(t *testing.T) {
	round18Check(t, round18ReadOnly, []round18Case{
		{line: "kubectl kustomize --enable_helm --helm_command=../pwn k", made: "PWNED",
			files: round18With(map[string]string{"m/k/kustomization.yaml": "helmCharts:\n- name: x\n  repo: https://example.invalid\n  version: 1.0.0\n"})},
	})
	p := mustParse(t, round18ReadOnly)
	for _, line := range []string{
		"kubectl get pods --profile_output ../OUT", "kubectl get pods --cache_dir=../c", "kubectl get pods --log_file=../OUT",
		"kubectl get pods --log_dir=../d", "kubectl kustomize --enable_alpha_plugins k",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; kubectl reads _ as -", line, v.Rule)
		}
	}
	wantAccepted(t, p, "it writes nothing", "kubectl get pods --show_labels", "kubectl get pods -l app_name=x", "kubectl get pods --field-selector=a_b=c")
}

// TestRound25KubectlKubercDefaults: kubectl 1.33's --kuberc FILE (beta,
// on by default, in 1.34) reads a preferences file whose defaults give
// a command's options their values: a kuberc with defaults for
// kustomize (enable-helm: true, helm-command: ../pwn) makes "kubectl
// --kuberc=FILE kustomize k" run ../pwn, though the line holds neither
// option. The kubectl here (1.32) predates it: the verdict is asserted
// from its documentation (kubectl user preferences, kuberc).
func TestRound25KubectlKubercDefaults(t *testing.T) {
	p := mustParse(t, round18ReadOnly)
	for _, line := range []string{
		"kubectl --kuberc=../rc kustomize k", "kubectl --kuberc ../rc kustomize k", "kubectl kustomize --kuberc=../rc k",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; a kuberc's defaults may name a program kubectl runs", line, v.Rule)
		}
	}
	wantAccepted(t, p, "it reads no preferences the line names", "kubectl kustomize k", "kubectl get pods -o wide")
}

// TestRound25WgetExecuteAndConfig: known.go refuses wget's
// --use-askpass=PROGRAM, but -e/--execute runs any wgetrc command, its
// use_askpass (useaskpass) among them, and --config reads a wgetrc
// file that may hold it: wget runs the program for a URL's credentials,
// before any connection (127.0.0.1:9 refuses here). Short options group
// (-qe CMD, -euse_askpass=…), long ones abbreviate (--exec, --conf).
func TestRound25WgetExecuteAndConfig(t *testing.T) {
	p := mustParse(t, noRmThenAnything)
	for _, tc := range []struct{ line, demo string }{
		{"wget -e use_askpass=./pwn http://127.0.0.1:9/", ""},
		{"wget -q -euseaskpass=./pwn http://127.0.0.1:9/", ""},
		{"wget --execute=use_askpass=./pwn http://127.0.0.1:9/", ""},
		{"wget --config=rc http://127.0.0.1:9/", "printf 'use_askpass = ./pwn\\n' > rc && wget --config=rc http://127.0.0.1:9/"},
	} {
		if tc.demo == "" {
			tc.demo = tc.line
		}
		ran := demoMarker(t, tc.demo)
		if v, ok := acceptedBy(t, p, tc.line); ok {
			t.Errorf("%q: accepted by rule %q; under bash (%q) it made PWNED: %v", tc.line, v.Rule, tc.demo, ran)
		}
	}
	for _, line := range []string{
		"wget -qe use_askpass=rm http://127.0.0.1:9/", "wget --exec use_askpass=rm http://127.0.0.1:9/", "wget --conf rc http://127.0.0.1:9/",
		"wget2 -e use_askpass=rm http://127.0.0.1:9/", "wget2 --config=rc http://127.0.0.1:9/",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; wget runs the program a wgetrc command names", line, v.Rule)
		}
	}
	wantAccepted(t, p, "it runs no program of the line's choosing", "wget -q http://127.0.0.1:9/", "wget -O out http://127.0.0.1:9/", "wget --no-config http://127.0.0.1:9/")
}

// TestRound25GoToolRunsAndWrites: known.go read go's build flags, not
// go tool's tools, whose options run programs and write files:
// test2json runs the program its operand names (go tool test2json
// ../pwn), pprof runs addr2line, nm and objdump from -tools DIR and
// writes -output FILE, pack and buildid -w rewrite archives and
// binaries, cgo writes into -objdir, fix rewrites sources. go tool is
// refused, also after go -C DIR. Demonstrated with test2json.
func TestRound25GoToolRunsAndWrites(t *testing.T) {
	round18Check(t, round18ReadOnly, []round18Case{
		{line: "go tool test2json ../pwn", files: round18Module, made: "PWNED"},
		{line: "go -C . tool test2json -t ../pwn", files: round18Module, made: "PWNED"},
	})
	p := mustParse(t, round18ReadOnly)
	for _, line := range []string{
		"go tool pprof -output=../OUT -text x x", "go tool pprof -tools=../evil/ -text x x", "go tool pack c x.a y.o",
		"go tool buildid -w x", "go tool cgo -objdir=../x x.go", "go tool fix .", "go -C=. tool test2json ../pwn",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; go tool runs a program or writes a file", line, v.Rule)
		}
	}
	wantAccepted(t, p, "it is no go tool", "go vet ./...", "go list -json ./...", "go doc fmt", "go build ./...", "go test -run TestX .")
}

// TestRound25GoFixFixtool: go 1.26's go fix runs the analysis tool
// -fixtool names, as go vet runs -vettool's (which known.go refuses):
// "go fix -fixtool=../pwn ." runs ../pwn (for its -flags first). One
// dash or two, =value or the next word. Demonstrated with go 1.26 where
// go fix has the flag.
func TestRound25GoFixFixtool(t *testing.T) {
	round18Check(t, round18ReadOnly, []round18Case{
		{line: "go fix -fixtool=WORK/pwn .", files: round18Module, made: "PWNED"},
	})
	p := mustParse(t, round18ReadOnly)
	for _, line := range []string{"go fix -fixtool ../pwn .", "go fix --fixtool=../pwn .", "go -C . fix -fixtool=../pwn ."} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; go fix runs the -fixtool program", line, v.Rule)
		}
	}
	wantAccepted(t, p, "it runs the toolchain's own fix tool", "go fix .", "go fix -diff ./...")
}

// TestRound25CargoPathToolchain: cargo (rustup's proxy) reads a first
// argument +TOOLCHAIN, and rustup 1.29 takes an absolute path there as
// a custom toolchain: "cargo +/work/tc --version" runs /work/tc/bin/cargo,
// a program the line names, whatever the subcommand (metadata and tree
// included, which run no build script). A relative path is an error to
// rustup; a toolchain name (+nightly, +1.80) is rustup's own. Demonstrated
// with rustup 1.29 where it is installed.
func TestRound25CargoPathToolchain(t *testing.T) {
	tc := map[string]string{"tc/bin/cargo": "#!/bin/sh\ntouch \"$(dirname \"$0\")/../../PWNED\"\n"}
	round18Check(t, round18ReadOnly, []round18Case{
		{line: "cargo +WORK/tc --version", files: round18With(tc), made: "PWNED"},
	})
	p := mustParse(t, round18ReadOnly)
	for _, line := range []string{"cargo +/work/tc metadata", "cargo +/work/tc tree", "cargo +../tc --version", "cargo +.tc --version"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; rustup runs the cargo of the toolchain path", line, v.Rule)
		}
	}
	wantAccepted(t, p, "rustup runs an installed toolchain's cargo", "cargo +nightly metadata", "cargo +1.80.0 tree", "cargo metadata")
}
