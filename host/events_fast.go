package host

import (
	"encoding/json"
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
// (every delta kind, and others with nothing nested that codexhost reads)
// in one pass, without encoding/json. It reports false, having decoded
// nothing, for anything else: a member decodeEvent must decode itself
// (item, turn, tokenUsage, error, willRetry, thread), a member name that
// only matches case-insensitively or has escapes, a duplicate, a value
// that is not a string, invalid JSON. decodeEvent then takes its usual
// path, so the result is always encoding/json's (FuzzDecodeEvent checks).
func decodeEventFast(method string, kind abi.EventKind, params json.RawMessage, ids *idCache, buf *[]byte) (*Event, bool) {
	b := []byte(params)
	i := jsonscan.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	ev := &Event{Method: method, Params: params, Kind: kind}
	var seen uint8
	i = jsonscan.SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return nil, false
			}
			kend, plain, ok := jsonscan.ScanString(b, i)
			if !ok || !plain {
				return nil, false
			}
			key := b[i+1 : kend-1]
			i = jsonscan.SkipSpace(b, kend)
			if i >= len(b) || b[i] != ':' {
				return nil, false
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
			default:
				*buf = appendLowerASCII((*buf)[:0], key)
				if envelopeKeys[string(*buf)] {
					return nil, false
				}
			}
			i = jsonscan.SkipSpace(b, i+1)
			vstart := i
			vend, ok := jsonscan.SkipValue(b, i)
			if !ok {
				return nil, false
			}
			v := b[vstart:vend]
			if bit != 0 {
				if seen&bit != 0 || v[0] != '"' {
					return nil, false
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
				return nil, false
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return nil, false
			}
			i = jsonscan.SkipSpace(b, i+1)
		}
	}
	if jsonscan.SkipSpace(b, i) != len(b) {
		return nil, false
	}
	switch kind {
	case abi.EventItemStarted, abi.EventItemCompleted, abi.EventTurnStarted, abi.EventTurnCompleted, abi.EventTokenUsage, abi.EventError:
		// Their nested member is missing: decodeEvent reports that.
		return nil, false
	}
	return ev, true
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
		if ev, ok := decodeEventFast(method, kind, params, &r.ids, &r.scratch); ok {
			return ev, nil
		}
	}
	return decodeEvent(method, params)
}
