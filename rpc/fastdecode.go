package rpc

import (
	"strconv"

	"github.com/codexhost/codexhost/internal/jsonscan"
)

// decodeFast decodes the messages app-server sends by the thousand
// (notifications, requests and successful responses, with plain member
// names and a plain method) in one pass and without encoding/json, which
// would scan each line twice. It returns nil for anything else (an error
// response, a duplicate or unknown member, escapes in the method or a
// string id, a null, invalid JSON): decodeSlow then decides, so that the
// result and every error are exactly encoding/json's. FuzzDecodeMessage
// checks that both paths agree.
func decodeFast(data []byte) Message { return decodeFastWith(data, nil) }

// decodeFastWith is decodeFast handing the params of a request to pd
// while it scans the line (see ParamsDecoder), when the method precedes
// them, as app-server writes it.
func decodeFastWith(data []byte, pd ParamsDecoder) Message {
	b := data
	i := jsonscan.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil
	}
	var (
		id                       ID
		hasID, hasMethod, hasRes bool
		method                   string
		params, result           []byte
		decoded                  any
		isDecoded                bool
		seen                     uint8
	)
	i = jsonscan.SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil // not a message; decodeSlow says why
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil
		}
		kend, plain, ok := jsonscan.ScanString(b, i)
		if !ok || !plain {
			return nil
		}
		key := b[i+1 : kend-1]
		i = jsonscan.SkipSpace(b, kend)
		if i >= len(b) || b[i] != ':' {
			return nil
		}
		var bit uint8
		switch string(key) {
		case "id":
			bit = 1
		case "method":
			bit = 2
		case "params":
			bit = 4
		case "result":
			bit = 8
		case "jsonrpc":
			bit = 16
		default:
			return nil
		}
		if seen&bit != 0 {
			return nil
		}
		seen |= bit
		i = jsonscan.SkipSpace(b, i+1)
		vstart := i
		var rest []byte // the copy handed to pd, if any
		if bit == 4 && pd != nil && seen&2 != 0 && i < len(b) {
			// One pass: the decoder scans the params where they are,
			// in the Request's own copy of the rest of the line.
			rest = append([]byte(nil), b[i:]...)
			if v, n, ok := pd.DecodeParams(method, rest); ok && n > 0 && n <= len(rest) {
				params, decoded, isDecoded = rest[:n:n], v, true
				i = jsonscan.SkipSpace(b, i+n)
				if i >= len(b) {
					return nil
				}
				if b[i] == '}' {
					break
				}
				if b[i] != ',' {
					return nil
				}
				i = jsonscan.SkipSpace(b, i+1)
				continue
			}
		}
		vend, ok := jsonscan.SkipValue(b, i)
		if !ok {
			return nil
		}
		v := b[vstart:vend]
		switch bit {
		case 1:
			switch v[0] {
			case '"':
				_, plain, _ := jsonscan.ScanString(v, 0)
				if !plain {
					return nil
				}
				id = StringID(string(v[1 : len(v)-1]))
			case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				n, err := strconv.ParseInt(string(v), 10, 64)
				if err != nil {
					return nil
				}
				id = Int64ID(n)
			default:
				return nil
			}
			hasID = true
		case 2:
			if v[0] != '"' || len(v) == 2 {
				return nil
			}
			if _, plain, _ := jsonscan.ScanString(v, 0); !plain {
				return nil
			}
			method, hasMethod = string(v[1:len(v)-1]), true
		case 4:
			if rest != nil { // declined by pd: its copy serves
				params = rest[:len(v):len(v)]
			} else {
				params = append([]byte(nil), v...)
			}
		case 8:
			result, hasRes = append([]byte(nil), v...), true
		}
		i = jsonscan.SkipSpace(b, vend)
		if i >= len(b) {
			return nil
		}
		if b[i] == '}' {
			break
		}
		if b[i] != ',' {
			return nil
		}
		i = jsonscan.SkipSpace(b, i+1)
	}
	if jsonscan.SkipSpace(b, i+1) != len(b) {
		return nil
	}
	switch {
	case hasMethod && !hasRes:
		r := &Request{ID: id, Method: method, Params: params}
		if isDecoded {
			r.Decoded = decoded
		} else {
			decodeParams(r, pd)
		}
		return r
	case hasRes && !hasMethod && hasID && params == nil:
		return &Response{ID: id, Result: result}
	}
	return nil
}

// decodeParams has pd decode r's params when the line's scan could not
// hand them over (they came before the method, or decodeSlow decoded the
// line): on the params alone, which must be exactly one value.
func decodeParams(r *Request, pd ParamsDecoder) {
	if pd == nil || len(r.Params) == 0 {
		return
	}
	if v, n, ok := pd.DecodeParams(r.Method, r.Params); ok && n == len(r.Params) {
		r.Decoded = v
	}
}
