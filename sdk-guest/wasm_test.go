package guest_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
	"github.com/stretchr/testify/require"
)

// TestWasmDirectives checks, on any OS, that the //go:wasmexport and
// //go:wasmimport directives of the wasip1 binding (which must be
// literals) name the abi constants, with the ABI's signatures.
func TestWasmDirectives(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "wasm_wasip1.go", nil, parser.ParseComments)
	require.NoError(t, err)
	exports := map[string]string{}
	imports := map[string]string{}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Doc == nil {
			continue
		}
		for _, c := range fn.Doc.List {
			switch fields := strings.Fields(c.Text); {
			case len(fields) == 2 && fields[0] == "//go:wasmexport":
				exports[fields[1]] = signature(fn.Type)
			case len(fields) == 3 && fields[0] == "//go:wasmimport":
				imports[fields[1]+"."+fields[2]] = signature(fn.Type)
			}
		}
	}
	require.Equal(t, map[string]string{
		abi.ExportABIVersion: "() uint32",
		abi.ExportAlloc:      "(uint32) uint32",
		abi.ExportFree:       "(uint32) ",
		abi.ExportDescribe:   "() uint64",
		abi.ExportConfigure:  "(uint32, uint32) uint64",
		abi.ExportHandle:     "(uint32, uint32, uint32) uint64",
	}, exports)
	require.Equal(t, map[string]string{
		abi.ImportModule + "." + abi.ImportLog: "(int32, unsafe.Pointer, uint32) ",
	}, imports)
}

// signature renders a function type's parameter and result types.
func signature(ft *ast.FuncType) string {
	list := func(fl *ast.FieldList) string {
		if fl == nil {
			return ""
		}
		var types []string
		for _, field := range fl.List {
			n := max(len(field.Names), 1)
			for range n {
				types = append(types, types2string(field.Type))
			}
		}
		return strings.Join(types, ", ")
	}
	return "(" + list(ft.Params) + ") " + list(ft.Results)
}

func types2string(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return types2string(e.X) + "." + e.Sel.Name
	}
	return "?"
}
