package rules

import "testing"

// Review round 19 (adversarial review of the worktree adv3, at b3943b8):
// evasions of round 18's awk, curl, kubectl and go checks. Each line runs
// under real bash in a fresh directory where the tool exists.

// TestRound19CurlUploadToFile: curl -T/--upload-file to a file:// URL
// writes the URL's path; no writing option is named.
func TestRound19CurlUploadToFile(t *testing.T) {
	round18Check(t, round18ReadOnly, []round18Case{
		{line: "curl -s -T x file://WORK/OUT", files: round18Module, made: "OUT"},
		{line: "curl -s --upload-file x file://WORK/OUT", files: round18Module, made: "OUT"},
	})
}

// TestRound19GoHiddenWriters: go build's -debug-actiongraph and
// -debug-trace write where they say; -ldflags=-o and -gcflags=-bench
// make the linker or compiler write there; the test binary's
// -test.testlogfile writes too.
func TestRound19GoHiddenWriters(t *testing.T) {
	rules := round18Prefixes([]string{"go", "build"}, []string{"go", "test"})
	round18Check(t, rules, []round18Case{
		{line: "go build -debug-actiongraph=../OUT .", files: round18Module, made: "OUT"},
		{line: "go build -debug-trace=../OUT .", files: round18Module, made: "OUT"},
		{line: "go build -a -ldflags=-o=WORK/OUT .", files: round18Module, made: "OUT"},
		{line: "go build -a -gcflags=-bench=WORK/OUT .", files: round18Module, made: "OUT"},
		{line: "go test -count=1 . -args -test.testlogfile=WORK/OUT", files: round18Module, made: "OUT"},
	})
}

// TestRound19KubectlProfile: kubectl's global --profile/--profile-output
// write a profile where they say.
func TestRound19KubectlProfile(t *testing.T) {
	round18Check(t, round18Prefixes([]string{"kubectl", "get"}), []round18Case{
		{line: "kubectl get pods --profile=cpu --profile-output=../OUT", files: round18Module, made: "OUT"},
	})
}

// TestRound19AwkProgramByGlobOrBrace: awk's program is its first operand;
// a glob or brace expansion there makes the program a file's name.
func TestRound19AwkProgramByGlobOrBrace(t *testing.T) {
	round18Check(t, round18ReadOnly, []round18Case{
		{line: `awk 'BEGIN{'{sys,}'tem("../pwn")}'`, files: round18Module, made: "PWNED"},
		{line: `awk B*`, files: round18With(map[string]string{`m/BEGIN{system("sh ..?pwn")}`: ""}), made: "PWNED"},
	})
}

// TestRound19MoreWriters: the compiler's -json=0,file://DIR writes
// there (awk behind env is refused already: a control). Unproven here:
// mikefarah yq -s/--split-exp (the installed yq is another), go test
// -args -test.gocoverdir=DIR, curl --engine PATH.so (OpenSSL loads it).
func TestRound19MoreWriters(t *testing.T) {
	round18Check(t, round18ReadOnly, []round18Case{
		{line: `env awk 'BEGIN{system("../pwn")}'`, files: round18Module, made: "PWNED"},
	})
	round18Check(t, round18Prefixes([]string{"go", "build"}, []string{"go", "test"}), []round18Case{
		{line: "go build -a -gcflags=-json=0,file://WORK/OUTD .", files: round18Module, made: "OUTD"},
	})
}
