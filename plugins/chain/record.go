package chain

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/codexhost/codexhost/abi"
)

// A WhyKind says where a chain's answer came from.
type WhyKind uint8

const (
	// WhyAnswer: a plugin answered (Why.Plugin).
	WhyAnswer WhyKind = iota
	// WhyAbstained: every plugin abstained; the fallback answered.
	WhyAbstained
	// WhyFailed: the deciding part was a plugin's failure (Why.Plugin),
	// answered with the fallback.
	WhyFailed
	// WhyDisabled: the deciding part was a plugin the crash budget
	// disabled (Why.Plugin), answered with the fallback.
	WhyDisabled
	// WhyUndecodable: the host could not read codex's request
	// (host.ApprovalRequest.Unreadable, in Why.Detail); it was declined
	// without asking any plugin.
	WhyUndecodable
	// WhyUnanswered: no plugin serves the tool, or none answered the
	// questions.
	WhyUnanswered
	// WhyAuditFailed: the decision could not be recorded (Why.Detail), so
	// the chain answered fail-closed instead.
	WhyAuditFailed
	// WhyHuman: a plugin answered ask (Why.Plugin) and a human decided
	// (Options.Escalate).
	WhyHuman
	// WhyNoHuman: a plugin answered ask (Why.Plugin) and no human decided
	// (Why.Detail says why); the fallback answered.
	WhyNoHuman
	// WhyRefused: the fallback or a human answered what codex may not be
	// sent for this request (an accept not on offer, a grant through a
	// symbolic link); declined. Why.Detail says who answered what, and
	// why it was refused.
	WhyRefused
)

// A Why explains a chain's answer. It is set once, after every plugin has
// had its say.
type Why struct {
	Kind WhyKind
	// Plugin is the plugin that answered, failed or was disabled.
	Plugin string
	// Detail is the audit failure, for WhyAuditFailed, why no human
	// decided, for WhyNoHuman, or why the host could not read the
	// request, for WhyUndecodable.
	Detail string
}

// Fallback reports whether the answer is neither a plugin's own nor a
// human's.
func (w Why) Fallback() bool { return w.Kind != WhyAnswer && w.Kind != WhyHuman }

// String is the form the audit log and the CLI print: "answer", or
// "fallback: ..." saying why.
func (w Why) String() string {
	switch w.Kind {
	case WhyAnswer:
		return "answer"
	case WhyAbstained:
		return "fallback: all abstained"
	case WhyFailed:
		return "fallback: plugin " + w.Plugin + " failed"
	case WhyDisabled:
		return "fallback: plugin " + w.Plugin + " disabled (crash budget)"
	case WhyUndecodable:
		return "fallback: unreadable request: " + w.Detail
	case WhyUnanswered:
		return "fallback: no plugin answered"
	case WhyAuditFailed:
		return "fallback: audit write failed: " + w.Detail
	case WhyHuman:
		return "human: asked by plugin " + w.Plugin
	case WhyNoHuman:
		return "fallback: plugin " + w.Plugin + " asked for a human: " + w.Detail
	case WhyRefused:
		return "refused: " + w.Detail
	}
	return fmt.Sprintf("WhyKind(%d)", w.Kind)
}

// MarshalText encodes w as its String.
func (w Why) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// A PluginAnswer is one plugin's part in a decision.
type PluginAnswer struct {
	Plugin   string
	Decision abi.Decision // approvals; "" for other hooks
	Reason   string
	Err      error // set when the plugin failed; Decision is then the fallback
	Latency  time.Duration
	// Monitor marks the answer of a plugin in monitor mode: recorded, but
	// not part of the decision.
	Monitor bool
}

// A DecisionRecord describes how the chain answered one request.
type DecisionRecord struct {
	Time time.Time
	Hook abi.Hook
	// Method is codex's request method.
	Method string
	// ApprovalKind is what an approval asks about.
	ApprovalKind             abi.ApprovalKind
	ThreadID, TurnID, ItemID string
	// Summary is a short description of the request: the command, the
	// changed paths, the tool name, the questions.
	Summary string
	Answers []PluginAnswer
	// Decision is the final decision of an approval.
	Decision abi.Decision
	// Why explains the final answer.
	Why     Why
	Latency time.Duration
	// Answer is the exact JSON-RPC result sent to codex, extras included.
	Answer json.RawMessage
	// Generation is the generation of the plugin set that answered
	// ([Chain.Generation]).
	Generation uint64

	ctx context.Context
}

// Context returns the context of the request the record describes, as the
// chain's handler method received it: its deadline, values and trace span
// (the audit log's OTLP stream attaches the span's ids to the record). It
// is never nil; for a record the chain did not make, it is
// context.Background().
func (r *DecisionRecord) Context() context.Context {
	if r.ctx == nil {
		return context.Background()
	}
	return r.ctx
}
