package host

import (
	"encoding/json"
	"time"

	"github.com/codexhost/codexhost/abi"

	"github.com/codexhost/codexhost/host/internal/protocol"
	"github.com/codexhost/codexhost/internal/jsonscan"
)

// idCache remembers the ids of the previous event, so that a stream of
// deltas of one item shares three strings instead of allocating them per
// event. It belongs to the delivery goroutine.
type idCache struct {
	thread, turn, item string
}

func (c *idCache) intern(slot *string, b []byte) string {
	if *slot != string(b) { // no allocation for the comparison
		*slot = string(b)
	}
	return *slot
}

// envelopeKeys are the members decodeEvent's envelope reads, folded to
// lower case: encoding/json matches member names case-insensitively.
var envelopeKeys = map[string]bool{
	"threadid": true, "turnid": true, "itemid": true, "delta": true, "item": true,
	"turn": true, "tokenusage": true, "error": true, "willretry": true, "thread": true,
}

// decodeEventFast decodes the notifications whose envelope is flat strings
// (every delta kind, and others with nothing nested that codexhost reads),
// and item/started and item/completed of the items decodeItemFast takes,
// in one pass, without encoding/json. It reports false, having decoded
// nothing, for anything else: a member decodeEvent must decode itself
// (item, turn, tokenUsage, error, willRetry, thread), a member name that
// only matches case-insensitively or has escapes, a duplicate, a value
// that is not a string, invalid JSON. decodeEvent then takes its usual
// path, so the result is always encoding/json's (FuzzDecodeEvent checks).
func decodeEventFast(method string, kind abi.EventKind, params json.RawMessage, ids *idCache, sc *scanner) (*Event, bool) {
	i := jsonscan.SkipSpace(params, 0)
	ev, end, ok := decodeEventPrefix(method, kind, params[i:], ids, sc)
	if !ok || jsonscan.SkipSpace(params, i+end) != len(params) {
		return nil, false
	}
	ev.Params = params
	return ev, true
}

// decodeEventPrefix is decodeEventFast for the params b starts with (no
// leading space), followed by anything; it returns where they end. The
// event's Params are b up to there.
func decodeEventPrefix(method string, kind abi.EventKind, b []byte, ids *idCache, sc *scanner) (*Event, int, bool) {
	buf := &sc.scratch
	i := 0
	if len(b) == 0 || b[0] != '{' {
		return nil, 0, false
	}
	ev := &Event{Method: method, Kind: kind}
	var seen uint8
	i = jsonscan.SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return nil, 0, false
			}
			kend, plain, ok := jsonscan.ScanString(b, i)
			if !ok || !plain {
				return nil, 0, false
			}
			key := b[i+1 : kend-1]
			i = jsonscan.SkipSpace(b, kend)
			if i >= len(b) || b[i] != ':' {
				return nil, 0, false
			}
			var bit uint8
			switch string(key) {
			case "threadId":
				bit = 1
			case "turnId":
				bit = 2
			case "itemId":
				bit = 4
			case "delta":
				bit = 8
			case "item":
				// The item of item/started and item/completed, when
				// decodeItemFast takes it.
				if kind != abi.EventItemStarted && kind != abi.EventItemCompleted {
					return nil, 0, false
				}
				bit = 16
			default:
				*buf = appendLowerASCII((*buf)[:0], key)
				if envelopeKeys[string(*buf)] {
					return nil, 0, false
				}
			}
			i = jsonscan.SkipSpace(b, i+1)
			vstart := i
			vend, ok := jsonscan.SkipValue(b, i)
			if !ok {
				return nil, 0, false
			}
			v := b[vstart:vend]
			if bit == 16 {
				if ev.Item != nil {
					return nil, 0, false
				}
				if ev.Item, ok = sc.decodeItemFast(v); !ok {
					return nil, 0, false
				}
			} else if bit != 0 {
				if seen&bit != 0 || v[0] != '"' {
					return nil, 0, false
				}
				seen |= bit
				s := v[1 : len(v)-1]
				if _, plain, _ := jsonscan.ScanString(v, 0); !plain {
					*buf = jsonscan.AppendUnquoted((*buf)[:0], v)
					s = *buf
				}
				switch bit {
				case 1:
					ev.ThreadID = ids.intern(&ids.thread, s)
				case 2:
					ev.TurnID = ids.intern(&ids.turn, s)
				case 4:
					ev.ItemID = ids.intern(&ids.item, s)
				case 8:
					ev.Delta = string(s)
				}
			}
			i = jsonscan.SkipSpace(b, vend)
			if i >= len(b) {
				return nil, 0, false
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return nil, 0, false
			}
			i = jsonscan.SkipSpace(b, i+1)
		}
	}
	switch kind {
	case abi.EventItemStarted, abi.EventItemCompleted:
		if ev.Item == nil {
			return nil, 0, false // no item: decodeEvent reports that
		}
		ev.ItemID = ev.Item.ID
	case abi.EventTurnStarted, abi.EventTurnCompleted, abi.EventTokenUsage, abi.EventError:
		// Their nested member is missing: decodeEvent reports that.
		return nil, 0, false
	}
	ev.Params = b[:i:i]
	return ev, i, true
}

// appendLowerASCII appends b in lower case to dst. A plain member name is
// printable ASCII, so ASCII folding is encoding/json's folding for it.
func appendLowerASCII(dst, b []byte) []byte {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// decode decodes a notification into an event, on the fast path when it
// can. It runs on the delivery goroutine.
func (r *router) decode(method string, params json.RawMessage) (*Event, error) {
	if len(params) > 0 {
		kind := kindByMethod[protocol.NotificationMethod(method)]
		if ev, ok := decodeEventFast(method, kind, params, &r.ids, &r.scan); ok {
			return ev, nil
		}
	}
	return decodeEvent(method, params)
}

// decodeItemFast decodes the item of item/started and item/completed as
// itemFromWire does, for the items that come with every command and
// message: commandExecution and agentMessage items. It reports false for
// any other type, and for a member it does not handle (a member of
// ThreadItem that these types do not carry, a name that matches one only
// case-insensitively), a duplicate or a value of another type: decodeEvent
// then decodes the item with encoding/json.
func (s *scanner) decodeItemFast(v []byte) (*Item, bool) {
	it := &Item{Raw: v}
	var seen uint32
	ok := eachMember(v, func(key, v []byte) bool {
		var bit uint32
		ok := true
		switch string(key) {
		case "type":
			var t string
			bit, ok = 1<<0, s.optStr(v, &t)
			it.Type = ItemType(t)
		case "id":
			bit, ok = 1<<1, s.optStr(v, &it.ID)
		case "status":
			bit, ok = 1<<2, s.optStr(v, &it.Status)
		case "text":
			bit, ok = 1<<3, s.optStr(v, &it.Text)
		case "command":
			bit, ok = 1<<4, s.optStr(v, &it.Command)
		case "cwd":
			bit, ok = 1<<5, s.optStr(v, &it.Cwd)
		case "aggregatedOutput":
			bit, ok = 1<<6, s.optStr(v, &it.Output)
		case "exitCode":
			bit = 1 << 7
			var n int
			var null bool
			if n, null, ok = optInt(v); ok && !null {
				it.ExitCode = &n
			}
		case "durationMs":
			// Raw on the wire; an integer for a command.
			bit = 1 << 8
			var n int
			if n, _, ok = optInt(v); ok && n > 0 {
				it.Duration = time.Duration(n) * time.Millisecond
			}
		case "success":
			bit = 1 << 9
			switch string(v) {
			case "true", "false":
				b := string(v) == "true"
				it.Success = &b
			default:
				ok = isNull(v)
			}
		case "processId":
			bit, ok = 1<<10, s.checkStr(v)
		case "source":
			bit, ok = 1<<11, s.checkStr(v)
		case "phase":
			bit, ok = 1<<12, s.checkStr(v)
		case "commandActions":
			bit = 1 << 13
			_, ok = s.commandActions(v)
		case "startedAtMs":
			bit = 1 << 14
			_, _, ok = optInt(v)
		case "completedAtMs":
			bit = 1 << 15
			_, _, ok = optInt(v)
		case "memoryCitation":
			bit, ok = 1<<16, isNull(v)
		default:
			return s.otherMember(key, threadItemFields())
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
	if !ok || it.Type != ItemCommandExecution && it.Type != ItemAgentMessage {
		return nil, false
	}
	return it, true
}
