package host

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host/internal/protocol"
	"github.com/codexhost/codexhost/internal/jsonscan"
	"github.com/codexhost/codexhost/rpc"
)

// This file decodes the params of the server requests that come by the
// hundred in a turn (command and file-change approvals) in one pass,
// without encoding/json. Like the event and envelope fast paths, it
// decodes only what it fully understands and reports false for anything
// else (a member it does not handle, a member name that matches a field
// only case-insensitively or has escapes, a duplicate, a value of another
// type, invalid JSON): the caller then takes the encoding/json path, so
// the result is always what encoding/json gives, never a guess.
// FuzzRequestFast checks that both paths agree.

// location is what newRequest reads from any request's params.
type location struct {
	threadID, turnID, itemID string
}

// locationFields are the members newRequest's encoding/json path reads
// (its location struct), folded to lower case.
var locationFields = map[string]bool{"threadid": true, "turnid": true, "itemid": true, "conversationid": true, "callid": true}

// foldedFields returns the json member names of struct type T, folded to
// lower case: the names encoding/json matches case-insensitively.
func foldedFields[T any]() func() map[string]bool {
	return sync.OnceValue(func() map[string]bool {
		m := map[string]bool{}
		t := reflect.TypeFor[T]()
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name == "" {
				name = t.Field(i).Name
			}
			m[strings.ToLower(name)] = true
		}
		return m
	})
}

var (
	commandApprovalFields    = foldedFields[protocol.CommandExecutionRequestApprovalParams]()
	fileChangeApprovalFields = foldedFields[protocol.FileChangeRequestApprovalParams]()
	commandActionFields      = foldedFields[protocol.CommandAction]()
	networkContextFields     = foldedFields[protocol.NetworkApprovalContext]()
	threadItemFields         = foldedFields[protocol.ThreadItem]()
)

// scanner decodes plain JSON values. scratch is reused for unquoting.
type scanner struct {
	scratch []byte
}

// eachMember calls f for each member of the object v (a complete JSON
// value with no surrounding space), with the member's name (plain: no
// escapes, printable ASCII) and raw value. It reports false if v is not
// an object, a name is not plain, v is not valid JSON, or f reports false.
func eachMember(v []byte, f func(key, val []byte) bool) bool {
	end, ok := scanMembers(v, f)
	return ok && end == len(v)
}

// scanMembers is eachMember for the object b starts with, followed by
// anything: it returns the index just after the object.
func scanMembers(v []byte, f func(key, val []byte) bool) (end int, ok bool) {
	if len(v) == 0 || v[0] != '{' {
		return 0, false
	}
	i := jsonscan.SkipSpace(v, 1)
	if i < len(v) && v[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(v) || v[i] != '"' {
			return 0, false
		}
		kend, plain, ok := jsonscan.ScanString(v, i)
		if !ok || !plain {
			return 0, false
		}
		key := v[i+1 : kend-1]
		i = jsonscan.SkipSpace(v, kend)
		if i >= len(v) || v[i] != ':' {
			return 0, false
		}
		i = jsonscan.SkipSpace(v, i+1)
		vstart := i
		vend, ok := jsonscan.SkipValue(v, i)
		if !ok || !f(key, v[vstart:vend]) {
			return 0, false
		}
		i = jsonscan.SkipSpace(v, vend)
		if i >= len(v) {
			return 0, false
		}
		if v[i] == '}' {
			return i + 1, true
		}
		if v[i] != ',' {
			return 0, false
		}
		i = jsonscan.SkipSpace(v, i+1)
	}
}

// eachElement calls f for each element of the array v (a complete JSON
// value), and reports false if v is not an array or f reports false.
func eachElement(v []byte, f func(val []byte) bool) bool {
	if len(v) == 0 || v[0] != '[' {
		return false
	}
	i := jsonscan.SkipSpace(v, 1)
	if i < len(v) && v[i] == ']' {
		return i+1 == len(v)
	}
	for {
		vstart := i
		vend, ok := jsonscan.SkipValue(v, i)
		if !ok || !f(v[vstart:vend]) {
			return false
		}
		i = jsonscan.SkipSpace(v, vend)
		if i >= len(v) {
			return false
		}
		if v[i] == ']' {
			return i+1 == len(v)
		}
		if v[i] != ',' {
			return false
		}
		i = jsonscan.SkipSpace(v, i+1)
	}
}

// otherMember reports whether a member the decoder does not handle can be
// ignored: encoding/json ignores it too, because no field of fields
// matches its name even case-insensitively.
func (s *scanner) otherMember(key []byte, fields ...map[string]bool) bool {
	s.scratch = appendLowerASCII(s.scratch[:0], key)
	for _, f := range fields {
		if f[string(s.scratch)] {
			return false
		}
	}
	return true
}

func isNull(v []byte) bool { return string(v) == "null" }

// isPlain reports whether the JSON string v holds its contents as is.
func isPlain(v []byte) bool {
	_, plain, _ := jsonscan.ScanString(v, 0)
	return plain
}

// str decodes a JSON string as encoding/json decodes it into a Go string.
func (s *scanner) str(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	if isPlain(v) {
		return string(v[1 : len(v)-1]), true
	}
	// Sized once: escapes only shrink a string (but for invalid UTF-8,
	// which is rare).
	s.scratch = jsonscan.AppendUnquoted(slices.Grow(s.scratch[:0], len(v)), v)
	x := string(s.scratch)
	if cap(s.scratch) > maxScratch {
		s.scratch = nil // a long text: do not hold its copy
	}
	return x, true
}

// maxScratch bounds the scratch buffer a scanner keeps between values.
const maxScratch = 64 << 10

// optStr decodes a string into a string field: null leaves it as it is,
// which the decoders here start from empty and never decode twice.
func (s *scanner) optStr(v []byte, dst *string) bool {
	if isNull(v) {
		return true
	}
	x, ok := s.str(v)
	*dst = x
	return ok
}

// checkStr checks a value encoding/json decodes into a string field that
// is not used: a string or null.
// The value was checked by eachMember.
func (s *scanner) checkStr(v []byte) bool {
	return isNull(v) || len(v) > 0 && v[0] == '"'
}

// optInt checks a value encoding/json decodes into an int (or *int)
// field: null, or an integer that fits.
func optInt(v []byte) (n int, null, ok bool) {
	if isNull(v) {
		return 0, true, true
	}
	end, integer, ok := jsonscan.ScanNumber(v, 0)
	if !ok || !integer || end != len(v) {
		return 0, false, false
	}
	x, err := strconv.ParseInt(string(v), 10, strconv.IntSize)
	return int(x), false, err == nil
}

// strings decodes an array of strings (null: nil); a null element is not
// handled.
func (s *scanner) strings(v []byte) ([]string, bool) {
	if isNull(v) {
		return nil, true
	}
	out := []string{}
	ok := eachElement(v, func(e []byte) bool {
		x, ok := s.str(e)
		out = append(out, x)
		return ok
	})
	return out, ok
}

// decodeLocationFast reads a request's location the way newRequest's
// encoding/json path does, for params that name it with threadId, turnId
// and itemId (the v2 requests).
func (s *scanner) decodeLocationFast(params []byte) (loc location, ok bool) {
	loc, end, ok := s.decodeLocationPrefix(params)
	return loc, ok && end == len(params)
}

// decodeLocationPrefix is decodeLocationFast for the params b starts with;
// it returns where they end.
func (s *scanner) decodeLocationPrefix(b []byte) (loc location, end int, ok bool) {
	var seen uint8
	end, ok = scanMembers(b, func(key, v []byte) bool {
		var bit uint8
		var dst *string
		switch string(key) {
		case "threadId":
			bit, dst = 1, &loc.threadID
		case "turnId":
			bit, dst = 2, &loc.turnID
		case "itemId":
			bit, dst = 4, &loc.itemID
		default:
			return s.otherMember(key, locationFields)
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return s.optStr(v, dst)
	})
	return loc, end, ok
}

// decodeApprovalFast decodes a command or file-change approval's params
// into its location and its ABI request (without what Request.Approval
// adds from the connection: the thread's cwd, a file change's paths). It
// reports false for any other kind.
func (s *scanner) decodeApprovalFast(kind requestKind, params []byte) (loc location, a *abi.ApprovalRequest, ok bool) {
	loc, a, end, ok := s.decodeApprovalPrefix(kind, params)
	if !ok || end != len(params) {
		return location{}, nil, false
	}
	return loc, a, true
}

// decodeApprovalPrefix is decodeApprovalFast for the params b starts
// with; it returns where they end.
func (s *scanner) decodeApprovalPrefix(kind requestKind, b []byte) (loc location, a *abi.ApprovalRequest, end int, ok bool) {
	switch kind {
	case requestCommandApproval:
		a, end, ok = s.decodeCommandApproval(b, &loc)
	case requestFileChangeApproval:
		a, end, ok = s.decodeFileChangeApproval(b, &loc)
	}
	if !ok {
		return location{}, nil, 0, false
	}
	a.ThreadID, a.TurnID, a.ItemID = loc.threadID, loc.turnID, loc.itemID
	return loc, a, end, true
}

func (s *scanner) decodeCommandApproval(params []byte, loc *location) (*abi.ApprovalRequest, int, bool) {
	a := &abi.ApprovalRequest{Kind: abi.ApprovalCommand}
	var seen uint32
	end, ok := scanMembers(params, func(key, v []byte) bool {
		var bit uint32
		ok := true
		switch string(key) {
		case "threadId":
			bit, ok = 1<<0, s.optStr(v, &loc.threadID)
		case "turnId":
			bit, ok = 1<<1, s.optStr(v, &loc.turnID)
		case "itemId":
			bit, ok = 1<<2, s.optStr(v, &loc.itemID)
		case "startedAtMs":
			bit = 1 << 3
			_, _, ok = optInt(v)
		case "reason":
			bit, ok = 1<<4, s.optStr(v, &a.Reason)
		case "command":
			bit, ok = 1<<5, s.optStr(v, &a.Command)
		case "cwd":
			bit, ok = 1<<6, s.optStr(v, &a.Cwd)
		case "approvalId":
			bit, ok = 1<<7, s.checkStr(v)
		case "environmentId":
			bit, ok = 1<<8, s.checkStr(v)
		case "kind":
			// Anything but a command is for approvalSlow to refuse.
			bit, ok = 1<<9, isNull(v) || string(v) == `"`+string(protocol.CommandExecutionApprovalKindCommand)+`"`
		case "commandActions":
			bit = 1 << 10
			a.Actions, ok = s.commandActions(v)
		case "proposedExecpolicyAmendment":
			bit = 1 << 11
			a.ProposedAmendment, ok = s.strings(v)
		case "availableDecisions":
			bit = 1 << 12
			a.AvailableDecisions, ok = s.decisions(v)
		case "networkApprovalContext":
			bit = 1 << 13
			a.Network, ok = s.networkContext(v)
		case "additionalPermissions":
			bit = 1 << 14
			if !isNull(v) {
				var ap *protocol.AdditionalPermissionProfile
				if json.Unmarshal(v, &ap) != nil || ap == nil || unjudgedEntries(ap.FileSystem) {
					return false // the slow path says why
				}
				a.AdditionalPermissions = permissionsFromWire(ap.FileSystem, ap.Network, ap)
			}
		case "proposedNetworkPolicyAmendments":
			bit = 1 << 15
			if !isNull(v) {
				var am []protocol.NetworkPolicyAmendment
				ok = json.Unmarshal(v, &am) == nil
			}
		default:
			return s.otherMember(key, commandApprovalFields(), locationFields)
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
	return a, end, ok
}

// commandActions decodes commandActions as Request.Approval translates
// them.
func (s *scanner) commandActions(v []byte) ([]abi.CommandAction, bool) {
	if isNull(v) {
		return nil, true
	}
	var out []abi.CommandAction
	ok := eachElement(v, func(e []byte) bool {
		var act abi.CommandAction
		var seen uint8
		ok := eachMember(e, func(key, v []byte) bool {
			var bit uint8
			ok := true
			switch string(key) {
			case "type":
				bit, ok = 1, s.optStr(v, &act.Type)
			case "command":
				bit, ok = 2, s.optStr(v, &act.Command)
			case "query":
				bit, ok = 4, s.optStr(v, &act.Query)
			case "name":
				bit, ok = 8, s.checkStr(v)
			case "path":
				// Kept raw on the wire; Approval takes it if it is a
				// string.
				bit = 16
				if len(v) > 0 && v[0] == '"' {
					act.Path, ok = s.str(v)
				} else {
					ok = isNull(v)
				}
			default:
				return s.otherMember(key, commandActionFields())
			}
			if !ok || seen&bit != 0 {
				return false
			}
			seen |= bit
			return true
		})
		out = append(out, act)
		return ok
	})
	return out, ok
}

// decisions decodes availableDecisions as Request.Approval translates
// them: each element through decisionOption, but for the plain strings.
func (s *scanner) decisions(v []byte) ([]abi.DecisionOption, bool) {
	if isNull(v) {
		return nil, true
	}
	var out []abi.DecisionOption
	ok := eachElement(v, func(e []byte) bool {
		var o abi.DecisionOption
		if e[0] == '"' && isPlain(e) {
			switch d := abi.Decision(e[1 : len(e)-1]); d {
			case abi.Accept, abi.AcceptForSession, abi.Decline, abi.Cancel:
				o.Decision = d
			}
		} else if am, ok := s.execAmendmentOption(e); ok {
			o = abi.DecisionOption{Decision: abi.Accept, Amendment: am}
		} else {
			o, _ = decisionOption(e) // another shape: its own decoder
		}
		out = append(out, o)
		return true
	})
	return out, ok
}

// execAmendmentOption decodes the decision codex offers with a proposed
// amendment, in exactly this shape:
// {"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["a",...]}},
// one member each and a non-empty array of strings, which decisionOption
// takes as an accept with that amendment. It reports false for any other
// shape.
func (s *scanner) execAmendmentOption(e []byte) (am []string, ok bool) {
	one := func(v []byte, name string, f func(v []byte) bool) bool {
		n := 0
		return eachMember(v, func(key, v []byte) bool {
			n++
			return n == 1 && string(key) == name && f(v)
		}) && n == 1
	}
	ok = one(e, "acceptWithExecpolicyAmendment", func(v []byte) bool {
		return one(v, "execpolicy_amendment", func(v []byte) bool {
			if isNull(v) {
				return false
			}
			var ok bool
			am, ok = s.strings(v)
			return ok && len(am) > 0
		})
	})
	return am, ok
}

// networkContext decodes networkApprovalContext.
func (s *scanner) networkContext(v []byte) (*abi.NetworkAccess, bool) {
	if isNull(v) {
		return nil, true
	}
	n := &abi.NetworkAccess{}
	var seen uint8
	ok := eachMember(v, func(key, v []byte) bool {
		var bit uint8
		var dst *string
		switch string(key) {
		case "host":
			bit, dst = 1, &n.Host
		case "protocol":
			bit, dst = 2, &n.Protocol
		default:
			return s.otherMember(key, networkContextFields())
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return s.optStr(v, dst)
	})
	return n, ok
}

func (s *scanner) decodeFileChangeApproval(params []byte, loc *location) (*abi.ApprovalRequest, int, bool) {
	a := &abi.ApprovalRequest{Kind: abi.ApprovalFileChange}
	var seen uint8
	end, ok := scanMembers(params, func(key, v []byte) bool {
		var bit uint8
		ok := true
		switch string(key) {
		case "threadId":
			bit, ok = 1, s.optStr(v, &loc.threadID)
		case "turnId":
			bit, ok = 2, s.optStr(v, &loc.turnID)
		case "itemId":
			bit, ok = 4, s.optStr(v, &loc.itemID)
		case "startedAtMs":
			bit = 8
			_, _, ok = optInt(v)
		case "reason":
			bit, ok = 16, s.optStr(v, &a.Reason)
		case "grantRoot":
			bit, ok = 32, s.optStr(v, &a.GrantRoot)
		default:
			return s.otherMember(key, fileChangeApprovalFields(), locationFields)
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
	return a, end, ok
}

// paramsDecoder is the Client's rpc.ParamsDecoder: it decodes server
// requests (into a *Request, without what handleRequest adds from the
// connection) and notifications (into an *Event, without its Seq) as the
// rpc reader scans their line, on the fast paths only. What it declines
// is decoded later, on the dispatcher (events) or the handler's goroutine
// (requests). It belongs to the rpc reader goroutine.
type paramsDecoder struct {
	ids idCache
	sc  scanner
}

var _ rpc.ParamsDecoder = (*paramsDecoder)(nil)

// DecodeParams implements rpc.ParamsDecoder.
func (d *paramsDecoder) DecodeParams(method string, params []byte) (any, int, bool) {
	if kind, ok := requestKinds[protocol.ServerMethod(method)]; ok {
		req := &Request{kind: kind, Method: method}
		var end int
		if loc, a, n, ok := d.sc.decodeApprovalPrefix(kind, params); ok {
			req.decoded.Store(a)
			req.ThreadID, req.TurnID, req.ItemID, end = loc.threadID, loc.turnID, loc.itemID, n
		} else if kind.isApproval() {
			return nil, 0, false
		} else if loc, n, ok := d.sc.decodeLocationPrefix(params); ok {
			req.ThreadID, req.TurnID, req.ItemID, end = loc.threadID, loc.turnID, loc.itemID, n
		} else {
			return nil, 0, false
		}
		req.Params = params[:end:end]
		return req, end, true
	}
	ev, n, ok := decodeEventPrefix(method, kindByMethod[protocol.NotificationMethod(method)], params, &d.ids, &d.sc)
	if !ok {
		return nil, 0, false
	}
	return ev, n, true
}
