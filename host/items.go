package host

import (
	"encoding/json"
	"github.com/codexhost/codexhost/abi"
	"strings"
	"time"

	"github.com/codexhost/codexhost/host/internal/protocol"
)

// An ItemType names the kind of a thread [Item].
type ItemType string

// The item types codexhost knows by name. Others pass through as the string
// app-server sent.
const (
	ItemUserMessage       ItemType = "userMessage"
	ItemAgentMessage      ItemType = "agentMessage"
	ItemReasoning         ItemType = "reasoning"
	ItemCommandExecution  ItemType = "commandExecution"
	ItemFileChange        ItemType = "fileChange"
	ItemMCPToolCall       ItemType = "mcpToolCall"
	ItemDynamicToolCall   ItemType = "dynamicToolCall"
	ItemWebSearch         ItemType = "webSearch"
	ItemPlan              ItemType = "plan"
	ItemContextCompaction ItemType = "contextCompaction"
	// ItemCollabAgentToolCall is a call of codex's sub-agent tools
	// (spawn_agent, wait_agent, ...).
	ItemCollabAgentToolCall ItemType = "collabAgentToolCall"
)

// An Item is one entry of a turn: a message, a command, a file change, a tool
// call. The fields that apply to its Type are set; Raw holds the item exactly
// as app-server sent it.
type Item struct {
	ID     string
	Type   ItemType
	Status string // e.g. "inProgress", "completed", "failed", "declined"

	// Text is the text of a user or agent message, or a reasoning summary.
	Text string

	// Command execution.
	Command  string
	Cwd      string
	ExitCode *int
	// Duration is how long the command ran; zero if codex did not say.
	Duration time.Duration
	Output   string // aggregated stdout and stderr

	// File change.
	Changes []abi.FileChange

	// Tool calls (MCP and dynamic).
	Server, Tool string
	Arguments    json.RawMessage
	Success      *bool

	Raw json.RawMessage
}

func itemFromWire(w *protocol.ThreadItem, raw json.RawMessage) *Item {
	it := &Item{ID: w.ID, Type: ItemType(w.Type), Raw: raw, ExitCode: w.ExitCode, Success: w.Success}
	if w.Status != nil {
		_ = json.Unmarshal(*w.Status, &it.Status)
	}
	if w.Text != nil {
		it.Text = *w.Text
	}
	switch it.Type {
	case ItemReasoning:
		it.Text = strings.Join(w.Summary, "\n")
	case ItemUserMessage:
		it.Text = userMessageText(w.Content)
	}
	if w.Command != nil {
		it.Command = *w.Command
	}
	if w.Cwd != nil {
		it.Cwd = string(*w.Cwd)
	}
	if w.DurationMs != nil {
		// An integer for a command; other item types use other shapes.
		var ms int64
		if json.Unmarshal(*w.DurationMs, &ms) == nil && ms > 0 {
			it.Duration = time.Duration(ms) * time.Millisecond
		}
	}
	if w.AggregatedOutput != nil {
		it.Output = *w.AggregatedOutput
	}
	for _, c := range w.Changes {
		fc := abi.FileChange{Path: c.Path, Kind: string(c.Kind.Type), Diff: c.Diff}
		if c.Kind.MovePath != nil {
			fc.MovePath = *c.Kind.MovePath
		}
		it.Changes = append(it.Changes, fc)
	}
	if w.Server != nil {
		it.Server = *w.Server
	}
	if w.Tool != nil {
		_ = json.Unmarshal(*w.Tool, &it.Tool)
	}
	if w.Arguments != nil {
		it.Arguments = *w.Arguments
	}
	return it
}

func userMessageText(content *json.RawMessage) string {
	if content == nil {
		return ""
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(*content, &parts) != nil {
		return ""
	}
	var texts []string
	for _, p := range parts {
		if p.Type == "text" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, "\n")
}
