// Command execrender is codexhost's built-in renderer, render.ExecStyle,
// as a sandboxed WebAssembly event-render plugin: it prints a turn like
// `codex exec` (streamed messages, commands with their output and exit
// code, file changes, token usage).
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o execrender.wasm ./examples/execrender
//
// Settings (all optional):
//
//	{"color": true, "maxOutputLines": 20, "dir": "/path/to/work"}
package main

import (
	"context"
	"errors"
	"strings"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/render"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

// style is the renderer's state across calls. The host gives a render
// plugin its events in order, one call at a time, so one instance sees
// them all; if the host replaces a failed instance the state starts over.
var style = &render.ExecStyle{}

func init() {
	guest.Info("execrender", "1.0.0", "renders a turn like codex exec")
	guest.OnConfigure(func(b []byte) error {
		var s render.ExecStyle
		if err := guest.DecodeObject(b,
			guest.BoolField("color", &s.Color),
			guest.IntField("maxOutputLines", &s.MaxOutputLines),
			guest.StringField("dir", &s.Dir)); err != nil {
			return errors.New("execrender settings: " + err.Error())
		}
		style = &s
		return nil
	})
	guest.OnRender(func(ctx context.Context, req *abi.RenderRequest) (*abi.RenderResponse, error) {
		var b strings.Builder
		for i := range req.Events {
			b.WriteString(style.RenderString(&req.Events[i]))
		}
		return &abi.RenderResponse{Output: b.String()}, nil
	})
	// ExecStyle writes a delta's text as is, so a run of deltas merged
	// into one renders the same bytes.
	guest.MergeDeltas()
}

func main() { guest.Main() }
