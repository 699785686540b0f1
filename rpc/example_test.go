package rpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"

	"github.com/codexhost/codexhost/rpc"
)

// Two Conns over an in-memory pipe: the client calls "add", the server
// answers.
func Example() {
	clientSide, serverSide := net.Pipe()

	server := rpc.NewConn(serverSide, &rpc.Options{
		Handler: rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
			if req.Method != "add" {
				return nil, rpc.ErrMethodNotFound
			}
			var args [2]int
			if err := json.Unmarshal(req.Params, &args); err != nil {
				return nil, rpc.NewError(rpc.ErrInvalidParams.Code, err.Error())
			}
			return args[0] + args[1], nil
		}),
	})
	client := rpc.NewConn(clientSide, nil)

	ctx := context.Background()
	var sum int
	if err := client.Call(ctx, "add", [2]int{2, 3}, &sum); err != nil {
		fmt.Println("call failed:", err)
		return
	}
	fmt.Println("2 + 3 =", sum)

	err := client.Call(ctx, "sub", [2]int{2, 3}, &sum)
	fmt.Println(err, errors.Is(err, rpc.ErrMethodNotFound))

	// Closing one side ends the other with ErrPeerClosed.
	fmt.Println(client.Close(), client.Wait())
	fmt.Println(errors.Is(server.Wait(), rpc.ErrPeerClosed))

	// Output:
	// 2 + 3 = 5
	// rpc: method not found (code -32601) true
	// <nil> <nil>
	// true
}
