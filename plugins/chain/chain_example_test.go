package chain_test

import (
	"context"
	"fmt"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/chain"
)

// Hot reload: a new policy replaces the old one between requests; the
// old plugins are closed once no request uses them. A monitor-mode
// member is asked and recorded but does not decide.
func ExampleChain_Swap() {
	record := func(r *chain.DecisionRecord) {
		for _, a := range r.Answers {
			fmt.Printf("set %d: %s said %s (monitor: %v)\n", r.Generation, a.Plugin, a.Decision, a.Monitor)
		}
		fmt.Printf("set %d: %s\n", r.Generation, r.Decision)
	}
	ch, _ := chain.New(&chain.Options{
		Members:    []chain.Member{{Plugin: decides("v1", abi.Accept)}},
		OnDecision: record,
	})
	ctx := context.Background()
	_, _ = serveRaw(ctx, ch, commandRequest("make"))

	// Roll out v2 in monitor mode next to v1, then make it decide.
	retired, _ := ch.Swap(&chain.PluginSet{Members: []chain.Member{
		{Plugin: decides("v1", abi.Accept)},
		{Plugin: decides("v2", abi.Decline), Monitor: true},
	}})
	_ = retired.Wait(ctx) // then close the old set's plugins
	_, _ = serveRaw(ctx, ch, commandRequest("make"))

	_, _ = ch.Swap(&chain.PluginSet{Members: []chain.Member{{Plugin: decides("v2", abi.Decline)}}})
	_, _ = serveRaw(ctx, ch, commandRequest("make"))
	// Output:
	// set 1: v1 said accept (monitor: false)
	// set 1: accept
	// set 2: v1 said accept (monitor: false)
	// set 2: v2 said decline (monitor: true)
	// set 2: accept
	// set 3: v2 said decline (monitor: false)
	// set 3: decline
}
