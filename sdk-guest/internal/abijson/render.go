package abijson

import "github.com/codexhost/codexhost/abi"

// DecodeRenderRequest decodes data into *v like json.Unmarshal. Decoded
// strings and RawJSON share one copy of data; data is not retained.
func DecodeRenderRequest(data []byte, v *abi.RenderRequest) error {
	d := newDecoder(data)
	if d.peek() != '{' {
		return d.top("abi.RenderRequest")
	}
	if err := d.decodeRenderRequest(v); err != nil {
		return err
	}
	return d.end()
}

// NewRenderRequest decodes data into a new request, as DecodeRenderRequest
// into a zero value.
func NewRenderRequest(data []byte) (*abi.RenderRequest, error) {
	v := new(abi.RenderRequest)
	if err := DecodeRenderRequest(data, v); err != nil {
		return nil, err
	}
	return v, nil
}

// AppendRenderResponse appends v's JSON as json.Marshal writes it.
func AppendRenderResponse(dst []byte, v *abi.RenderResponse) []byte {
	if v.Output == "" {
		return append(dst, "{}"...)
	}
	dst = append(dst, `{"output":`...)
	dst = AppendString(dst, v.Output)
	return append(dst, '}')
}
