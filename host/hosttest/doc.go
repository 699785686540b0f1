// Package hosttest runs a fake OpenAI Responses API server so that the real
// `codex app-server` can be driven offline, in tests and in demos.
//
// A typical setup:
//
//	m, err := hosttest.StartModel(&hosttest.ModelOptions{
//		Script: hosttest.Turn(
//			hosttest.ExecCommand("touch approved.txt"), // first request of the turn
//			hosttest.Text("done"),                      // after the tool output came back
//		),
//	})
//	if err != nil { ... }
//	defer m.Close()
//	home := filepath.Join(tmp, "codex-home")
//	if err := hosttest.WriteCodexHome(home, m.URL(), nil); err != nil { ... }
//	// start `codex app-server` with CODEX_HOME=home
//
// Every POST to .../responses is recorded (see [Model.Requests]) and answered
// by the [Script] with one [Reply]: a stream of server-sent events, or an
// HTTP error. A [Reply] is itself a [Script] that always answers with itself.
//
// The package does not depend on package testing, so it can be used by
// programs as well as by tests.
//
// # What the replies make codex 0.169.0 do
//
// Observed with the real binary, config from WriteCodexHome defaults
// (approval_policy "on-request", sandbox_mode "read-only"):
//
//   - [Text], [TextDeltas], [Deltas]: one item/agentMessage/delta
//     notification per non-empty delta, in order, then item/completed and
//     turn/completed (status "completed").
//   - [ExecCommand]: server request item/commandExecution/requestApproval;
//     the client answers {"decision":"accept"} (command runs in the turn's
//     cwd), "decline" (the model gets an error output, the turn goes on) or
//     "cancel" (turn/completed with status "interrupted").
//   - [ApplyPatch]: server request item/fileChange/requestApproval, answered
//     {"decision":"accept"|"decline"|"cancel"}. With sandbox_mode
//     "workspace-write" the patch is applied without asking.
//   - [RequestUserInput]: server request item/tool/requestUserInput, answered
//     {"answers":{"<question id>":{"answers":["<label or text>"]}}}. Needs
//     plan collaboration mode in turn/start or
//     CodexHomeOptions.RequestUserInput.
//   - [FunctionCall] of a dynamic tool (thread/start dynamicTools, which
//     needs initialize capabilities.experimentalApi): server request
//     item/tool/call, answered {"contentItems":[{"type":"inputText",
//     "text":"..."}],"success":true}; the text reaches the next request as
//     the function_call_output.
//   - [HTTPError], [Failed], [Reply.Truncated]: an "error" notification
//     (willRetry false) and turn/completed with status "failed".
//   - [Reply.WithDelay], [Hang]: the stream stays open; on turn/interrupt
//     codex drops the connection and sends turn/completed with status
//     "interrupted".
package hosttest
