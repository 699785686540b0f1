package chain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
)

type renderPlugin struct {
	name     string
	features abi.Features
	fail     bool
	calls    *int
	mu       sync.Mutex
	seqs     []uint64
}

func (p *renderPlugin) Manifest() *abi.Manifest {
	return &abi.Manifest{Name: p.name, ABI: abi.Version, Hooks: []abi.Hook{abi.HookEventRender}, Features: p.features}
}
func (p *renderPlugin) Close(context.Context) error { return nil }
func (p *renderPlugin) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	if p.fail {
		*p.calls++
		return nil, &plugins.CallError{Plugin: p.name, Hook: hook, Kind: plugins.FailTrap, Err: errors.New("renderer broken")}
	}
	var r abi.RenderRequest
	if err := json.Unmarshal(req, &r); err != nil {
		return nil, err
	}
	var b strings.Builder
	p.mu.Lock()
	for _, ev := range r.Events {
		p.seqs = append(p.seqs, ev.Seq)
		b.WriteString(ev.Delta)
	}
	p.mu.Unlock()
	return json.Marshal(abi.RenderResponse{Output: b.String()})
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
