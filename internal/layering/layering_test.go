// Package layering holds the test that keeps the import graph pointing
// down (docs/architecture.md): it fails on an upward import.
package layering

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/codexhost/codexhost"

// A pkg is what go list says of one package of the module.
type pkg struct {
	ImportPath string
	Imports    []string // direct, non-test
	Deps       []string // transitive, non-test
}

// rel is the package's path in the module ("" for the root).
func rel(path string) string {
	if path == module {
		return ""
	}
	return strings.TrimPrefix(path, module+"/")
}

// under reports whether the module package p is dir or below it.
func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// project returns the module packages of paths, as paths in the module.
func project(paths []string) []string {
	var out []string
	for _, p := range paths {
		if p == module || strings.HasPrefix(p, module+"/") {
			out = append(out, rel(p))
		}
	}
	return out
}

// list runs go list on the module's packages with extra environment.
func list(t *testing.T, env []string, patterns ...string) map[string]*pkg {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", append([]string{"list", "-e", "-json=ImportPath,Imports,Deps"}, patterns...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(pkg)
		if err := dec.Decode(p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[rel(p.ImportPath)] = p
	}
	return pkgs
}

// A rule constrains the packages at or under dir ("" for the whole
// module), minus except: the packages at or under each entry, or only
// below it for an entry that ends in "/".
type rule struct {
	dir    string
	except []string
	// allow, if not nil, lists the only module packages (and everything
	// under them) the package may import directly; "" allows nothing.
	allow []string
	// deny lists module directories, and denyDeps import path prefixes
	// of any module, that must not be among the package's transitive
	// dependencies.
	deny, denyDeps []string
	why            string
}

// rules are the layering of docs/architecture.md, as tests.
var rules = []rule{
	{dir: "abi", allow: []string{}, why: "abi is the vocabulary at the bottom: it imports nothing of the project"},
	{dir: "rpc", allow: []string{"abi", "internal", "rpc"}, why: "rpc is JSON-RPC mechanics: it imports only abi and internal packages"},
	{dir: "plugins", except: []string{"plugins/"}, allow: []string{"abi"}, why: "plugins is the dependency-free plugin contract"},
	{dir: "internal/pluginwire", allow: []string{"abi"}, why: "pluginwire is linked into every plugin: it imports only abi"},
	{dir: "sdk-guest", deny: []string{"host", "plugins", "cmd"},
		denyDeps: []string{"github.com/santhosh-tekuri/jsonschema", "golang.org/x/text", "vendor/golang.org/x/text", "net/http", "github.com/hashicorp/go-plugin", "google.golang.org/grpc", "github.com/tetratelabs/wazero"},
		why:      "guests link nothing of the host, nor net/http and the standard library's copy of x/text"},
	{dir: "plugins/rules", except: []string{"plugins/rules/cmd"}, deny: []string{"host", "cmd"},
		denyDeps: []string{"github.com/santhosh-tekuri/jsonschema", "golang.org/x/text"}, why: "the rules engine goes into a Wasm guest"},
	{dir: "host", except: []string{"host/hosttest", "host/internal/benchmarks"}, deny: []string{"plugins"},
		why: "host is a codex client: it never imports plugins"},
	{dir: "plugins/chain", deny: []string{"plugins/wasm", "plugins/process", "plugins/load", "plugins/dist", "plugins/cases", "plugins/plugintest", "cmd"},
		why: "the chain composes plugins through the plugins contract and answers host's handlers: it imports host and plugins, never a runtime or admission"},
	{dir: "plugins/load", deny: []string{"host", "plugins/chain"}, why: "admission opens plugins: it knows no codex client and no chain"},
	{dir: "plugins/wasm", deny: []string{"host", "plugins/chain", "plugins/load"}, why: "a runtime sits below the chain and admission"},
	{dir: "plugins/process", deny: []string{"host", "plugins/chain", "plugins/load"}, why: "a runtime sits below the chain and admission"},
	{dir: "plugins/dist", deny: []string{"host", "plugins/chain", "plugins/load"}, why: "distribution sits below admission"},
	{dir: "internal", except: []string{"internal/layering"}, deny: []string{"host", "plugins", "cmd"}, why: "the module's shared internal packages sit below host and plugins"},
	{dir: "cmd/codexhost", deny: []string{"host/hosttest"}, why: "the codexhost binary does not link test packages"},
	{dir: "", except: []string{"cmd", "examples"}, deny: []string{"cmd", "examples"}, why: "nothing imports commands or examples"},
}

func (r *rule) applies(p string) bool {
	if !under(p, r.dir) && r.dir != "" {
		return false
	}
	for _, e := range r.except {
		if under(p, strings.TrimSuffix(e, "/")) && (p != strings.TrimSuffix(e, "/") || !strings.HasSuffix(e, "/")) {
			return false
		}
	}
	return true
}

// check returns the rule's violations in pkgs.
func (r *rule) check(pkgs map[string]*pkg) []string {
	var bad []string
	for name, p := range pkgs {
		if !r.applies(name) {
			continue
		}
		if r.allow != nil {
			for _, imp := range project(p.Imports) {
				if !slices.ContainsFunc(r.allow, func(a string) bool { return under(imp, a) }) {
					bad = append(bad, name+" imports "+imp)
				}
			}
		}
		for _, dep := range project(p.Deps) {
			for _, d := range r.deny {
				if under(dep, d) {
					bad = append(bad, name+" depends on "+dep)
				}
			}
		}
		for _, dep := range p.Deps {
			for _, d := range r.denyDeps {
				if dep == d || strings.HasPrefix(dep, d+"/") {
					bad = append(bad, name+" depends on "+dep)
				}
			}
		}
	}
	slices.Sort(bad)
	return bad
}

func TestLayering(t *testing.T) {
	pkgs := list(t, nil, "./...")
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages; is this the module root?", len(pkgs))
	}
	for _, r := range rules {
		t.Run(strings.ReplaceAll(r.dir, "/", "_")+"_", func(t *testing.T) {
			for _, v := range r.check(pkgs) {
				t.Errorf("%s: %s", v, r.why)
			}
		})
	}
}

// Guests are built for GOOS=wasip1 too, with other files: the same rules
// hold there.
func TestLayeringWasm(t *testing.T) {
	pkgs := list(t, []string{"GOOS=wasip1", "GOARCH=wasm"}, "./sdk-guest/...", "./plugins/rules/...", "./abi/...")
	for _, r := range rules {
		for _, v := range r.check(pkgs) {
			t.Errorf("GOOS=wasip1: %s: %s", v, r.why)
		}
	}
}

// The rules catch what they are meant to catch.
func TestRulesCatch(t *testing.T) {
	pkgs := map[string]*pkg{
		"abi":           {ImportPath: module + "/abi", Imports: []string{"fmt", module + "/rpc"}},
		"sdk-guest":     {ImportPath: module + "/sdk-guest", Deps: []string{module + "/plugins/process", "golang.org/x/text/language"}},
		"rpc":           {ImportPath: module + "/rpc", Imports: []string{module + "/abi", module + "/internal/jsonscan", module + "/host"}},
		"plugins":       {ImportPath: module + "/plugins", Imports: []string{module + "/abi", module + "/plugins/dist"}},
		"plugins/x":     {ImportPath: module + "/plugins/x", Imports: []string{module + "/host"}},
		"host":          {ImportPath: module + "/host", Imports: []string{module + "/rpc"}, Deps: []string{module + "/rpc", module + "/plugins"}},
		"host/hosttest": {ImportPath: module + "/host/hosttest", Deps: []string{module + "/plugins/chain"}},
		"plugins/chain": {ImportPath: module + "/plugins/chain", Deps: []string{module + "/host", module + "/plugins", module + "/plugins/wasm"}},
		"plugins/wasm":  {ImportPath: module + "/plugins/wasm", Deps: []string{module + "/plugins", module + "/plugins/chain"}},
	}
	var got []string
	for _, r := range rules {
		got = append(got, r.check(pkgs)...)
	}
	slices.Sort(got)
	want := []string{
		"abi imports rpc",
		"host depends on plugins",
		"plugins imports plugins/dist",
		"plugins/chain depends on plugins/wasm",
		"plugins/wasm depends on plugins/chain",
		"rpc imports host",
		"sdk-guest depends on golang.org/x/text/language",
		"sdk-guest depends on plugins/process",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n got %q\nwant %q", got, want)
	}
}
