// Command lazyconf is a test guest whose configure reads a file of the
// directory it is granted (the settings' "file", relative to Dir), and
// fails unless the file says "yes"; it accepts every approval. TestRunLazyPluginThatNoLongerLoads changes the
// file between two runs: what a lazy load's record does not cover.
package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

// Dir is the granted directory; the test creates it. It is fixed because
// the manifest, which asks for it, is built into the guest; each test
// process uses a directory of its own inside it.
const Dir = "/tmp/codexhost-test-lazyconf"

func init() {
	guest.Info("lazyconf", "1.0.0", "configure reads a granted file")
	guest.Capabilities(abi.Capabilities{ReadDirs: []string{Dir}})
	guest.OnConfigure(func(settings []byte) error {
		var file string
		if err := guest.DecodeObject(settings, guest.StringField("file", &file)); err != nil {
			return err
		}
		if file == "" || !filepath.IsLocal(file) {
			return errors.New(`settings: "file" must be a relative path inside ` + Dir)
		}
		b, err := os.ReadFile(filepath.Join(Dir, file))
		if err != nil {
			return err
		}
		if string(b) != "yes" {
			return errors.New("the granted file says no")
		}
		return nil
	})
	guest.OnApproval(func(context.Context, *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
		return &abi.ApprovalResponse{Decision: abi.Accept, Reason: "lazyconf accepts"}, nil
	})
}

func main() { guest.Main() }
