package abijson

import (
	"github.com/codexhost/codexhost/abi"
)

// DecodeApprovalRequest decodes data into *v like json.Unmarshal. Decoded
// strings and RawJSON share one copy of data; data is not retained.
func DecodeApprovalRequest(data []byte, v *abi.ApprovalRequest) error {
	d := newDecoder(data)
	if d.peek() != '{' {
		return d.top("abi.ApprovalRequest")
	}
	if err := d.decodeApprovalRequest(v); err != nil {
		return err
	}
	return d.end()
}

// approvalBlock allocates a request with what it usually points to at
// once: one allocation instead of up to six.
type approvalBlock struct {
	req     abi.ApprovalRequest
	net     abi.NetworkAccess
	perm    abi.Permissions
	actions [4]abi.CommandAction
	changes [2]abi.FileChange
	strs    [8]string
}

// NewApprovalRequest decodes data into a new request, as
// DecodeApprovalRequest into a zero value, with fewer allocations.
func NewApprovalRequest(data []byte) (*abi.ApprovalRequest, error) {
	blk := new(approvalBlock)
	d := newDecoder(data)
	d.net, d.perm = &blk.net, &blk.perm
	d.actions, d.changes, d.strs = blk.actions[:0:len(blk.actions)], blk.changes[:0:len(blk.changes)], blk.strs[:0:len(blk.strs)]
	if d.peek() != '{' {
		return &blk.req, d.top("abi.ApprovalRequest")
	}
	if err := d.decodeApprovalRequest(&blk.req); err != nil {
		return nil, err
	}
	return &blk.req, d.end()
}

// DecodeApprovalResponse decodes data into *v like json.Unmarshal.
func DecodeApprovalResponse(data []byte, v *abi.ApprovalResponse) error {
	d := newDecoder(data)
	if d.peek() != '{' {
		return d.top("abi.ApprovalResponse")
	}
	if err := d.decodeApprovalResponse(v); err != nil {
		return err
	}
	return d.end()
}

// top handles a top-level value that is not an object: null leaves the
// value unchanged, anything else is an error.
func (d *decoder) top(goType string) error {
	if d.peek() != 'n' {
		return d.valueTypeError(goType)
	}
	if err := d.literal("null"); err != nil {
		return err
	}
	return d.end()
}
