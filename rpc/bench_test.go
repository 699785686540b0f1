package rpc_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"

	"github.com/codexhost/codexhost/rpc"
)

// lineSource yields n notification lines, then EOF.
type lineSource struct {
	n, i int
	cur  []byte
	off  int
}

func (s *lineSource) Read(p []byte) (int, error) {
	total := 0
	for total < len(p) {
		if s.off == len(s.cur) {
			if s.i == s.n {
				if total == 0 {
					return 0, io.EOF
				}
				break
			}
			s.cur = strconv.AppendInt(append(s.cur[:0], `{"method":"item/agentMessage/delta","params":{"threadId":"t1","turnId":"u1","itemId":"i1","delta":"hello world ","seq":`...), int64(s.i), 10)
			s.cur = append(s.cur, "}}\n"...)
			s.off = 0
			s.i++
		}
		n := copy(p[total:], s.cur[s.off:])
		s.off += n
		total += n
	}
	return total, nil
}

type readOnly struct{ io.Reader }

func (readOnly) Write(p []byte) (int, error) { return len(p), nil }
func (readOnly) Close() error                { return nil }

// BenchmarkIncomingNotifications measures decoding and in-order delivery of
// notifications (one op = one notification).
func BenchmarkIncomingNotifications(b *testing.B) {
	count := 0
	c := rpc.NewConn(readOnly{&lineSource{n: b.N}}, &rpc.Options{
		Notifications: rpc.NotificationHandlerFunc(func(context.Context, *rpc.Request) { count++ }),
	})
	b.ReportAllocs()
	b.ResetTimer()
	err := c.Wait()
	b.StopTimer()
	if !errors.Is(err, rpc.ErrPeerClosed) || count != b.N {
		b.Fatalf("err %v, delivered %d of %d", err, count, b.N)
	}
}

// BenchmarkCall measures a round trip between two Conns over net.Pipe.
func BenchmarkCall(b *testing.B) {
	x, y := net.Pipe()
	server := rpc.NewConn(y, &rpc.Options{Handler: echo})
	client := rpc.NewConn(x, nil)
	defer func() {
		_ = client.Close()
		_ = client.Wait()
		_ = server.Wait()
	}()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var out map[string]int
		if err := client.Call(ctx, "echo", map[string]int{"a": 1}, &out); err != nil {
			b.Fatal(err)
		}
	}
}
