// Package render holds codexhost's shipped turn renderers: [ExecStyle],
// which prints a turn for a person the way `codex exec` does, and [JSONL],
// which writes one JSON object per event for machines.
//
// The package depends only on the standard library and abi, so the same
// code runs in the host process (as a member of a plugin chain, through
// chain.RendererPlugin, which calls it without JSON) and inside a
// WebAssembly render plugin (see examples/execrender).
package render

import (
	"encoding/json"
	"io"
	"os"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/internal/termsafe"
)

// A Renderer writes the events of a turn to w, in order. Renderers keep
// state across the events of a turn (an open line, the tokens so far), so
// one value must see every event of a client, in order, and is not safe for
// concurrent use. Render returns the first write error; the state is
// updated as if the write had succeeded.
type Renderer interface {
	Render(w io.Writer, ev *abi.Event) error
}

// JSONL renders each event as its abi.Event JSON on one line, written with
// one Write call. It is stateless.
type JSONL struct{}

var _ Renderer = JSONL{}

// Render implements [Renderer].
func (JSONL) Render(w io.Writer, ev *abi.Event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	// The same value with no C1 control or text-hiding character raw
	// (termsafe.AppendJSON): a filter downstream leaves it whole.
	_, err = w.Write(append(termsafe.AppendJSON(nil, b), '\n'))
	return err
}

// UseColor reports whether w is a terminal and NO_COLOR is unset or empty
// (https://no-color.org): whether a renderer writing to w should colour.
func UseColor(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
