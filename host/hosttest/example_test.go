package hosttest_test

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"

	"github.com/codexhost/codexhost/host/hosttest"
)

// A turn in which the model runs a command, then answers once the command's
// output comes back. Here plain HTTP requests stand in for codex.
func ExampleTurn() {
	m, err := hosttest.StartModel(&hosttest.ModelOptions{
		Script: hosttest.Turn(
			hosttest.ExecCommand("touch approved.txt"),
			hosttest.Text("done"),
		),
	})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	send := func(input string) {
		resp, err := http.Post(m.URL()+"/responses", "application/json",
			strings.NewReader(`{"model":"mock-model","input":[`+input+`]}`))
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var names []string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				names = append(names, name)
			}
		}
		fmt.Println(strings.Join(names, " "))
	}
	send(`{"type":"message","role":"user","content":[{"type":"input_text","text":"go"}]}`)
	send(`{"type":"function_call_output","call_id":"call_0_0","output":"ok"}`)

	reqs := m.Requests()
	fmt.Println(len(reqs), reqs[1].IsToolFollowUp())
	out, _ := reqs[1].ToolOutput("call_0_0")
	fmt.Println(out.Text())
	// Output:
	// response.created response.output_item.done response.completed
	// response.created response.output_item.added response.output_text.delta response.output_item.done response.completed
	// 2 true
	// ok
}
