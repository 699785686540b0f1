package abijson

import (
	"strconv"

	"github.com/codexhost/codexhost/abi"
)

// AppendApprovalRequest appends v's JSON as json.Marshal writes it.
func AppendApprovalRequest(dst []byte, v *abi.ApprovalRequest) ([]byte, error) {
	dst = append(dst, `{"kind":`...)
	dst = AppendString(dst, string(v.Kind))
	if v.Legacy {
		dst = append(dst, `,"legacy":true`...)
	}
	dst = append(dst, `,"threadId":`...)
	dst = AppendString(dst, v.ThreadID)
	dst = appendOptString(dst, `,"turnId":`, v.TurnID)
	dst = appendOptString(dst, `,"itemId":`, v.ItemID)
	dst = appendOptString(dst, `,"reason":`, v.Reason)
	dst = appendOptString(dst, `,"cwd":`, v.Cwd)
	dst = appendOptString(dst, `,"command":`, v.Command)
	if len(v.Actions) > 0 {
		dst = append(dst, `,"actions":[`...)
		for i := range v.Actions {
			if i > 0 {
				dst = append(dst, ',')
			}
			a := &v.Actions[i]
			dst = append(dst, `{"type":`...)
			dst = AppendString(dst, a.Type)
			dst = append(dst, `,"command":`...)
			dst = AppendString(dst, a.Command)
			dst = appendOptString(dst, `,"path":`, a.Path)
			dst = appendOptString(dst, `,"query":`, a.Query)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if len(v.ProposedAmendment) > 0 {
		dst = append(dst, `,"proposedAmendment":`...)
		dst = AppendStrings(dst, v.ProposedAmendment)
	}
	if n := v.Network; n != nil {
		dst = append(dst, `,"network":{"host":`...)
		dst = AppendString(dst, n.Host)
		dst = appendOptString(dst, `,"protocol":`, n.Protocol)
		dst = append(dst, '}')
	}
	if len(v.Changes) > 0 {
		dst = append(dst, `,"changes":[`...)
		for i := range v.Changes {
			if i > 0 {
				dst = append(dst, ',')
			}
			c := &v.Changes[i]
			dst = append(dst, `{"path":`...)
			dst = AppendString(dst, c.Path)
			dst = append(dst, `,"kind":`...)
			dst = AppendString(dst, c.Kind)
			dst = appendOptString(dst, `,"movePath":`, c.MovePath)
			dst = appendOptString(dst, `,"diff":`, c.Diff)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = appendOptString(dst, `,"grantRoot":`, v.GrantRoot)
	if v.Permissions != nil {
		dst = append(dst, `,"permissions":`...)
		var err error
		if dst, err = appendPermissions(dst, v.Permissions); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// AppendApprovalResponse appends v's JSON as json.Marshal writes it. The
// only possible error is an invalid Granted.Raw.
func AppendApprovalResponse(dst []byte, v *abi.ApprovalResponse) ([]byte, error) {
	dst = append(dst, `{"decision":`...)
	dst = AppendString(dst, string(v.Decision))
	dst = appendOptString(dst, `,"reason":`, v.Reason)
	if len(v.Amendment) > 0 {
		dst = append(dst, `,"amendment":`...)
		dst = AppendStrings(dst, v.Amendment)
	}
	if r := v.NetworkRule; r != nil {
		dst = append(dst, `,"networkRule":{"host":`...)
		dst = AppendString(dst, r.Host)
		dst = append(dst, `,"action":`...)
		dst = AppendString(dst, r.Action)
		dst = append(dst, '}')
	}
	if v.Granted != nil {
		dst = append(dst, `,"granted":`...)
		var err error
		if dst, err = appendPermissions(dst, v.Granted); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

func appendPermissions(dst []byte, p *abi.Permissions) ([]byte, error) {
	dst = append(dst, '{')
	n := len(dst)
	if len(p.ReadPaths) > 0 {
		dst = append(dst, `"readPaths":`...)
		dst = AppendStrings(dst, p.ReadPaths)
	}
	if len(p.WritePaths) > 0 {
		dst = appendSep(dst, n, `"writePaths":`)
		dst = AppendStrings(dst, p.WritePaths)
	}
	if p.Network {
		dst = appendSep(dst, n, `"network":true`)
	}
	if len(p.Raw) > 0 {
		dst = appendSep(dst, n, `"raw":`)
		var err error
		if dst, err = AppendRaw(dst, p.Raw); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// appendSep appends a member name, after a comma unless dst has grown no
// further than n (the object's first member).
func appendSep(dst []byte, n int, name string) []byte {
	if len(dst) > n {
		dst = append(dst, ',')
	}
	return append(dst, name...)
}

func appendOptString(dst []byte, name, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, name...)
	return AppendString(dst, s)
}

// AppendError appends e's JSON as json.Marshal writes it.
func AppendError(dst []byte, e *abi.Error) []byte {
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendInt(dst, int64(e.Code), 10)
	dst = append(dst, `,"message":`...)
	dst = AppendString(dst, e.Message)
	return append(dst, '}')
}
