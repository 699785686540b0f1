package guest_test

import (
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
	"github.com/stretchr/testify/require"
)

// TestGuestsBuildForWasm builds the reference guests as WebAssembly
// reactor modules and checks their exports and imports. The runtimes run
// them (plugins/wasm, plugins/plugintest); this only checks the binding.
func TestGuestsBuildForWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds WebAssembly modules")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	for _, name := range []string{"ref", "approveall", "abstain"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), name+".wasm")
			cmd := exec.CommandContext(t.Context(), goTool, "build", "-buildmode=c-shared", "-o", out, "./internal/testguests/"+name)
			cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
			msg, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", msg)
			bin, err := os.ReadFile(out)
			require.NoError(t, err)
			exports, imports, err := wasmExportsImports(bin)
			require.NoError(t, err)
			for _, e := range []string{abi.ExportMemory, abi.ExportInitialize, abi.ExportABIVersion, abi.ExportAlloc,
				abi.ExportFree, abi.ExportDescribe, abi.ExportConfigure, abi.ExportHandle} {
				require.Contains(t, exports, e)
			}
			if name == "ref" { // the only one that logs
				require.Contains(t, imports, abi.ImportModule+"."+abi.ImportLog)
			}
			for _, imp := range imports {
				require.Regexp(t, `^(wasi_snapshot_preview1|codexhost)\.`, imp)
			}
		})
	}
}

// wasmExportsImports lists a module's export names and its imports as
// module.name, from the export (7) and import (2) sections.
func wasmExportsImports(bin []byte) (exports, imports []string, err error) {
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		return nil, nil, errors.New("not a wasm module")
	}
	r := bin[8:]
	u32 := func() uint32 {
		v, n := binary.Uvarint(r)
		if n <= 0 {
			panic("bad LEB128")
		}
		r = r[n:]
		return uint32(v)
	}
	name := func() string {
		n := u32()
		s := string(r[:n])
		r = r[n:]
		return s
	}
	defer func() {
		if v := recover(); v != nil {
			err = errors.New("malformed module")
		}
	}()
	for len(r) > 0 {
		id := r[0]
		r = r[1:]
		size := u32()
		body, rest := r[:size], r[size:]
		r = body
		switch id {
		case 2:
			for n := u32(); n > 0; n-- {
				imports = append(imports, name()+"."+name())
				switch kind := r[0]; kind {
				case 0: // function: type index
					r = r[1:]
					u32()
				default:
					return nil, nil, errors.New("unexpected import kind")
				}
			}
		case 7:
			for n := u32(); n > 0; n-- {
				exports = append(exports, name())
				r = r[1:] // kind
				u32()     // index
			}
		}
		r = rest
	}
	return exports, imports, nil
}

// TestGuestLinksNoReflectionCodec keeps a guest small: sdk-guest and abi,
// built for WebAssembly, must not import fmt or encoding/json, which add
// ~1.1 MB to every module (~30% of a 3.9 MB guest), and with it compile
// time, load time and resident machine code in every host that loads it
// (docs/performance.md, "Guest size"). A guest that imports them itself
// pays for them; the SDK does not make it.
func TestGuestLinksNoReflectionCodec(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	cmd := exec.CommandContext(t.Context(), goTool, "list", "-deps", "./internal/testguests/approveall")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	out, err := cmd.Output()
	require.NoError(t, err)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/codexhost/codexhost/sdk-guest", "the listing is of a guest")
	for _, heavy := range []string{"fmt", "encoding/json", "text/template", "log", "log/slog"} {
		require.NotContains(t, deps, heavy, "a guest built with sdk-guest links %s", heavy)
	}
}
