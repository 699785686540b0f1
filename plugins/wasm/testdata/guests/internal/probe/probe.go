// Package probe is the approval handler of the sandbox test guests: the
// command of an approval request names something to try, and the reason
// of the (accepting) answer tells what happened.
//
//	env NAME      the variable's value, or "unset"
//	read PATH     the file's content, or "error: ..."
//	list PATH     the directory's entries, or "error: ..."
//	write PATH    "written", or "error: ..."
//	print N       writes N bytes to stdout, in lines of 100, then "printed"
package probe

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/codexhost/codexhost/abi"
)

// Approve is the OnApproval handler.
func Approve(ctx context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
	op, arg, _ := strings.Cut(req.Command, " ")
	return &abi.ApprovalResponse{Decision: abi.Accept, Reason: try(op, arg)}, nil
}

func try(op, arg string) string {
	switch op {
	case "env":
		if v, ok := os.LookupEnv(arg); ok {
			return v
		}
		return "unset"
	case "read":
		b, err := os.ReadFile(arg)
		if err != nil {
			return "error: " + err.Error()
		}
		return string(b)
	case "list":
		es, err := os.ReadDir(arg)
		if err != nil {
			return "error: " + err.Error()
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return strings.Join(names, ",")
	case "write":
		if err := os.WriteFile(arg, []byte("pwned"), 0o644); err != nil {
			return "error: " + err.Error()
		}
		return "written"
	case "print":
		n, _ := strconv.Atoi(arg)
		line := strings.Repeat("o", 99) + "\n"
		for i := 0; i < n; i += len(line) {
			fmt.Print(line)
		}
		return "printed"
	}
	return "unknown probe " + op
}
