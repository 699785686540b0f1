package plugintest

import (
	"strings"
	"testing"

	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/cases"
)

// RunCases runs the cases of a cases file (TOML, or JSON for a .json file;
// docs/cli.md) against p, as subtests of t named after the cases, and
// fails each case whose answer is not the expected one: what codexhost
// plugin test --cases does, from go test. The file's settings are not
// applied: load p with them (see cases.ReadFile).
func RunCases(t *testing.T, p plugins.Plugin, file string) {
	t.Helper()
	suite, err := cases.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cases.NewRunner(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range suite.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			res := r.Run(t.Context(), c)
			if res.Status != cases.Pass {
				t.Errorf("%s\nthe plugin answered:\n%s", strings.Join(res.Problems, "\n"), strings.Join(res.Answer, "\n"))
			}
		})
	}
}
