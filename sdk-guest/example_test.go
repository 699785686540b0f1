package guest_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

// A complete approval policy registers its handler in init; main only
// calls guest.Main. Here the host's calls are simulated with guest.Handle.
func Example() {
	// func init() {
	guest.Info("deny-rm", "1.0.0", "declines rm, accepts echo")
	guest.OnApproval(func(ctx context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
		if strings.Contains(req.Command, "rm ") {
			return &abi.ApprovalResponse{Decision: abi.Decline, Reason: "no rm"}, nil
		}
		return &abi.ApprovalResponse{Decision: abi.Abstain}, nil
	})
	// }
	// func main() { guest.Main() }

	m := guest.Manifest()
	fmt.Println(m.Name, m.Hooks)
	for _, cmd := range []string{"rm -rf /", "echo hi"} {
		req := fmt.Sprintf(`{"kind":"command","threadId":"t1","command":%q}`, cmd)
		status, resp := guest.Handle(context.Background(), abi.HookApproval, []byte(req))
		fmt.Println(status, string(resp))
	}
	status, resp := guest.Handle(context.Background(), abi.HookEventRender, []byte(`{"events":[]}`))
	fmt.Println(status, string(resp))
	// Output:
	// deny-rm [approval]
	// 0 {"decision":"decline","reason":"no rm"}
	// 0 {"decision":"abstain"}
	// 1 {"code":2,"message":"plugin \"deny-rm\" does not implement the event-render hook"}
}

// A tool's arguments (or a plugin's settings) read without encoding/json.
func ExampleDecodeObject() {
	var args struct {
		Text  string
		Limit int
		Tags  []string
	}
	err := guest.DecodeObject([]byte(`{"text":"hello world","limit":3,"tags":["a","b"],"other":{"x":1}}`),
		guest.StringField("text", &args.Text),
		guest.IntField("limit", &args.Limit),
		guest.StringsField("tags", &args.Tags))
	fmt.Println(args.Text, args.Limit, args.Tags, err)

	err = guest.DecodeObject([]byte(`{"limit":"three"}`), guest.IntField("limit", &args.Limit))
	fmt.Println(err)
	// Output:
	// hello world 3 [a b] <nil>
	// member "limit": cannot unmarshal string into Go value of type int (offset 9)
}
