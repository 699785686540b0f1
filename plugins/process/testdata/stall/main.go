// Command stall is a test plugin of a review (round 7): it writes a handshake line
// that names a unix socket it does not serve ($STALL_SOCKET: a socket
// that accepts connections and never answers, as a daemon the plugin left
// behind would), then waits.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	fmt.Printf("1|1|%s|%s|grpc\n", os.Getenv("STALL_NET"), os.Getenv("STALL_ADDR"))
	time.Sleep(time.Hour)
}
